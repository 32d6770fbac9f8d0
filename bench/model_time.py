"""Seconds and tokens spent in model calls: every LangChain chat-model or LLM call made inside
``timing_model_calls()`` is timed from its start to its end (or error), and the tokens its answer reports are
added up, whichever engine makes it, through a LangChain configure hook (the engines need no change).
Loading a model and everything around the calls (prompts, parsing, grounding, a deterministic engine's
reading) is not counted.

    with timing_model_calls() as model:
        summarize(...)
    model.seconds, model.prompt_tokens + model.completion_tokens
"""

import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any
from uuid import UUID

from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.messages import AIMessage
from langchain_core.outputs import LLMResult
from langchain_core.tracers.context import register_configure_hook


class ModelCalls(BaseCallbackHandler):
    """Sums the wall-clock seconds and the reported tokens of the model calls it sees."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self.calls = 0
        self.prompt_tokens = 0
        self.completion_tokens = 0
        self._started: dict[UUID, float] = {}

    def on_chat_model_start(self, serialized: dict[str, Any], messages: Any, *, run_id: UUID, **kwargs: Any) -> None:
        self._started[run_id] = time.perf_counter()

    def on_llm_start(self, serialized: dict[str, Any], prompts: list[str], *, run_id: UUID, **kwargs: Any) -> None:
        self._started[run_id] = time.perf_counter()

    def on_llm_end(self, response: LLMResult, *, run_id: UUID, **kwargs: Any) -> None:
        self._finish(run_id)
        for generations in response.generations:
            for generation in generations:
                message = getattr(generation, "message", None)
                if isinstance(message, AIMessage) and message.usage_metadata:
                    self.prompt_tokens += message.usage_metadata["input_tokens"]
                    self.completion_tokens += message.usage_metadata["output_tokens"]

    def on_llm_error(self, error: BaseException, *, run_id: UUID, **kwargs: Any) -> None:
        self._finish(run_id)

    def _finish(self, run_id: UUID) -> None:
        started = self._started.pop(run_id, None)
        if started is not None:
            self.seconds += time.perf_counter() - started
            self.calls += 1


_active: ContextVar[ModelCalls | None] = ContextVar("bench_model_calls", default=None)
register_configure_hook(_active, inheritable=True)


@contextmanager
def timing_model_calls() -> Iterator[ModelCalls]:
    """The seconds and tokens of the model calls made in this block (in this thread and context)."""
    calls = ModelCalls()
    token = _active.set(calls)
    try:
        yield calls
    finally:
        _active.reset(token)
