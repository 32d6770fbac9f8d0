"""The summary cache when Redis stalls: the database stays the source of truth and a stall costs one timeout.

The Redis tests start their own ``redis-server`` on a free loopback port and stop it with SIGSTOP (a
stalled server: connections open, nothing answers), which a dead port cannot imitate.
"""

import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import redis

from dossier.engines import read_summary, summarize
from dossier.settings import get_settings
from summarizer.cache import CachedSummary, LocalCache, RedisCache, SummaryKey
from tests.summary_history import add_rep, import_mail


@dataclass(frozen=True, slots=True)
class RedisServer:
    url: str
    process: subprocess.Popen

    def stall(self) -> None:
        self.process.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        self.process.send_signal(signal.SIGCONT)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_until_up(url: str, process: subprocess.Popen) -> None:
    client = redis.Redis.from_url(url, socket_timeout=0.5)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and process.poll() is None:
        try:
            client.ping()
            return
        except redis.ConnectionError:
            time.sleep(0.05)
    raise RuntimeError(f"redis-server did not start (exit status {process.poll()})")


@pytest.fixture
def redis_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[RedisServer]:
    """A private redis-server on 127.0.0.1, configured as ``DOSSIER_REDIS_URL``; always resumed and killed."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server is not installed (apt-get install redis-server); these tests need a real one")
    port = _free_port()
    process = subprocess.Popen(
        [
            binary,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(tmp_path),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        url = f"redis://127.0.0.1:{port}/0"
        _wait_until_up(url, process)
        monkeypatch.setenv("DOSSIER_REDIS_URL", url)
        get_settings.cache_clear()
        yield RedisServer(url, process)
    finally:
        process.send_signal(signal.SIGCONT)
        process.kill()
        process.wait(timeout=10)


@pytest.fixture
def client_id(database_url: str, tmp_path: Path) -> int:
    """A client with two generated e-mails, summarized once."""
    add_rep()
    import_mail(tmp_path / "mail", 2, "We would like to order 5 pallets, delivery by 30 November.")
    client_id = import_mail(tmp_path / "mail", 3, "Please send the quote for the 5 pallets.")
    assert not summarize([str(client_id)]).failed
    return client_id


def test_a_stalled_redis_costs_one_timeout_and_the_database_answers(redis_server, client_id):
    reader = RedisCache(redis_server.url, timeout_seconds=0.25, cooldown_seconds=60)
    cached = read_summary(str(client_id), "brief", "en", cache=reader)
    assert cached.source == "cache"
    redis_server.stall()
    reads = 10
    started = time.monotonic()
    views = [read_summary(str(client_id), "brief", "en", cache=reader) for _ in range(reads)]
    elapsed = time.monotonic() - started
    assert elapsed < reads * 0.25 / 2, f"{reads} reads took {elapsed:.2f} s: Redis was waited for on every read"
    assert {view.source for view in views} == {"database"}
    assert {view.summary.root_hash for view in views} == {cached.summary.root_hash}


def test_a_summary_written_during_a_stall_is_served_after_redis_resumes(redis_server, client_id, tmp_path):
    reader = RedisCache(redis_server.url, timeout_seconds=0.1, cooldown_seconds=0.3)
    old = read_summary(str(client_id), "brief", "en", cache=reader)
    assert old.source == "cache" and not old.summary.stale
    redis_server.stall()
    import_mail(tmp_path / "mail", 4, "Quote approved: we order 40 pallets, invoice by 30 November.")
    assert read_summary(str(client_id), "brief", "en", cache=reader).summary.stale  # the database knows
    assert not summarize(["Pallet Buyers Ltd"]).failed  # every write to Redis fails
    during = read_summary(str(client_id), "brief", "en", cache=reader)
    assert during.source == "database" and during.summary.root_hash != old.summary.root_hash
    time.sleep(1.0)
    redis_server.resume()
    time.sleep(0.35)  # the reader's cool-down: its next call probes Redis
    after = read_summary(str(client_id), "brief", "en", cache=reader)
    assert (after.summary.root_hash, after.summary.stale) == (during.summary.root_hash, False)
    assert after.source == "database"  # the entry was written before this reader saw Redis fail: checked, repaired
    again = read_summary(str(client_id), "brief", "en", cache=reader)
    assert (again.source, again.summary.root_hash, again.summary.stale) == ("cache", during.summary.root_hash, False)
    elsewhere = read_summary(str(client_id), "brief", "en", cache=RedisCache(redis_server.url))
    assert (elsewhere.source, elsewhere.summary.root_hash) == ("cache", during.summary.root_hash)


def test_a_reader_that_never_saw_the_stall_checks_old_entries_against_the_database(redis_server, client_id, tmp_path):
    old = read_summary(str(client_id), "brief", "en", cache=RedisCache(redis_server.url))
    redis_server.stall()
    import_mail(tmp_path / "mail", 4, "Quote approved: we order 40 pallets.")
    assert not summarize([str(client_id)]).failed
    time.sleep(0.6)
    redis_server.resume()
    fresh_process = RedisCache(redis_server.url, verify_seconds=0.5)  # the entry was last confirmed > 0.5 s ago
    view = read_summary(str(client_id), "brief", "en", cache=fresh_process)
    assert view.source == "database" and view.summary.root_hash != old.summary.root_hash and not view.summary.stale


def test_new_data_imported_during_a_stall_reads_stale_after_redis_resumes(redis_server, client_id, tmp_path):
    reader = RedisCache(redis_server.url, timeout_seconds=0.1, cooldown_seconds=0.3)
    assert not read_summary(str(client_id), "brief", "en", cache=reader).summary.stale
    redis_server.stall()
    import_mail(tmp_path / "mail", 4, "One more thing: we need 10 more pallets.")  # the stale mark cannot reach Redis
    assert read_summary(str(client_id), "brief", "en", cache=reader).summary.stale
    redis_server.resume()
    time.sleep(0.35)
    assert read_summary(str(client_id), "brief", "en", cache=reader).summary.stale
    cached = read_summary(str(client_id), "brief", "en", cache=reader)
    assert cached.source == "cache" and cached.summary.stale


def summary(generated_at: datetime, root_hash: str) -> CachedSummary:
    return CachedSummary(f"summary {root_hash}", {}, root_hash, "grounded", generated_at)


def test_an_older_write_never_replaces_a_newer_entry(redis_server):
    cache = RedisCache(redis_server.url)
    key = SummaryKey(7, "public", "brief", "en")
    now = datetime.now(UTC)
    cache.put(key, summary(now, "new"))
    cache.put(key, summary(now - timedelta(seconds=1), "old"))  # a reader that read the row before the refresh
    assert cache.get(key).root_hash == "new"
    cache.put(key, summary(now + timedelta(seconds=1), "newer"))
    assert cache.get(key).root_hash == "newer"


def test_an_unconfirmed_newer_entry_gives_way_to_the_database_row(redis_server):
    cache = RedisCache(redis_server.url, verify_seconds=0.2)
    key = SummaryKey(7, "public", "brief", "en")
    now = datetime.now(UTC)
    cache.put(key, summary(now, "rolled-back"))  # its database write never committed
    time.sleep(0.25)
    assert cache.get(key) is None  # unconfirmed for too long: the caller reads the database
    cache.put(key, summary(now - timedelta(seconds=5), "stored"))
    assert cache.get(key).root_hash == "stored"


def test_local_cache_keeps_the_newer_summary():
    cache = LocalCache()
    key = SummaryKey(9, "public", "brief", "en")
    now = datetime.now(UTC)
    cache.put(key, summary(now, "new"))
    cache.put(key, summary(now - timedelta(seconds=1), "old"))
    assert cache.get(key).root_hash == "new"
