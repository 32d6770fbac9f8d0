"""A local GGUF model through llama-cpp-python, wrapped as a LangChain chat model.

The default model is Qwen2.5-Coder-1.5B-Instruct from the ``model`` extra's packages (the tests use the
0.5B one), assembled once into a cache directory (``summarizer.engines.packaged``): nothing is
downloaded at run time. Answers are constrained to the answer's JSON schema by llama.cpp's grammar.

``llamacpp`` extracts every chunk's claims with the model and has it write the brief; ``hybrid`` is the cheap
combination: the grounded engine maps and reduces (no model call), and the model only writes the root's brief.
"""

import time
from collections.abc import Generator, Sequence
from functools import cache
from pathlib import Path
from types import MappingProxyType
from typing import Any, cast

import numpy as np
import numpy.typing as npt
from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import BaseMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from llama_cpp import Llama
from llama_cpp.llama_types import ChatCompletionRequestMessage, CreateChatCompletionResponse
from pydantic import ConfigDict

from summarizer.engines.base import EngineError
from summarizer.engines.grounded import DEFAULT_PHONE_REGION
from summarizer.engines.llm import HybridEngine, LLMEngine, Model, answer_message, repeats_a_fact
from summarizer.engines.options import LlamaCppOptions, LLMOptions
from summarizer.engines.packaged import assemble, packaged_model

ROLES = {"system": "system", "human": "user", "ai": "assistant"}


#: Tokens of a run that, generated a second time in one answer, show a model looping (a small model at
#: temperature 0 repeats one fact until the token limit): longer than the JSON between two facts' texts.
LOOP_TOKENS = 48


class TimedLlama(Llama):
    """A ``Llama`` whose generation stops at ``deadline`` (``time.monotonic()``), or when it starts repeating
    itself (:func:`repeats`, ``llm.repeats_a_fact``), checked every token. A stop for repeating keeps what was
    generated in ``looped`` (llama-cpp-python's completion drops the text of a generation its stopping criterion
    ends)."""

    deadline: float = float("inf")
    looped: list[int] | None = None

    def generate(self, tokens: Sequence[int], *args: Any, **kwargs: Any) -> Generator[int, Sequence[int] | None, None]:
        previous = kwargs.get("stopping_criteria")
        prompt_tokens = len(tokens)
        self.looped = None
        answer = bytearray()  # the generated tokens' bytes, each token detokenized once
        decoded = 0  # how many generated tokens ``answer`` holds

        def stop(ids: npt.NDArray[np.intc], logits: npt.NDArray[np.single]) -> bool:
            nonlocal decoded
            generated = ids[prompt_tokens:]
            answer.extend(self.detokenize(generated[decoded:].tolist()))
            decoded = len(generated)
            if repeats(generated, LOOP_TOKENS) or repeats_a_fact(answer.decode(errors="ignore")):
                self.looped = generated.tolist()
                return True
            return time.monotonic() > self.deadline or bool(previous and previous(ids, logits))

        kwargs["stopping_criteria"] = stop
        return super().generate(tokens, *args, **kwargs)


def repeats(generated: npt.NDArray[np.intc], run: int) -> bool:
    """Whether the last ``run`` tokens of ``generated`` occurred earlier in it: the model is looping."""
    if len(generated) < 2 * run:
        return False
    width = generated.itemsize
    tail, earlier = generated[-run:].tobytes(), generated[:-1].tobytes()
    found = earlier.find(tail)
    while found != -1 and found % width:  # a match across token boundaries is no repeated run
        found = earlier.find(tail, found + 1)
    return found != -1


class ChatLlamaCpp(BaseChatModel):
    """LangChain chat model over a loaded ``llama_cpp.Llama``; extra call arguments go to
    ``create_chat_completion`` (``response_format``, ``temperature``, ``max_tokens`` overriding the model's)."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    llm: TimedLlama
    model_name: str
    max_tokens: int
    timeout: float

    @property
    def _llm_type(self) -> str:
        return "llama-cpp-python"

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        self.llm.deadline = time.monotonic() + self.timeout
        try:
            response = cast(
                CreateChatCompletionResponse,
                self.llm.create_chat_completion(
                    messages=[chat_message(message) for message in messages],
                    stop=stop,
                    **{"max_tokens": self.max_tokens, **kwargs},
                ),
            )
        finally:
            timed_out = time.monotonic() > self.llm.deadline
            self.llm.deadline = float("inf")
        if timed_out:
            raise TimeoutError(f"{self.model_name}: no answer within {self.timeout:g} s")
        usage, choice = response["usage"], response["choices"][0]
        content, finish_reason, completion = choice["message"]["content"] or "", choice["finish_reason"], None
        if self.llm.looped is not None:  # stopped repeating itself: the text up to there, as a stopped answer
            content = self.llm.detokenize(self.llm.looped).decode("utf-8", errors="ignore")
            finish_reason, completion = "stop", len(self.llm.looped)
        message = answer_message(
            content,
            prompt_tokens=usage["prompt_tokens"],
            completion_tokens=usage["completion_tokens"] if completion is None else completion,
            metadata={"model_name": self.model_name, "finish_reason": finish_reason},
        )
        return ChatResult(generations=[ChatGeneration(message=message)])


def chat_message(message: BaseMessage) -> ChatCompletionRequestMessage:
    """A LangChain message as llama-cpp-python's chat completion takes it."""
    role = ROLES.get(message.type, "user")
    return cast(ChatCompletionRequestMessage, {"role": role, "content": str(message.content)})


@cache
def load_llama(path: str, n_ctx: int, n_threads: int) -> TimedLlama:
    """A loaded model, shared by every engine in the process that asks for the same one."""
    if not Path(path).is_file():
        raise EngineError(f"llamacpp engine: no GGUF model at {path}")
    return TimedLlama(model_path=path, n_ctx=n_ctx, n_threads=n_threads, n_threads_batch=n_threads, verbose=False)


def model_path(local: LlamaCppOptions) -> str:
    """The write model's GGUF: the one given, else the packaged one assembled into the cache directory."""
    if local.model:
        return local.model
    if local.cache_dir is None:
        raise EngineError(
            "llamacpp engine: give a GGUF model, or a cache directory to assemble the packaged model into"
        )
    return str(assemble(packaged_model(local.packaged), local.cache_dir))


class LlamaCppEngine(LLMEngine):
    """A local GGUF model (``llamacpp.model``) that writes, and maps unless ``llamacpp.map_model`` is given."""

    name = "llamacpp"
    #: a mild penalty keeps a small model from repeating one sentence until the length limit (1.5B, measured)
    write_sampling = MappingProxyType({"repeat_penalty": 1.1})

    def __init__(
        self,
        *,
        language: str = "en",
        llamacpp: LlamaCppOptions | None = None,
        llm: LLMOptions | None = None,
        phone_region: str = DEFAULT_PHONE_REGION,
    ):
        local, llm = llamacpp or LlamaCppOptions(), llm or LLMOptions()
        write_path = model_path(local)
        map_path = self._map_path(local, write_path)
        super().__init__(
            self._model(map_path, local, llm),
            self._model(write_path, local, llm),
            context_window=local.n_ctx,
            language=language,
            options=llm,
            phone_region=phone_region,
        )
        self.tokenizer = load_llama(map_path, local.n_ctx, local.threads)

    @staticmethod
    def _map_path(local: LlamaCppOptions, write_path: str) -> str:
        """The GGUF that maps chunks: ``map_model``, else the write model."""
        return local.map_model or write_path

    @staticmethod
    def _model(path: str, local: LlamaCppOptions, llm: LLMOptions) -> Model:
        loaded = load_llama(path, local.n_ctx, local.threads)
        chat = ChatLlamaCpp(
            llm=loaded, model_name=Path(path).name, max_tokens=llm.max_tokens, timeout=llm.timeout_seconds
        )
        return Model(chat, Path(path).name)

    def count_tokens(self, text: str) -> int:
        """Tokens of ``text`` with the map model's own tokenizer."""
        return len(self.tokenizer.tokenize(text.encode("utf-8"), add_bos=False, special=False))


class LlamaCppHybridEngine(HybridEngine, LlamaCppEngine):
    """``hybrid``: the grounded engine maps and reduces, the local model (``llamacpp.model``) writes the root's
    brief. Same options as ``llamacpp``; ``llamacpp.map_model`` is not loaded."""

    @staticmethod
    def _map_path(local: LlamaCppOptions, write_path: str) -> str:
        return write_path
