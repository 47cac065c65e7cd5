"""Token and cost accounting per role, with the run's hard model budgets."""
from __future__ import annotations

from pydantic import BaseModel, Field

from t2ml.errors import ModelBudgetExhausted

from .settings import ModelSettings

CHARS_PER_TOKEN = 3.0  # conservative (real tokenizers average ~4 characters per token on English and code)


class RoleUsage(BaseModel):
    calls: int = 0
    cached_calls: int = 0
    retries: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost: float = 0.0

    @property
    def tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


class Ledger(BaseModel):
    """Shared by every role's client view. ``exhausted`` says why model calls stopped, if they did."""

    settings: ModelSettings
    roles: dict[str, RoleUsage] = Field(default_factory=dict)
    exhausted: str | None = None

    @property
    def tokens(self) -> int:
        return sum(r.tokens for r in self.roles.values())

    @property
    def cost(self) -> float:
        return sum(r.cost for r in self.roles.values())

    def usage(self, role: str) -> RoleUsage:
        return self.roles.setdefault(role, RoleUsage())

    def completion_allowance(self, prompt_chars: int) -> int:
        """Completion tokens the next call may use so that no budget can be exceeded; raises when none are left."""
        s = self.settings
        prompt = int(prompt_chars / CHARS_PER_TOKEN) + 8
        allowance = s.max_output_tokens
        if s.max_tokens is not None:
            allowance = min(allowance, s.max_tokens - self.tokens - prompt)
        if s.max_cost is not None:
            left = s.max_cost - self.cost - s.cost_of(prompt, 0)
            if s.price_per_1m_output > 0:
                allowance = min(allowance, int(left * 1e6 / s.price_per_1m_output))
            elif left < 0:
                allowance = 0
        if allowance < 16:  # too little left for any useful answer
            self.exhausted = self._reason(prompt)
            raise ModelBudgetExhausted(self.exhausted, hint="raise --max-tokens / --max-cost, or leave them out")
        return allowance

    def _reason(self, prompt: int) -> str:
        s = self.settings
        if s.max_tokens is not None and self.tokens + prompt + 16 > s.max_tokens:
            return f"the token budget (--max-tokens {s.max_tokens}) ran out after {self.tokens} tokens"
        return f"the cost budget (--max-cost {s.max_cost}) ran out after {self.cost:.4f}"

    def add(self, role: str, prompt_tokens: int, completion_tokens: int, cached: bool, retries: int) -> None:
        u = self.usage(role)
        u.calls += 1
        u.retries += retries
        if cached:
            u.cached_calls += 1
            return
        u.prompt_tokens += prompt_tokens
        u.completion_tokens += completion_tokens
        u.cost += self.settings.cost_of(prompt_tokens, completion_tokens)

    def summary(self) -> dict[str, dict[str, float | int]]:
        out: dict[str, dict[str, float | int]] = {
            role: {**u.model_dump(), "tokens": u.tokens, "cost": round(u.cost, 6)} for role, u in self.roles.items()}
        if out:
            out["total"] = {"calls": sum(u.calls for u in self.roles.values()),
                            "cached_calls": sum(u.cached_calls for u in self.roles.values()),
                            "retries": sum(u.retries for u in self.roles.values()),
                            "prompt_tokens": sum(u.prompt_tokens for u in self.roles.values()),
                            "completion_tokens": sum(u.completion_tokens for u in self.roles.values()),
                            "tokens": self.tokens, "cost": round(self.cost, 6)}
        return out
