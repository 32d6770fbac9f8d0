"""The read cache of rendered summaries: Redis when configured, else an in-process LRU.

The database is the source of truth; the cache only makes reads cheap. One entry per (client, scope,
format, language) holds the rendered summary and its version (``generated_at``):

- Writes never go backwards: ``put`` keeps a newer version rather than an older one, so a reader that
  read the database just before a refresh committed cannot undo the refresh.
- Nobody marks the cache stale: writers of history flag the database rows (``storage.changes``), and a
  cached entry is re-confirmed against its row within ``verify_seconds``, stale flag included.
- Redis can miss writes (down, stalled, timed out). A Redis entry records when it was last written or
  confirmed from the database, and is served only while that is younger than ``verify_seconds`` and newer
  than this process's last failed or skipped Redis call. Otherwise ``get`` reports a miss, the caller
  reads the database row and ``put`` repairs the entry: a write another process missed is visible for at
  most ``verify_seconds``, one this process saw fail not at all.
- Redis calls have short timeouts and no retries. After a failure a circuit breaker skips Redis for
  ``cooldown_seconds``, then lets one call probe it: a stalled Redis costs one timeout, not one per read.
  A Redis failure never fails a read; the cache reports a miss and the caller reads the database.
"""

import json
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol, TypeVar

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

log = logging.getLogger(__name__)

PREFIX = "dossier"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_T = TypeVar("_T")

#: Store ``ARGV[2]`` as the entry unless the stored one is newer and was confirmed within ``ARGV[5]``
#: seconds (a newer entry nobody confirmed for that long lost its database write: the row wins).
#: ARGV: version, summary JSON, now (epoch seconds), TTL seconds, verify seconds.
_PUT_UNLESS_NEWER = """
local stored = tonumber(redis.call('HGET', KEYS[1], 'version'))
if stored and stored > tonumber(ARGV[1]) then
  local checked = tonumber(redis.call('HGET', KEYS[1], 'checked')) or 0
  if tonumber(ARGV[3]) - checked < tonumber(ARGV[5]) then return 0 end
end
redis.call('HSET', KEYS[1], 'version', ARGV[1], 'summary', ARGV[2], 'checked', ARGV[3])
redis.call('EXPIRE', KEYS[1], ARGV[4])
return 1
"""


@dataclass(frozen=True, slots=True)
class SummaryKey:
    client_id: int
    scope: str
    format: str
    language: str

    def entry(self) -> str:
        return f"{PREFIX}:entry:{self.client_id}:{self.scope}:{self.format}:{self.language}"


@dataclass(frozen=True, slots=True)
class CachedSummary:
    """A rendered summary as readers get it; ``generated_at`` is its version."""

    markdown: str
    content: dict[str, Any]
    root_hash: str
    engine: str
    generated_at: datetime
    stale: bool = False

    @property
    def version(self) -> int:
        """``generated_at`` in microseconds since the epoch (exact, comparable in Redis scripts)."""
        return microseconds(self.generated_at)

    def to_json(self) -> str:
        return json.dumps({**asdict(self), "generated_at": self.generated_at.isoformat()}, ensure_ascii=False)

    @classmethod
    def from_json(cls, raw: str | bytes) -> "CachedSummary":
        data = json.loads(raw)
        data["generated_at"] = datetime.fromisoformat(data["generated_at"])
        return cls(**data)


def microseconds(moment: datetime) -> int:
    """A timezone-aware time as whole microseconds since the epoch."""
    return (moment - _EPOCH) // timedelta(microseconds=1)


class SummaryCache(Protocol):
    def get(self, key: SummaryKey) -> CachedSummary | None:
        """The cached summary (with its stale flag), or None on a miss, an unconfirmed entry or a failure."""

    def put(self, key: SummaryKey, summary: CachedSummary) -> None:
        """Cache a summary read from or just written to the database, unless a newer one is cached."""


class CircuitBreaker:
    """Lets calls through until one fails; then none for ``cooldown_seconds``, then one probe per cool-down."""

    def __init__(self, cooldown_seconds: float):
        self.cooldown_seconds = cooldown_seconds
        self._open = False
        self._next_probe = 0.0
        self._lock = threading.Lock()

    def allow(self) -> bool:
        """Whether a call may go ahead now (while open: only the first caller after each cool-down)."""
        with self._lock:
            if not self._open:
                return True
            now = time.monotonic()
            if now < self._next_probe:
                return False
            self._next_probe = now + self.cooldown_seconds
            return True

    def succeeded(self) -> None:
        with self._lock:
            self._open = False

    def failed(self) -> None:
        with self._lock:
            self._open = True
            self._next_probe = time.monotonic() + self.cooldown_seconds


class RedisCache:
    """Summaries in Redis: ``get`` is one round trip."""

    def __init__(
        self,
        url: str,
        *,
        ttl_seconds: int = 30 * 86400,
        timeout_seconds: float = 0.05,
        cooldown_seconds: float = 10.0,
        verify_seconds: float = 10.0,
    ):
        self._redis = redis.Redis.from_url(
            url, socket_timeout=timeout_seconds, socket_connect_timeout=timeout_seconds, retry=Retry(NoBackoff(), 0)
        )
        self._ttl = ttl_seconds
        self._verify_seconds = verify_seconds
        self._breaker = CircuitBreaker(cooldown_seconds)
        self._missed_at = 0.0  # wall-clock time (like an entry's "checked") of the newest failed or skipped call
        self._put_script = self._redis.register_script(_PUT_UNLESS_NEWER)

    def get(self, key: SummaryKey) -> CachedSummary | None:
        found = self._call("read", lambda: self._read(key))
        if found is None:
            return None
        raw, checked = found
        if raw is None or not self._confirmed(float(checked)):
            return None
        return CachedSummary.from_json(raw)

    def put(self, key: SummaryKey, summary: CachedSummary) -> None:
        self._call(
            "write",
            lambda: self._put_script(
                keys=[key.entry()],
                args=[summary.version, summary.to_json(), time.time(), self._ttl, self._verify_seconds],
            ),
        )

    def _read(self, key: SummaryKey) -> list[Any]:
        return self._redis.hmget(key.entry(), "summary", "checked")

    def _confirmed(self, checked: float) -> bool:
        """Whether an entry written or confirmed at ``checked`` may be served without the database."""
        return checked > self._missed_at and time.time() - checked < self._verify_seconds

    def _call(self, action: str, call: Callable[[], _T]) -> _T | None:
        """``call()``, or None when Redis is skipped (breaker open) or fails; both count as a missed call."""
        if not self._breaker.allow():
            self._missed_at = time.time()
            return None
        try:
            result = call()
        except redis.RedisError as error:
            self._breaker.failed()
            self._missed_at = time.time()
            log.warning(
                "redis %s failed, the database answers; redis is skipped for %g s: %s",
                action,
                self._breaker.cooldown_seconds,
                error,
            )
            return None
        self._breaker.succeeded()
        return result


class LocalCache:
    """The embedded default: a bounded in-process LRU with the same rules (it cannot miss a write)."""

    def __init__(self, max_entries: int = 10_000):
        self._entries: OrderedDict[SummaryKey, CachedSummary] = OrderedDict()
        self._max = max_entries

    def get(self, key: SummaryKey) -> CachedSummary | None:
        summary = self._entries.get(key)
        if summary is None:
            return None
        self._entries.move_to_end(key)
        return summary

    def put(self, key: SummaryKey, summary: CachedSummary) -> None:
        current = self._entries.get(key)
        if current is not None and current.version > summary.version:
            return
        self._entries[key] = summary
        self._entries.move_to_end(key)
        while len(self._entries) > self._max:
            self._entries.popitem(last=False)


def make_cache(redis_url: str | None) -> SummaryCache:
    """Redis when a URL is configured, else the local cache."""
    return RedisCache(redis_url) if redis_url else LocalCache()
