"""Summarize clients (build trees, check grounding, render, cache) and read cached summaries."""

from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from datetime import date, timedelta
from multiprocessing import get_context

from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction

from storage import corrections, repository, summaries
from storage.changes import Change, ChangeKind, record_change
from storage.db import session_scope
from storage.errors import DossierError
from storage.models import PUBLIC_SCOPE, Client, Contact, ContactKind, SummaryRun, utcnow
from summarizer.cache import CachedSummary, LocalCache, SummaryCache, SummaryKey, make_cache
from summarizer.corrections import to_correction
from summarizer.engines import Engine, EngineSpec, Usage
from summarizer.engines.grounded import GroundedEngine
from summarizer.notes import Correction, Notes, SourceItem
from summarizer.plurals import counted
from summarizer.render import FORMATS, ClientInfo, available_languages, render
from summarizer.sources import drop_copies, to_source_item
from summarizer.tree import StoredNode, Tree, TreeBuilder, bucket_end

#: What a caller that names nothing gets: the embedded engine, English, a minute's debounce.
DEFAULT_ENGINE = EngineSpec(GroundedEngine)
DEFAULT_LANGUAGES = ("en",)
DEFAULT_DEBOUNCE = timedelta(seconds=60)


@dataclass(slots=True)
class ClientResult:
    """What summarizing one client did."""

    client_id: int
    name: str
    interactions: int = 0
    nodes_total: int = 0
    nodes_recomputed: int = 0
    prompt_tokens: int = 0
    ungrounded: int = 0
    error: str | None = None


@dataclass(slots=True)
class SummarizeReport:
    """What one summarize run did, per client and in total."""

    run_id: int
    engine: str
    results: list[ClientResult] = field(default_factory=list)
    usage: Usage = field(default_factory=Usage)

    @property
    def failed(self) -> list[ClientResult]:
        return [r for r in self.results if r.error]

    def summary(self) -> str:
        """The one-line summary the CLI prints."""
        done = len(self.results) - len(self.failed)
        recomputed = sum(r.nodes_recomputed for r in self.results)
        total = sum(r.nodes_total for r in self.results)
        parts = [
            f"{_count(done, 'client')} summarized with {self.engine}, {len(self.failed)} failed",
            f"{recomputed}/{_count(total, 'tree node')} recomputed",
        ]
        if self.usage.completion_tokens:  # only a model answers: a deterministic engine's reading is not reported
            parts.append(
                f"{self.usage.prompt_tokens} prompt + {self.usage.completion_tokens} completion model tokens "
                f"in {_count(self.usage.calls, 'call')}"
            )
        if recomputed:
            parts.append(f"{_count(sum(r.ungrounded for r in self.results), 'ungrounded statement')} dropped")
        return "; ".join(parts)


def _count(number: int, noun: str) -> str:
    """``1 client``, ``2 clients``: the CLI's English summary line."""
    return counted("en", number, {"one": f"{{count}} {noun}", "other": f"{{count}} {noun}s"})


#: Contact kinds a header shows by their value alone (an address or a number says what it is).
SELF_EVIDENT_CONTACTS = frozenset({ContactKind.EMAIL, ContactKind.PHONE})


def reachable_contacts(contacts: Iterable[Contact]) -> list[str]:
    """How the client can be reached, as a summary's header lists it: e-mail addresses and phone numbers as
    written, a messenger account after the messenger's name; a domain (it only groups the e-mails) is left out."""
    return [
        contact.value if contact.kind in SELF_EVIDENT_CONTACTS else f"{contact.kind.title()} {contact.value}"
        for contact in contacts
        if contact.kind != ContactKind.DOMAIN
    ]


@dataclass(frozen=True, slots=True)
class SummaryView:
    """A summary as a reader gets it, and where it came from."""

    client_id: int
    client_name: str
    format: str
    language: str
    summary: CachedSummary
    source: str  # "cache" or "database"


def make_engines(engine: EngineSpec, languages: Sequence[str]) -> list[Engine]:
    """The engines for one run: one per output language if the engine translates, else one."""
    return [engine.build(language) for language in (languages if engine.engine.translates else languages[:1])]


def summarize_client(
    session: Session,
    client: Client,
    engines: list[Engine],
    *,
    languages: list[str],
    scopes: tuple[str, ...] = (PUBLIC_SCOPE,),
    as_of: date | None = None,
    cache: SummaryCache | None = None,
) -> ClientResult:
    """Build or update one client's tree(s) and render every format in ``languages``.

    Only tree nodes whose inputs changed are recomputed. An engine that translates has one tree per
    language (``engines`` holds one engine each); otherwise one tree is rendered in every language.
    The refresh queue is the caller's: only a refresh clears it (other scope sets or languages do not).
    """
    result = ClientResult(client.id, client.name)
    fixes = corrections.client_corrections(session, client.id, scopes)
    correction_notes = {fix.note.id for fix in fixes}  # readers' corrections: the tree's, never an engine's
    interactions = summaries.source_interactions(session, client.id, scopes)
    items = drop_copies([to_source_item(i) for i in interactions if i.id not in correction_notes])
    result.interactions = len({item.interaction_id for item in items})
    tokens_before = sum(e.usage.prompt_tokens for e in engines)
    for engine in engines:
        tree = _build_tree(
            session, client, engine, items, summaries.scope_key(scopes), [to_correction(fix) for fix in fixes]
        )
        result.nodes_total += len(tree.nodes)
        result.nodes_recomputed += tree.recomputed
        result.ungrounded += tree.ungrounded
        root = tree.root.notes if tree.root else Notes()
        for language in [engine.language] if engine.translates else languages:
            _render_all(session, client, root, language, tree, engine, scopes, as_of, cache)
    result.prompt_tokens = sum(e.usage.prompt_tokens for e in engines) - tokens_before
    return result


def _build_tree(
    session: Session, client: Client, engine: Engine, items: list[SourceItem], key: str, fixes: list[Correction]
) -> Tree:
    tree_key = f"{key}@{engine.tree_id}"
    stored_rows = summaries.load_nodes(session, client.id, tree_key)
    stored = {k: StoredNode(row.input_hash, Notes.model_validate(row.notes)) for k, row in stored_rows.items()}
    tree = TreeBuilder(engine, stored, client=client.name).build(items, fixes)
    kept, new, changed = set(), [], []
    for node in tree.nodes:
        node_key = (node.level, node.start, node.chunk)
        kept.add(node_key)
        if node.changed:
            values = {
                "client_id": client.id,
                "scope_key": tree_key,
                "level": node.level,
                "bucket_start": node.start,
                "bucket_end": bucket_end(node.level, node.start),
                "chunk": node.chunk,
                "input_hash": node.input_hash,
                "engine": engine.version,
                "notes": node.notes.model_dump(mode="json"),
                "prompt_tokens": node.prompt_tokens,
                "completion_tokens": node.completion_tokens,
            }
            if node_key in stored_rows:
                changed.append((stored_rows[node_key], values))
            else:
                new.append(values)
    summaries.save_nodes(session, new, changed)
    summaries.delete_nodes(session, [row for k, row in stored_rows.items() if k not in kept])
    return tree


def _render_all(
    session: Session,
    client: Client,
    notes: Notes,
    language: str,
    tree: Tree,
    engine: Engine,
    scopes: tuple[str, ...],
    as_of: date | None,
    cache: SummaryCache | None,
) -> None:
    info = ClientInfo(id=client.id, name=client.name, contacts=reachable_contacts(client.contacts))
    root_hash = tree.root.input_hash if tree.root else "empty"
    key = summaries.scope_key(scopes)
    written = []
    for format_name in FORMATS:
        rendered = render(format_name, notes, client=info, language=language, as_of=as_of or date.today())
        row = summaries.save_rendered(
            session,
            client_id=client.id,
            key=key,
            format=format_name,
            language=language,
            root_hash=root_hash,
            engine=engine.version,
            markdown=rendered.markdown,
            content=rendered.content,
        )
        written.append(
            (
                SummaryKey(client.id, key, format_name, language),
                CachedSummary(
                    markdown=row.markdown,
                    content=row.content,
                    root_hash=root_hash,
                    engine=row.engine,
                    generated_at=row.generated_at,
                ),
            )
        )
    if cache is not None:
        _cache_after_commit(session, cache, written)


_PENDING = "summarizer.service:cache after commit"  # session.info key of the entries waiting for the commit


def _cache_after_commit(session: Session, cache: SummaryCache, entries: list[tuple[SummaryKey, CachedSummary]]) -> None:
    """Put ``entries`` in ``cache`` once ``session``'s transaction has committed; a rollback drops them.

    Readers trust the cache for a while (``verify_seconds``): it must never hold a summary the database
    does not, so it learns rows only once they are committed.
    """
    if _PENDING not in session.info:
        session.info[_PENDING] = []
        event.listen(session, "after_commit", _put_pending)
        event.listen(session, "after_soft_rollback", _drop_pending)
    session.info[_PENDING].extend((cache, key, summary) for key, summary in entries)


def _put_pending(session: Session) -> None:
    if session.in_nested_transaction():  # a savepoint was released: the outer transaction may still fail
        return
    pending, session.info[_PENDING] = session.info[_PENDING], []
    for cache, key, summary in pending:
        cache.put(key, summary)


def _drop_pending(session: Session, _rolled_back: SessionTransaction) -> None:
    session.info[_PENDING] = []  # a savepoint's rollback too: the cache then misses writes, the reads repair them


def select_clients(
    session: Session, refs: list[str], *, all_clients: bool, dirty: bool, debounce: timedelta = DEFAULT_DEBOUNCE
) -> list[Client]:
    """Clients named by id/name/contact, every client with history, or those due a refresh."""
    if all_clients:
        ids = summaries.client_ids_with_history(session)
    elif dirty:
        ids = summaries.due_refreshes(session, debounce=debounce)
    else:
        ids = []
        for ref in refs:
            client = repository.find_client(session, ref)
            if client is None:
                raise DossierError(f"no client matches {ref!r} (try `dossier clients`)")
            ids.append(client.id)
    return [session.get_one(Client, client_id) for client_id in ids]


#: Clients handed to a worker process at a time (progress is reported per batch).
WORKER_BATCH = 20


@dataclass(frozen=True, slots=True)
class RunOptions:
    """What every client of one run is summarized with (picklable, for worker processes)."""

    engine: EngineSpec
    languages: tuple[str, ...]
    scopes: tuple[str, ...]
    as_of: date | None
    database_url: str
    redis_url: str | None  # the cache each worker writes to (a local one without it)


def summarize_batch(client_ids: list[int], options: RunOptions) -> tuple[list[ClientResult], Usage]:
    """Summarize clients by id in one session, committing each; failures are recorded, not raised."""
    engines = make_engines(options.engine, options.languages)
    cache = make_cache(options.redis_url)
    results = []
    with session_scope(options.database_url) as session:
        for client_id in client_ids:
            client = session.get_one(Client, client_id)
            started = utcnow()
            try:
                result = summarize_client(
                    session,
                    client,
                    engines,
                    languages=list(options.languages),
                    scopes=options.scopes,
                    as_of=options.as_of,
                    cache=cache,
                )
                summaries.clear_refresh(session, client.id, started_at=started)
                session.commit()
            except Exception as error:  # noqa: BLE001 - one client's failure never fails the batch
                session.rollback()
                result = ClientResult(client.id, client.name, error=str(error) or type(error).__name__)
            results.append(result)
    usage = Usage()
    for engine in engines:
        usage.add(engine.usage)
    return results, usage


def summarize(
    refs: list[str] | None = None,
    *,
    database_url: str,
    all_clients: bool = False,
    dirty: bool = False,
    engine: EngineSpec = DEFAULT_ENGINE,
    languages: Sequence[str] = DEFAULT_LANGUAGES,
    scopes: tuple[str, ...] = (PUBLIC_SCOPE,),
    as_of: date | None = None,
    debounce: timedelta = DEFAULT_DEBOUNCE,
    redis_url: str | None = None,
    workers: int = 1,
    on_client: Callable[[ClientResult], None] | None = None,
) -> SummarizeReport:
    """Summarize the selected clients, in ``workers`` processes; one client's failure never stops the run.

    ``redis_url`` is the cache the summaries are also written to (after each client's commit).
    """
    options = RunOptions(engine, tuple(languages), scopes, as_of, database_url, redis_url)
    with session_scope(database_url) as session:
        ids = [
            c.id for c in select_clients(session, refs or [], all_clients=all_clients, dirty=dirty, debounce=debounce)
        ]
        run = summaries.start_summary_run(session, engine.name)
    report = SummarizeReport(run_id=run.id, engine=run.engine)
    batches = [ids[i : i + WORKER_BATCH] for i in range(0, len(ids), WORKER_BATCH)]
    for results, usage in _run_batches(batches, options, workers):
        report.results.extend(results)
        report.usage.add(usage)
        for result in results:
            if on_client:
                on_client(result)
    with session_scope(database_url) as session:
        _record_run(session, run.id, report)
    return report


def _run_batches(
    batches: list[list[int]], options: RunOptions, workers: int
) -> Iterator[tuple[list[ClientResult], Usage]]:
    if workers <= 1 or len(batches) <= 1:
        yield from (summarize_batch(batch, options) for batch in batches)
        return
    with ProcessPoolExecutor(max_workers=workers, mp_context=get_context("spawn")) as pool:
        futures = [pool.submit(summarize_batch, batch, options) for batch in batches]
        for future in as_completed(futures):
            yield future.result()


def _record_run(session: Session, run_id: int, report: SummarizeReport) -> None:
    run = session.get_one(SummaryRun, run_id)
    run.clients = len(report.results)
    run.failed = len(report.failed)
    run.nodes_total = sum(r.nodes_total for r in report.results)
    run.nodes_recomputed = sum(r.nodes_recomputed for r in report.results)
    run.prompt_tokens, run.completion_tokens = report.usage.prompt_tokens, report.usage.completion_tokens
    run.cost, run.fallbacks = report.usage.cost, report.usage.fallbacks
    run.ungrounded = sum(r.ungrounded for r in report.results)
    run.errors = [{"client_id": r.client_id, "error": r.error} for r in report.failed]
    summaries.finish_summary_run(session, run)


def require_language(language: str) -> None:
    """Fail with the supported languages (those with a label file) unless summaries can be written in ``language``."""
    supported = available_languages()
    if language not in supported:
        raise DossierError(f"summaries cannot be written in {language!r}; supported languages: {', '.join(supported)}")


def refresh_builds(
    scopes: tuple[str, ...], language: str, *, refresh_languages: Sequence[str] = DEFAULT_LANGUAGES
) -> bool:
    """Whether a queued refresh (``dossier summarize --dirty``, rendering ``refresh_languages``) renders
    summaries of ``scopes`` in ``language``."""
    return summaries.scope_key(scopes) == PUBLIC_SCOPE and language in refresh_languages


def read_summary(
    ref: str,
    format_name: str,
    language: str,
    *,
    database_url: str,
    scopes: tuple[str, ...] = (PUBLIC_SCOPE,),
    cache: SummaryCache | None = None,
    refresh_languages: Sequence[str] = DEFAULT_LANGUAGES,
) -> SummaryView | None:
    """The summary from ``cache`` (none: a local one), else the stored one; None when none was built yet.

    By client id a confirmed cache entry answers without the database. Otherwise the stored row answers
    and is written back to the cache, which repairs an entry that missed a write. A missing summary is
    queued for a refresh when a refresh would build it (:func:`refresh_builds`); nothing else is flagged
    stale. An unknown format or an unsupported language is a :class:`DossierError`.
    """
    if format_name not in FORMATS:
        raise DossierError(f"unknown format {format_name!r}; expected one of: {', '.join(FORMATS)}")
    require_language(language)
    cache = cache if cache is not None else LocalCache()
    key_scope = summaries.scope_key(scopes)
    by_id = ref.strip().isdigit()
    if by_id:  # by id the cache answers without touching the database
        cached = cache.get(SummaryKey(int(ref), key_scope, format_name, language))
        if cached is not None:
            name = cached.content.get("client", {}).get("name", "")
            return SummaryView(int(ref), name, format_name, language, cached, "cache")
    with session_scope(database_url) as session:
        client = repository.find_client(session, ref)
        if client is None:
            raise DossierError(f"no client matches {ref!r} (try `dossier clients`)")
        key = SummaryKey(client.id, key_scope, format_name, language)
        if not by_id and (cached := cache.get(key)) is not None:
            return SummaryView(client.id, client.name, format_name, language, cached, "cache")
        row = summaries.get_rendered(session, client.id, key_scope, format_name, language)
        if row is None:
            if refresh_builds(scopes, language, refresh_languages=refresh_languages):
                record_change(session, [Change(client.id, ChangeKind.SUMMARY_REQUESTED)])
            return None
        stored = CachedSummary(
            markdown=row.markdown,
            content=row.content,
            root_hash=row.root_hash,
            engine=row.engine,
            generated_at=row.generated_at,
            stale=row.stale,
        )
        cache.put(key, stored)
        return SummaryView(client.id, client.name, format_name, language, stored, "database")
