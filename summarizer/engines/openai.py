"""Any OpenAI-compatible endpoint (OpenAI, vLLM, Ollama, llama.cpp server) through langchain-openai."""

from typing import Any

import openai
from langchain_openai import ChatOpenAI

from summarizer.engines.base import EngineError
from summarizer.engines.grounded import DEFAULT_PHONE_REGION
from summarizer.engines.llm import LLMEngine, Model
from summarizer.engines.options import LLMOptions, OpenAIOptions


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
        """``json_schema`` response format, or ``json_object`` with the schema inside where so configured."""
        if self.endpoint.response_format == "json_object":
            return super().structured_output(schema)
        return {
            "response_format": {
                "type": "json_schema",
                "json_schema": {"name": "notes", "schema": schema, "strict": False},
            }
        }


def _model(name: str, endpoint: OpenAIOptions, llm: LLMOptions) -> Model:
    """A chat model for ``name`` (key: the endpoint's, else ``OPENAI_API_KEY``); retries are the engine's."""
    extra_body = {"max_tokens": llm.max_tokens} if endpoint.legacy_max_tokens else None
    try:
        chat = ChatOpenAI(
            model=name,
            base_url=endpoint.base_url,
            api_key=endpoint.api_key,
            timeout=llm.timeout_seconds,
            max_retries=0,
            max_tokens=llm.max_tokens,
            extra_body=extra_body,
        )
    except openai.OpenAIError as error:
        raise EngineError(
            f"openai engine: {error} (set DOSSIER_OPENAI_API_KEY; any value for servers without authentication)"
        ) from error
    return Model(chat, name)
