"""Summarize clients (build trees, check grounding, render, cache) and read cached summaries."""

from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from datetime import date, timedelta
from multiprocessing import get_context

from sqlalchemy.orm import Session

from dossier.settings import get_settings
from storage import repository, summaries
from storage.db import session_scope
from storage.errors import DossierError
from storage.models import PUBLIC_SCOPE, Client, SummaryRun, utcnow
from summarizer.cache import CachedSummary, SummaryCache, SummaryKey, make_cache
from summarizer.engines import Engine, Usage, engine_class
from summarizer.notes import Notes, SourceItem
from summarizer.render import FORMATS, ClientInfo, available_languages, render
from summarizer.sources import drop_copies, to_source_item
from summarizer.tree import StoredNode, Tree, TreeBuilder, bucket_end


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
        return (f"{done} clients summarized with {self.engine}, {len(self.failed)} failed; "
                f"{recomputed}/{total} tree nodes recomputed, {self.usage.prompt_tokens} prompt tokens, "
                f"{sum(r.ungrounded for r in self.results)} ungrounded claims dropped")


@dataclass(frozen=True, slots=True)
class SummaryView:
    """A summary as a reader gets it, and where it came from."""

    client_id: int
    client_name: str
    format: str
    language: str
    summary: CachedSummary
    source: str  # "cache" or "database"


def make_engines(name: str | None, languages: list[str]) -> list[Engine]:
    """The engines for one run: one per output language if the engine translates, else one."""
    cls = engine_class(name or get_settings().engine)
    return [cls(language=language) for language in (languages if cls.translates else languages[:1])]


def summarize_client(session: Session, client: Client, engines: list[Engine], *, languages: list[str],
                     scopes: tuple[str, ...] = (PUBLIC_SCOPE,), as_of: date | None = None,
                     cache: SummaryCache | None = None) -> ClientResult:
    """Build or update one client's tree(s) and render every format in ``languages``.

    Only tree nodes whose inputs changed are recomputed. An engine that translates has one tree per
    language (``engines`` holds one engine each); otherwise one tree is rendered in every language.
    """
    started = utcnow()
    result = ClientResult(client.id, client.name)
    items = drop_copies([to_source_item(i) for i in summaries.source_interactions(session, client.id, scopes)])
    result.interactions = len({item.interaction_id for item in items})
    tokens_before = sum(e.usage.prompt_tokens for e in engines)
    for engine in engines:
        tree = _build_tree(session, client, engine, items, summaries.scope_key(scopes))
        result.nodes_total += len(tree.nodes)
        result.nodes_recomputed += tree.recomputed
        result.ungrounded += tree.ungrounded
        root = tree.root.notes if tree.root else Notes()
        for language in ([engine.language] if engine.translates else languages):
            _render_all(session, client, root, language, tree, engine, scopes, as_of, cache)
    result.prompt_tokens = sum(e.usage.prompt_tokens for e in engines) - tokens_before
    summaries.clear_refresh(session, client.id, started_at=started)
    return result


def _build_tree(session: Session, client: Client, engine: Engine, items: list[SourceItem], key: str) -> Tree:
    tree_key = f"{key}@{engine.tree_id}"
    stored_rows = summaries.load_nodes(session, client.id, tree_key)
    stored = {k: StoredNode(row.input_hash, Notes.model_validate(row.notes)) for k, row in stored_rows.items()}
    tree = TreeBuilder(engine, stored, client=client.name).build(items)
    kept, new, changed = set(), [], []
    for node in tree.nodes:
        node_key = (node.level, node.start, node.chunk)
        kept.add(node_key)
        if node.changed:
            values = dict(client_id=client.id, scope_key=tree_key, level=node.level, bucket_start=node.start,
                          bucket_end=bucket_end(node.level, node.start), chunk=node.chunk,
                          input_hash=node.input_hash, engine=engine.version,
                          notes=node.notes.model_dump(mode="json"), prompt_tokens=node.prompt_tokens,
                          completion_tokens=node.completion_tokens)
            if node_key in stored_rows:
                changed.append((stored_rows[node_key], values))
            else:
                new.append(values)
    summaries.save_nodes(session, new, changed)
    summaries.delete_nodes(session, [row for k, row in stored_rows.items() if k not in kept])
    return tree


def _render_all(session: Session, client: Client, notes: Notes, language: str, tree: Tree, engine: Engine,
                scopes: tuple[str, ...], as_of: date | None, cache: SummaryCache | None) -> None:
    info = ClientInfo(id=client.id, name=client.name,
                      contacts=[f"{c.kind}:{c.value}" for c in client.contacts])
    root_hash = tree.root.input_hash if tree.root else "empty"
    key = summaries.scope_key(scopes)
    for format_name in FORMATS:
        rendered = render(format_name, notes, client=info, language=language, as_of=as_of or date.today())
        row = summaries.save_rendered(session, client_id=client.id, key=key, format=format_name,
                                      language=language, root_hash=root_hash, engine=engine.version,
                                      markdown=rendered.markdown, content=rendered.content)
        if cache is not None:
            cache.put(SummaryKey(client.id, key, format_name, language), CachedSummary(
                markdown=row.markdown, content=row.content, root_hash=root_hash, engine=row.engine,
                generated_at=row.generated_at))


def select_clients(session: Session, refs: list[str], *, all_clients: bool, dirty: bool,
                   debounce: timedelta | None = None) -> list[Client]:
    """Clients named by id/name/contact, every client with history, or those due a refresh."""
    if all_clients:
        ids = summaries.client_ids_with_history(session)
    elif dirty:
        wait = debounce if debounce is not None else timedelta(seconds=get_settings().refresh_debounce_seconds)
        ids = summaries.due_refreshes(session, debounce=wait)
    else:
        ids = []
        for ref in refs:
            client = repository.find_client(session, ref)
            if client is None:
                raise DossierError(f"no client matches {ref!r} (try `dossier clients`)")
            ids.append(client.id)
    return [session.get(Client, client_id) for client_id in ids]


#: Clients handed to a worker process at a time (progress is reported per batch).
WORKER_BATCH = 20


@dataclass(frozen=True, slots=True)
class RunOptions:
    """What every client of one run is summarized with (picklable, for worker processes)."""

    engine_name: str | None
    languages: list[str]
    scopes: tuple[str, ...]
    as_of: date | None
    database_url: str | None


def summarize_batch(client_ids: list[int], options: RunOptions) -> tuple[list[ClientResult], Usage]:
    """Summarize clients by id in one session, committing each; failures are recorded, not raised."""
    engines = make_engines(options.engine_name, options.languages)
    cache = make_cache(get_settings().redis_url)
    results = []
    with session_scope(options.database_url) as session:
        for client_id in client_ids:
            client = session.get(Client, client_id)
            try:
                result = summarize_client(session, client, engines, languages=options.languages,
                                          scopes=options.scopes, as_of=options.as_of, cache=cache)
                session.commit()
            except Exception as error:  # noqa: BLE001 - one client's failure never fails the batch
                session.rollback()
                result = ClientResult(client.id, client.name, error=str(error) or type(error).__name__)
            results.append(result)
    usage = Usage()
    for engine in engines:
        usage.add(engine.usage)
    return results, usage


def summarize(refs: list[str] | None = None, *, all_clients: bool = False, dirty: bool = False,
              engine_name: str | None = None, languages: list[str] | None = None,
              scopes: tuple[str, ...] = (PUBLIC_SCOPE,), as_of: date | None = None,
              database_url: str | None = None, debounce: timedelta | None = None, workers: int = 1,
              on_client: Callable[[ClientResult], None] | None = None) -> SummarizeReport:
    """Summarize the selected clients, in ``workers`` processes; one client's failure never stops the run."""
    options = RunOptions(engine_name, languages or get_settings().summary_languages, scopes, as_of, database_url)
    with session_scope(database_url) as session:
        ids = [c.id for c in select_clients(session, refs or [], all_clients=all_clients, dirty=dirty,
                                            debounce=debounce)]
        run = summaries.start_summary_run(session, engine_class(engine_name or get_settings().engine).name)
    report = SummarizeReport(run_id=run.id, engine=run.engine)
    batches = [ids[i:i + WORKER_BATCH] for i in range(0, len(ids), WORKER_BATCH)]
    for results, usage in _run_batches(batches, options, workers):
        report.results.extend(results)
        report.usage.add(usage)
        for result in results:
            if on_client:
                on_client(result)
    with session_scope(database_url) as session:
        _record_run(session, run.id, report)
    return report


def _run_batches(batches: list[list[int]], options: RunOptions,
                 workers: int) -> Iterator[tuple[list[ClientResult], Usage]]:
    if workers <= 1 or len(batches) <= 1:
        yield from (summarize_batch(batch, options) for batch in batches)
        return
    with ProcessPoolExecutor(max_workers=workers, mp_context=get_context("spawn")) as pool:
        futures = [pool.submit(summarize_batch, batch, options) for batch in batches]
        for future in as_completed(futures):
            yield future.result()


def _record_run(session: Session, run_id: int, report: SummarizeReport) -> None:
    run = session.get(SummaryRun, run_id)
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


def refresh_builds(scopes: tuple[str, ...], language: str) -> bool:
    """Whether a queued refresh (``dossier summarize --dirty``) renders summaries of ``scopes`` in ``language``."""
    return summaries.scope_key(scopes) == PUBLIC_SCOPE and language in get_settings().summary_languages


def read_summary(ref: str, format_name: str, language: str, *, scopes: tuple[str, ...] = (PUBLIC_SCOPE,),
                 database_url: str | None = None, cache: SummaryCache | None = None) -> SummaryView | None:
    """The summary from the cache (Redis or local), else the stored one; None when none was built yet.

    By client id a confirmed cache entry answers without the database. Otherwise the stored row answers
    and is written back to the cache, which repairs an entry that missed a write. A missing summary is
    queued for a refresh when a refresh would build it (:func:`refresh_builds`); nothing else is flagged
    stale. An unknown format or an unsupported language is a :class:`DossierError`.
    """
    if format_name not in FORMATS:
        raise DossierError(f"unknown format {format_name!r}; expected one of: {', '.join(FORMATS)}")
    require_language(language)
    cache = cache if cache is not None else make_cache(get_settings().redis_url)
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
            if refresh_builds(scopes, language):
                summaries.queue_refresh(session, [client.id], reason="summary requested")
            return None
        stored = CachedSummary(markdown=row.markdown, content=row.content, root_hash=row.root_hash,
                               engine=row.engine, generated_at=row.generated_at, stale=row.stale)
        cache.put(key, stored)
        return SummaryView(client.id, client.name, format_name, language, stored, "database")
