"""Any OpenAI-compatible endpoint (OpenAI, vLLM, Ollama, llama.cpp server) through langchain-openai."""

from typing import Any

import openai
from langchain_openai import ChatOpenAI

from dossier.settings import Settings, get_settings
from summarizer.engines.base import EngineError
from summarizer.engines.llm import LLMEngine, Model


class OpenAIEngine(LLMEngine):
    """``DOSSIER_OPENAI_MODEL`` for reduce, ``DOSSIER_OPENAI_MAP_MODEL`` (default: the same) for map.

    Tokens are estimated (``estimate_tokens``): no tokenizer is downloaded.
    """

    name = "openai"
    transient_errors = (TimeoutError, openai.APITimeoutError, openai.APIConnectionError, openai.RateLimitError,
                        openai.InternalServerError)
    unusable_errors = (openai.LengthFinishReasonError, openai.ContentFilterFinishReasonError)

    def __init__(self, *, language: str = "en", settings: Settings | None = None):
        settings = settings or get_settings()
        map_name = settings.openai_map_model or settings.openai_model
        super().__init__(_model(map_name, settings), _model(settings.openai_model, settings),
                         context_window=settings.openai_context_tokens, language=language, settings=settings)

    def error_usage(self, error: BaseException) -> tuple[int, int]:
        """The usage of the completion a ``LengthFinishReasonError`` carries."""
        usage = getattr(getattr(error, "completion", None), "usage", None)
        return (usage.prompt_tokens, usage.completion_tokens) if usage else (0, 0)

    def structured_output(self, schema: dict[str, Any]) -> dict[str, Any]:
        """``json_schema`` response format, or ``json_object`` with the schema inside where so configured."""
        if self.settings.openai_response_format == "json_object":
            return super().structured_output(schema)
        return {"response_format": {"type": "json_schema",
                                    "json_schema": {"name": "notes", "schema": schema, "strict": False}}}


def _model(name: str, settings: Settings) -> Model:
    """A chat model for ``name`` (key: the setting, else ``OPENAI_API_KEY``); retries are the engine's."""
    extra_body = {"max_tokens": settings.llm_max_tokens} if settings.openai_legacy_max_tokens else None
    try:
        chat = ChatOpenAI(model=name, base_url=settings.openai_base_url, api_key=settings.openai_api_key,
                          timeout=settings.llm_timeout_seconds, max_retries=0, max_tokens=settings.llm_max_tokens,
                          extra_body=extra_body)
    except openai.OpenAIError as error:
        raise EngineError(f"openai engine: {error} (set DOSSIER_OPENAI_API_KEY; any value for servers "
                          f"without authentication)") from error
    return Model(chat, name)
