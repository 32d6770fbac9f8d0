"""How an import reads its sources: the choices the application passes in (it reads them from its settings)."""

from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from storage.errors import DossierError


@dataclass(frozen=True, slots=True)
class ImportOptions:
    """What an import needs to know beyond its files; the defaults are the configuration's defaults."""

    internal_domains: tuple[str, ...] = ()  # e-mail domains of our own company: their addresses are agents
    default_phone_region: str = "US"  # ISO country of phone numbers written without a +country code
    source_timezone: str = "UTC"  # IANA zone of source times written without one (chats, CSVs, mail)
    languages: tuple[str, ...] = ("en", "ru", "pl", "uk", "de", "fr", "es", "it", "cs")  # detection picks one
    batch_size: int = 1000  # interactions per commit
    parse_workers: int = 2  # processes parsing large mailboxes (1: parse in the importing process)

    def __post_init__(self) -> None:
        try:
            ZoneInfo(self.source_timezone)
        except (ZoneInfoNotFoundError, ValueError, OSError) as error:
            raise DossierError(
                f"unknown source time zone {self.source_timezone!r}: expected an IANA name such as Europe/Warsaw"
            ) from error
        if self.batch_size < 1:
            raise DossierError(f"import batch size must be at least 1, not {self.batch_size}")
        if self.parse_workers < 1:
            raise DossierError(f"import parse workers must be at least 1, not {self.parse_workers}")

    @property
    def zone(self) -> ZoneInfo:
        """The source time zone, for times written without one."""
        return ZoneInfo(self.source_timezone)
