"""Small base for t2ml roles: autogen chat agents that consume and produce typed payloads."""
from __future__ import annotations

import json
import re
from importlib import resources
from string import Template
from typing import Any, Callable, ClassVar, Generic, Sequence, TypeVar

from autogen_agentchat.agents import BaseChatAgent
from autogen_agentchat.base import Response
from autogen_agentchat.messages import BaseChatMessage, StructuredMessage
from autogen_core import CancellationToken
from pydantic import BaseModel

In = TypeVar("In", bound=BaseModel)
Out = TypeVar("Out", bound=BaseModel)

Recorder = Callable[[dict[str, Any]], None]


def _no_record(event: dict[str, Any]) -> None:
    return None


class Role(BaseChatAgent, Generic[In, Out]):
    """A role reads the newest ``StructuredMessage[consumes]`` and answers with ``produces``.

    Subclasses implement :meth:`handle`. ``record`` receives every model request/response so the
    run's transcript holds them.
    """

    consumes: ClassVar[type[BaseModel]]
    produces: ClassVar[type[BaseModel]]

    def __init__(self, name: str, description: str, record: Recorder | None = None) -> None:
        super().__init__(name=name, description=description)
        self.record = record or _no_record

    @property
    def produced_message_types(self) -> Sequence[type[BaseChatMessage]]:
        return (StructuredMessage[self.produces],)  # type: ignore[name-defined]

    async def on_messages(self, messages: Sequence[BaseChatMessage], cancellation_token: CancellationToken) -> Response:
        payloads = [m.content for m in messages if isinstance(m, StructuredMessage) and isinstance(m.content, self.consumes)]
        if not payloads:
            raise TypeError(f"{self.name} expects a StructuredMessage[{self.consumes.__name__}]")
        out = await self.handle(payloads[-1], cancellation_token)  # type: ignore[arg-type]
        return Response(chat_message=StructuredMessage[type(out)](content=out, source=self.name))  # type: ignore[misc]

    async def handle(self, payload: In, cancellation_token: CancellationToken) -> Out:
        raise NotImplementedError

    async def on_reset(self, cancellation_token: CancellationToken) -> None:
        return None


def render_prompt(name: str, **values: Any) -> str:
    text = resources.files("t2ml.templates").joinpath(f"prompts/{name}.md").read_text("utf-8")
    return Template(text).safe_substitute({k: v if isinstance(v, str) else json.dumps(v) for k, v in values.items()})


_FENCE = re.compile(r"```(?:json)?\s*(.*?)```", re.S)


def parse_json_answer(text: str) -> Any:
    """Parse a model's JSON answer, tolerating code fences and prose around it."""
    candidates = [text.strip()] + [m.strip() for m in _FENCE.findall(text)]
    start, end = text.find("{"), text.rfind("}")
    if 0 <= start < end:
        candidates.append(text[start:end + 1])
    for cand in candidates:
        try:
            return json.loads(cand)
        except json.JSONDecodeError:
            continue
    raise ValueError(f"the answer is not JSON: {text[:200]!r}")
