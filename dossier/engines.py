"""The application's engines and summaries: the one place settings become engine options.

Built-in engines get typed options from the settings (``DOSSIER_DEFAULT_PHONE_REGION``,
``DOSSIER_LLM_*``, ``DOSSIER_LLAMACPP_*``, ``DOSSIER_OPENAI_*``). A plug-in engine (any other name in
the ``dossier.engines`` entry-point group) is built with ``language=`` alone and reads its own
configuration. ``summarize`` and ``read_summary`` are the summarizer's service with the configured
database, engine, languages, cache and debounce: the CLI, demo, jobs and benchmarks call these.
"""

from collections.abc import Callable, Sequence
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from dossier.settings import Settings, get_settings
from storage.models import PUBLIC_SCOPE
from summarizer import service
from summarizer.cache import SummaryCache, make_cache
from summarizer.engines import EngineSpec, engine_class
from summarizer.engines.options import LlamaCppOptions, LLMOptions, OpenAIOptions
from summarizer.service import ClientResult, SummarizeReport, SummaryView


def llm_options(settings: Settings) -> LLMOptions:
    """What every LLM engine asks its model with (``DOSSIER_LLM_*``)."""
    return LLMOptions(
        max_tokens=settings.llm_max_tokens,
        max_claims=settings.llm_max_claims,
        temperature=settings.llm_temperature,
        retry_temperature=settings.llm_retry_temperature,
        timeout_seconds=settings.llm_timeout_seconds,
        attempts=settings.llm_attempts,
        backoff_seconds=settings.llm_backoff_seconds,
        prices=dict(settings.llm_prices),
    )


def llamacpp_options(settings: Settings) -> LlamaCppOptions:
    """The local model (``DOSSIER_LLAMACPP_*``); the packaged one is assembled in ~/.cache/dossier by default."""
    cache_dir = Path(settings.llamacpp_cache_dir or Path.home() / ".cache" / "dossier").expanduser()
    return LlamaCppOptions(
        model=settings.llamacpp_model,
        map_model=settings.llamacpp_map_model,
        packaged=settings.llamacpp_packaged,
        cache_dir=cache_dir,
        n_ctx=settings.llamacpp_n_ctx,
        threads=settings.llamacpp_threads,
    )


def openai_options(settings: Settings) -> OpenAIOptions:
    """The OpenAI-compatible endpoint (``DOSSIER_OPENAI_*``)."""
    api_key = settings.openai_api_key.get_secret_value() if settings.openai_api_key else None
    return OpenAIOptions(
        model=settings.openai_model,
        map_model=settings.openai_map_model,
        base_url=settings.openai_base_url,
        api_key=api_key,
        context_tokens=settings.openai_context_tokens,
        response_format=settings.openai_response_format,
        legacy_max_tokens=settings.openai_legacy_max_tokens,
    )


def local_model_options(settings: Settings) -> dict[str, Any]:
    """The options of the engines on a local model (``llamacpp``, ``hybrid``)."""
    return {
        "llamacpp": llamacpp_options(settings),
        "llm": llm_options(settings),
        "phone_region": settings.default_phone_region,
    }


#: The options of each built-in engine, by its registered name; plug-ins get none.
BUILTIN_OPTIONS: dict[str, Callable[[Settings], dict[str, Any]]] = {
    "grounded": lambda s: {"phone_region": s.default_phone_region},
    "llamacpp": local_model_options,
    "hybrid": local_model_options,
    "openai": lambda s: {"endpoint": openai_options(s), "llm": llm_options(s), "phone_region": s.default_phone_region},
}


def engine_spec(name: str | None = None, settings: Settings | None = None) -> EngineSpec:
    """The engine ``name`` (default: ``DOSSIER_ENGINE``) with its options from ``settings``."""
    settings = settings or get_settings()
    name = name or settings.engine
    options = BUILTIN_OPTIONS.get(name)
    return EngineSpec(engine_class(name), options(settings) if options else {})


def summarize(
    refs: list[str] | None = None,
    *,
    all_clients: bool = False,
    dirty: bool = False,
    engine_name: str | None = None,
    languages: Sequence[str] | None = None,
    as_of: date | None = None,
    debounce: timedelta | None = None,
    database_url: str | None = None,
    workers: int = 1,
    on_client: Callable[[ClientResult], None] | None = None,
) -> SummarizeReport:
    """:func:`summarizer.service.summarize` with the configured engine, languages, debounce, database and cache;
    an argument given overrides its setting."""
    settings = get_settings()
    wait = debounce if debounce is not None else timedelta(seconds=settings.refresh_debounce_seconds)
    return service.summarize(
        refs,
        all_clients=all_clients,
        dirty=dirty,
        engine=engine_spec(engine_name, settings),
        languages=languages or settings.summary_languages,
        as_of=as_of,
        debounce=wait,
        database_url=database_url or settings.database_url,
        redis_url=settings.redis_url,
        workers=workers,
        on_client=on_client,
    )


def read_summary(
    ref: str,
    format_name: str,
    language: str,
    *,
    scopes: tuple[str, ...] = (PUBLIC_SCOPE,),
    database_url: str | None = None,
    cache: SummaryCache | None = None,
) -> SummaryView | None:
    """:func:`summarizer.service.read_summary` from the configured database and cache (Redis or local); a
    missing summary is queued when a refresh renders its language (``DOSSIER_SUMMARY_LANGUAGES``)."""
    settings = get_settings()
    return service.read_summary(
        ref,
        format_name,
        language,
        scopes=scopes,
        database_url=database_url or settings.database_url,
        cache=cache if cache is not None else make_cache(settings.redis_url),
        refresh_languages=settings.summary_languages,
    )


def refresh_builds(scopes: tuple[str, ...], language: str) -> bool:
    """Whether a queued refresh renders summaries of ``scopes`` in ``language`` with the configured languages."""
    return service.refresh_builds(scopes, language, refresh_languages=get_settings().summary_languages)
