"""A real HTTP server on loopback that speaks the OpenAI chat-completions API with scripted answers.

The tests drive whole ``t2ml run``s through the real ``openai`` client against it: nothing in the
client is mocked. A script is a function ``(request_json, call_number) -> Reply``; the server records
every request it received, and answers each with the reply's status, headers, delay and body.
"""
from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable


@dataclass
class Reply:
    content: str = ""
    status: int = 200
    delay_s: float = 0.0
    headers: dict[str, str] = field(default_factory=dict)
    prompt_tokens: int = 100
    completion_tokens: int = 50


Script = Callable[[dict[str, Any], int], Reply]


def completion(model: str, reply: Reply) -> dict[str, Any]:
    return {"id": f"chatcmpl-{time.time_ns()}", "object": "chat.completion", "created": int(time.time()), "model": model,
            "choices": [{"index": 0, "finish_reason": "stop", "logprobs": None,
                         "message": {"role": "assistant", "content": reply.content}}],
            "usage": {"prompt_tokens": reply.prompt_tokens, "completion_tokens": reply.completion_tokens,
                      "total_tokens": reply.prompt_tokens + reply.completion_tokens}}


class ScriptedOpenAIServer:
    """``with ScriptedOpenAIServer(script) as server:`` -> ``server.base_url`` ends in ``/v1``."""

    def __init__(self, script: Script) -> None:
        self.script = script
        self.requests: list[dict[str, Any]] = []
        self.statuses: list[int] = []
        self._lock = threading.Lock()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._httpd.server_address[1]}/v1"

    def __enter__(self) -> "ScriptedOpenAIServer":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # quiet
                return None

            def _send(self, status: int, body: dict[str, Any], headers: dict[str, str]) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                for k, v in headers.items():
                    self.send_header(k, v)
                self.end_headers()
                try:
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):  # the client gave up (timeout test)
                    pass

            def do_GET(self) -> None:  # GET /v1/models
                self._send(200, {"object": "list", "data": [{"id": "scripted", "object": "model"}]}, {})

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
                with server._lock:
                    n = len(server.requests)
                    server.requests.append(body)
                reply = server.script(body, n)
                with server._lock:
                    server.statuses.append(reply.status)
                if reply.delay_s:
                    time.sleep(reply.delay_s)
                if reply.status != 200:
                    error = {"error": {"message": reply.content or f"scripted HTTP {reply.status}",
                                       "type": "scripted", "code": str(reply.status)}}
                    self._send(reply.status, error, reply.headers)
                    return
                self._send(200, completion(body.get("model", "scripted"), reply), reply.headers)

        return Handler


def user_texts(request: dict[str, Any]) -> list[str]:
    return [str(m.get("content", "")) for m in request.get("messages", []) if m.get("role") == "user"]


def role_of(request: dict[str, Any]) -> str:
    """'planner', 'repair:<module>' or 'coder:<module>', read off the prompts t2ml sends."""
    system = " ".join(str(m.get("content", "")) for m in request.get("messages", []) if m.get("role") == "system")
    users = user_texts(request)
    if "You plan" in system:
        return "planner"
    module = "?"
    if users and 'of the module "' in users[0]:
        module = users[0].split('of the module "', 1)[1].split('"', 1)[0]
    if users and "failed its contract tests" in users[-1] or users and "was rejected" in users[-1]:
        return f"repair:{module}"
    return f"coder:{module}"
