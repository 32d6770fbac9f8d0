"""What the built-in LLM engines are built with: small frozen option objects with constant defaults.

They import nothing heavy, so the application can build them without the ``llm`` extra. The
defaults are the documented ones; the application turns its settings into these (``dossier.engines``).
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from summarizer.engines.packaged import DEFAULT_MODEL


@dataclass(frozen=True, slots=True)
class LLMOptions:
    """How every LLM engine asks its model: answer size, sampling, time limits, tries and prices."""

    max_tokens: int = 1024  # most tokens one answer may take (kept free in the context)
    max_claims: int = 20  # most claims one map answer may hold (about 45 tokens each: they fit max_tokens)
    write_max_tokens: int = 400  # most tokens a written brief may take (3-5 sentences and their claim numbers)
    write_claims: int = 30  # most claims a write prompt shows, the most salient (fewer: a faster prompt)
    temperature: float = 0.0  # of a first attempt
    retry_temperature: float = 0.6  # of a retry after an invalid answer
    timeout_seconds: float = 120.0  # of one model call
    attempts: int = 3  # tries per call before an invalid answer falls back and a failing endpoint raises
    backoff_seconds: float = 1.0  # first wait between tries, doubled after each
    #: model name -> (prompt, completion) price per 1k tokens; models not listed cost 0
    prices: Mapping[str, tuple[float, float]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class LlamaCppOptions:
    """A local GGUF model: the write model (default: a packaged one), a map model, context and threads."""

    model: str | None = None  # GGUF file of the write model (and the map model unless ``map_model``)
    map_model: str | None = None
    packaged: str = DEFAULT_MODEL  # the packaged model used when ``model`` is not given (summarizer.engines.packaged)
    cache_dir: Path | None = None  # where the packaged model is assembled when ``model`` is not given
    n_ctx: int = 4096
    threads: int = 2


@dataclass(frozen=True, slots=True)
class OpenAIOptions:
    """An OpenAI-compatible endpoint: models, address, key, context window and how JSON is asked for."""

    model: str = "gpt-4o-mini"  # the write model (and the map model unless ``map_model``)
    map_model: str | None = None
    base_url: str | None = None  # unset means OpenAI's
    api_key: str | None = field(default=None, repr=False)  # unset: the client reads OPENAI_API_KEY itself
    context_tokens: int = 16000  # the smallest context window of the two models
    response_format: Literal["json_schema", "json_object"] = "json_schema"
    legacy_max_tokens: bool = False  # also send max_tokens, for servers that ignore max_completion_tokens
