"""Any OpenAI-compatible endpoint (OpenAI, vLLM, Ollama, llama.cpp server) through langchain-openai.

Answers are streamed, so that one that starts repeating itself (a small model at temperature 0 repeats one
fact until the token limit) is stopped where it starts looping, as the ``llamacpp`` engine stops it in process,
instead of running to the limit on the server.
"""

from collections.abc import Generator
from contextlib import closing
from typing import Any, cast

import openai
from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models.chat_models import generate_from_stream
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from langchain_openai import ChatOpenAI

from summarizer.engines.base import EngineError
from summarizer.engines.grounded import DEFAULT_PHONE_REGION
from summarizer.engines.llm import LLMEngine, Model, answer_message, repeats_a_fact
from summarizer.engines.options import LLMOptions, OpenAIOptions
from summarizer.tokens import estimate_tokens

#: Characters of a run that, streamed a second time in one answer, show a model looping: longer than the JSON
#: between two facts' texts (about the 48 tokens of the llamacpp engine's check).
LOOP_CHARS = 160


class StreamingChatOpenAI(ChatOpenAI):
    """``ChatOpenAI`` that streams every answer and stops reading one that starts repeating itself
    (:func:`repeats`, ``llm.repeats_a_fact``): the text up to there is the answer, finished as "stop" (so that it
    is read as far as it is complete). Usage is the server's, estimated (``estimate_tokens``) when it reports none."""

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        chunks: list[ChatGenerationChunk] = []
        text = ""
        looped = False
        stream = self._stream(messages, stop=stop, run_manager=run_manager, stream_usage=True, **kwargs)
        with closing(cast(Generator[ChatGenerationChunk, None, None], stream)):  # closed: the server stops
            for chunk in stream:
                chunks.append(chunk)
                text += chunk.text
                if repeats(text, LOOP_CHARS) or repeats_a_fact(text):
                    looped = True
                    break
        generation = generate_from_stream(iter(chunks)).generations[0] if chunks else None
        message = generation.message if generation else AIMessage(content="")
        usage = message.usage_metadata if isinstance(message, AIMessage) else None
        prompt = usage["input_tokens"] if usage else sum(estimate_tokens(str(m.content)) for m in messages)
        completion = estimate_tokens(text) if looped or not usage else usage["output_tokens"]
        # a stream's finish reason comes in the last chunk's generation info, not in the message's metadata
        finish_reason = (
            "stop" if looped else (generation.generation_info or {}).get("finish_reason") if generation else None
        )
        metadata = {**message.response_metadata, "model_name": self.model_name, "finish_reason": finish_reason}
        answer = answer_message(text, prompt_tokens=prompt, completion_tokens=completion, metadata=metadata)
        return ChatResult(generations=[ChatGeneration(message=answer)])


def repeats(text: str, run: int) -> bool:
    """Whether the last ``run`` characters of ``text`` occurred earlier in it: the model is looping."""
    return len(text) >= 2 * run and text.find(text[-run:], 0, len(text) - 1) != -1


class OpenAIEngine(LLMEngine):
    """``endpoint.model`` writes the brief, and maps unless ``endpoint.map_model`` is given.

    Tokens are estimated (``estimate_tokens``): no tokenizer is downloaded.
    """

    name = "openai"
    transient_errors = (
        TimeoutError,
        openai.APITimeoutError,
        openai.APIConnectionError,
        openai.RateLimitError,
        openai.InternalServerError,
    )
    unusable_errors = (openai.LengthFinishReasonError, openai.ContentFilterFinishReasonError)

    def __init__(
        self,
        *,
        language: str = "en",
        endpoint: OpenAIOptions | None = None,
        llm: LLMOptions | None = None,
        phone_region: str = DEFAULT_PHONE_REGION,
    ):
        endpoint, llm = endpoint or OpenAIOptions(), llm or LLMOptions()
        map_name = endpoint.map_model or endpoint.model
        super().__init__(
            _model(map_name, endpoint, llm),
            _model(endpoint.model, endpoint, llm),
            context_window=endpoint.context_tokens,
            language=language,
            options=llm,
            phone_region=phone_region,
        )
        self.endpoint = endpoint

    def error_usage(self, error: BaseException) -> tuple[int, int]:
        """The usage of the completion a ``LengthFinishReasonError`` carries."""
        usage = getattr(getattr(error, "completion", None), "usage", None)
        return (usage.prompt_tokens, usage.completion_tokens) if usage else (0, 0)

    def structured_output(self, schema: dict[str, Any]) -> dict[str, Any]:
        """``json_schema`` response format, or ``json_object`` with the schema inside where so configured; sent
        as part of the request body, so that the answer streams (langchain-openai does not stream one it is
        asked to parse), with ``max_tokens`` for servers that need it."""
        if self.endpoint.response_format == "json_object":
            body = super().structured_output(schema)
        else:
            body = {
                "response_format": {
                    "type": "json_schema",
                    "json_schema": {"name": "notes", "schema": schema, "strict": False},
                }
            }
        return {"extra_body": {**_legacy_body(self.endpoint, self.options), **body}}


def _model(name: str, endpoint: OpenAIOptions, llm: LLMOptions) -> Model:
    """A chat model for ``name`` (key: the endpoint's, else ``OPENAI_API_KEY``); retries are the engine's."""
    try:
        chat = StreamingChatOpenAI(
            model=name,
            base_url=endpoint.base_url,
            api_key=endpoint.api_key,
            timeout=llm.timeout_seconds,
            max_retries=0,
            max_tokens=llm.max_tokens,
            extra_body=_legacy_body(endpoint, llm) or None,
        )
    except openai.OpenAIError as error:
        raise EngineError(
            f"openai engine: {error} (set DOSSIER_OPENAI_API_KEY; any value for servers without authentication)"
        ) from error
    return Model(chat, name)


def _legacy_body(endpoint: OpenAIOptions, llm: LLMOptions) -> dict[str, Any]:
    """``max_tokens`` in the request body, for servers that ignore ``max_completion_tokens``."""
    return {"max_tokens": llm.max_tokens} if endpoint.legacy_max_tokens else {}
