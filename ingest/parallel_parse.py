"""Parse large mailboxes in worker processes: the importing process reads raw messages, workers parse them.

Each worker turns a chunk of raw messages into the same results ``ingest.mail.parse`` yields for them,
already prepared (see ``prepare``), and the results come back in the mailbox's order. At most a few
chunks are in flight, so memory does not grow with the size of the mailbox.
"""

import multiprocessing
import threading
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from pathlib import Path
from typing import NamedTuple
from zoneinfo import ZoneInfo

from ingest import mail
from ingest.mail import RawMessage
from ingest.normalize import LanguageDetector, normalize_party
from ingest.records import ParsedInteraction, ParseResult

#: Raw messages per task sent to a worker.
CHUNK_MESSAGES = 250
#: Tasks in flight per worker: enough to keep it busy while the importer stores the previous results.
CHUNKS_AHEAD = 4


class Preparation(NamedTuple):
    """What preparing a parsed interaction needs: the phone region and the languages to detect among."""

    phone_region: str
    languages: tuple[str, ...]


def prepare(result: ParseResult, preparation: Preparation) -> ParseResult:
    """A parsed interaction with its parties normalized and its language detected (when the source gave none)."""
    if isinstance(result, ParsedInteraction):
        region = preparation.phone_region
        result.author = normalize_party(result.author, region)
        result.recipients = [normalize_party(party, region) for party in result.recipients]
        if result.language is None:
            detector = LanguageDetector(preparation.languages)
            result.language = detector.detect(result.body or result.subject or "")
    return result


class MboxChunk(NamedTuple):
    """A task for a worker: raw messages of one mbox file."""

    path: Path
    zone: str
    preparation: Preparation
    messages: list[RawMessage]


def parse_chunk(chunk: MboxChunk) -> list[ParseResult]:
    """Parse and prepare the messages of one chunk, as ``ingest.mail.parse`` does for an mbox."""
    results = mail.parse_mbox_messages(chunk.path, chunk.messages, ZoneInfo(chunk.zone))
    return [prepare(result, chunk.preparation) for result in results]


def chunks(messages: Iterable[RawMessage], size: int) -> Iterator[list[RawMessage]]:
    """``messages`` in lists of at most ``size``."""
    chunk: list[RawMessage] = []
    for message in messages:
        chunk.append(message)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


class ParsePool:
    """Worker processes for one import, started when the first large mailbox comes and stopped by ``close``."""

    def __init__(self, workers: int, preparation: Preparation, zone: ZoneInfo):
        self._workers = workers
        self._preparation = preparation
        self._zone = str(zone.key)
        self._executor: ProcessPoolExecutor | None = None

    def can_start(self) -> bool:
        """True when the workers run or this process may fork them: it is not daemonic (a Celery or
        multiprocessing worker may not start processes) and runs one thread (forking a process with other
        threads can leave a lock held)."""
        if self._executor is not None:
            return True
        return not multiprocessing.current_process().daemon and threading.active_count() == 1

    def parse_mbox(self, path: Path, messages: Iterable[RawMessage]) -> Iterator[ParseResult]:
        """The prepared results of ``messages`` of the mbox at ``path`` (``mail.raw_mbox_messages``), in order."""
        raw_chunks = chunks(messages, CHUNK_MESSAGES)
        tasks = (MboxChunk(path, self._zone, self._preparation, chunk) for chunk in raw_chunks)
        for results in self._in_order(tasks):
            yield from results

    def _in_order(self, tasks: Iterable[MboxChunk]) -> Iterator[list[ParseResult]]:
        executor = self._started()
        pending: deque[Future[list[ParseResult]]] = deque()
        for task in tasks:
            pending.append(executor.submit(parse_chunk, task))
            if len(pending) >= self._workers * CHUNKS_AHEAD:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()

    def _started(self) -> ProcessPoolExecutor:
        if self._executor is None:
            context = multiprocessing.get_context("fork")  # the workers inherit the loaded modules
            self._executor = ProcessPoolExecutor(self._workers, mp_context=context)
        return self._executor

    def close(self) -> None:
        """Stop the workers (if any were started)."""
        if self._executor is not None:
            self._executor.shutdown(cancel_futures=True)
            self._executor = None
