"""Configuration from the environment (prefix ``DOSSIER_``) or a ``.env`` file."""

from functools import lru_cache
from typing import Annotated

from pydantic import BeforeValidator, Field
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


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
        description="E-mail domains of our own company (comma separated): their addresses are "
        "agents, never clients.",
    )
    default_phone_region: str = Field(
        default="US",
        description="ISO country used to read phone numbers written without a +country code.",
    )
    source_timezone: str = Field(
        default="UTC",
        description="IANA time zone for source timestamps written without one (chat exports, CSVs).",
    )
    languages: CommaList = Field(
        default_factory=lambda: ["en", "ru", "pl", "uk", "de", "fr", "es", "it", "cs"],
        description="Languages that language detection may choose from.",
    )
    import_batch_size: int = Field(default=1000, ge=1, description="Interactions per DB commit.")


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings (cached; call ``get_settings.cache_clear()`` after changing env)."""
    return Settings()
