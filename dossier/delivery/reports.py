"""Quarterly business reviews and handover reports: HTML and PDF (WeasyPrint), every statement cited.

Both read the client's stored summary tree (:mod:`dossier.delivery.claims`): the root for the current facts, the
month buckets for what happened in a period. Each report ends with its sources (date, channel, author,
subject) and every citation links to its row; a ``Report`` row records what was written where.
"""

import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from dossier.delivery import charts
from dossier.delivery.claims import (
    ClientTree,
    Item,
    activity,
    chronological,
    cited_ids,
    day_start,
    latest_first,
    load_tree,
    open_actions,
    promise_item,
    shown,
    tone_line,
    tone_points,
    upcoming,
)
from dossier.delivery.people import find_user
from dossier.delivery.templating import Labels, labels, output_language, render_template
from dossier.settings import get_settings
from storage import repository
from storage.db import session_scope
from storage.errors import DossierError
from storage.models import PUBLIC_SCOPE, Client, Interaction, Report, User
from storage.periods import parse_quarter, previous_quarter
from storage.reports import ReportKey, find_report, is_current, save_report
from storage.vocabulary import closes_deal
from summarizer.notes import Citation, ClaimKind
from summarizer.redact import redact
from summarizer.render import citation_marker

KINDS = ("quarterly", "handover")
NEXT_STEPS_HORIZON = timedelta(days=30)
SCOPES = (PUBLIC_SCOPE,)


@dataclass(frozen=True, slots=True)
class Section:
    """A titled list of cited statements."""

    title: str
    items: list[Item]
    intro: str = ""


@dataclass(frozen=True, slots=True)
class Chart:
    """A chart image (PNG data URI) with its title and caption."""

    title: str
    caption: str
    image: str


@dataclass(frozen=True, slots=True)
class SourceRow:
    """One cited interaction, as the sources table lists it."""

    id: int
    day: str
    channel: str
    author: str
    reference: str


@dataclass(slots=True)
class Document:
    """A report ready to render."""

    kind: str
    language: str
    title: str
    client: str
    meta: list[str]
    sections: list[Section]
    charts: list[Chart] = field(default_factory=list)
    sources: list[SourceRow] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Written:
    """What ``make_report`` wrote."""

    report_id: int
    html_path: Path
    pdf_path: Path | None  # None: only the HTML was asked for
    new: bool = True  # False: the same report was written before and is still there


# --- sections ----------------------------------------------------------------------------------------


def _items(claims: list[Any]) -> list[Item]:
    return [Item.of(claim) for claim in claims]


def open_deals(session: Session, client_id: int, until: date) -> list[Item]:
    """Deals whose latest stage change before ``until`` left them open, each citing that change."""
    latest: dict[str, Interaction] = {}
    for interaction in session.scalars(
        select(Interaction)
        .where(
            Interaction.client_id == client_id,
            Interaction.channel == "deal_event",
            Interaction.scope.in_(SCOPES),
            Interaction.privileged.is_(False),
            Interaction.occurred_at < day_start(until),
        )
        .order_by(Interaction.occurred_at)
    ):
        latest[interaction.meta.get("deal_id") or str(interaction.deal_id)] = interaction
    return [
        Item(
            redact(interaction.body),
            interaction.occurred_at.date(),
            ((interaction.id, citation_marker(Citation(interaction_id=interaction.id))),),
        )
        for interaction in latest.values()
        if not closes_deal(str(interaction.meta.get("stage", "")))
    ]


def quarterly_sections(
    session: Session, client: Client, tree: ClientTree, start: date, end: date, as_of: date, words: Labels
) -> list[Section]:
    """Purchases, key events, solved problems, open questions and upsell chances of one quarter."""
    period = [*tree.notes_between("month", day_start(start), day_start(end)), tree.root]
    solved = [c for c in shown(period, ClaimKind.STATUS, start=start, end=end) if c.topic == "issue"]
    solved += [c for c in shown([tree.root], ClaimKind.ACTION, start=start, end=end) if c.done]
    report = words["report"]
    return [
        Section(report["purchases"], _items(chronological(shown(period, ClaimKind.PURCHASE, start=start, end=end)))),
        Section(
            report["key_events"],
            _items(chronological(shown(period, ClaimKind.EVENT, ClaimKind.AGREEMENT, start=start, end=end))),
        ),
        Section(report["solved"], _items(chronological(solved))),
        Section(
            report["open_questions"],
            [promise_item(c, as_of, words) for c in open_actions(tree.root) if c.date is None or c.date < end],
        ),
        Section(report["upsell"], open_deals(session, client.id, end)),
    ]


def handover_sections(session: Session, client: Client, tree: ClientTree, as_of: date, words: Labels) -> list[Section]:
    """Status, history, agreements, people, open promises, risks, next steps, what not to ask again."""
    root, months = tree.root, tree.notes_between("month", None, day_start(as_of + timedelta(days=1)))
    report = words["report"]
    established = shown([root], ClaimKind.PREFERENCE, ClaimKind.AGREEMENT, ClaimKind.PURCHASE)
    return [
        Section(report["current_status"], _items(latest_first(shown([root], ClaimKind.STATUS))[:5])),
        Section(report["history"], _items(chronological(shown([*months, root], ClaimKind.EVENT, ClaimKind.PURCHASE)))),
        Section(report["agreements"], _items(chronological(shown([root], ClaimKind.AGREEMENT)))),
        Section(report["people"], _items(shown([root], ClaimKind.PERSON))),
        Section(report["open_promises"], [promise_item(c, as_of, words) for c in open_actions(root)]),
        Section(report["risks"], _items(sorted(shown([root], ClaimKind.RISK), key=lambda c: -c.weight))),
        Section(
            report["next_steps"],
            open_deals(session, client.id, as_of + timedelta(days=1))
            + [promise_item(c, as_of, words) for c in upcoming(root, as_of, NEXT_STEPS_HORIZON)],
        ),
        Section(report["do_not_ask"], _items(chronological(established)), intro=report["do_not_ask_intro"]),
    ]


def report_charts(
    session: Session, client: Client, tree: ClientTree, start: date | None, end: date, words: Labels
) -> list[Chart]:
    """Activity by channel (weekly within a quarter, monthly over a whole history) and the tone trend."""
    events = activity(session, client.id, day_start(start) if start else None, day_start(end))
    first = start or (events[0][0].date() if events else end - timedelta(days=1))
    by_week = start is not None
    report = words["report"]
    found = [
        Chart(
            report["activity"],
            report["activity_caption"].format(bin=report["week" if by_week else "month"], count=len(events)),
            charts.activity_chart(events, first, end, by_week=by_week, channel_names=words["channels"]),
        )
    ]
    points = tone_points(tree.root.tone, until=end - timedelta(days=1))
    if points:
        trend = tone_line(tree.root.tone, end - timedelta(days=1), words)
        found.append(
            Chart(report["tone"], f"{report['tone_caption']} {report['tone']}: {trend}", charts.tone_chart(points))
        )
    return found


def source_rows(session: Session, ids: list[int], words: Labels) -> list[SourceRow]:
    """The cited interactions, oldest first."""
    rows = session.scalars(select(Interaction).where(Interaction.id.in_(ids)).order_by(Interaction.occurred_at))
    return [
        SourceRow(
            i.id,
            f"{i.occurred_at:%Y-%m-%d %H:%M}",
            words["channels"].get(i.channel, i.channel),
            i.author or "",
            redact(i.subject) if i.subject else i.source_ref,
        )
        for i in rows
    ]


# --- documents ---------------------------------------------------------------------------------------


def build_document(
    session: Session, kind: str, client: Client, *, quarter: str | None, to: User | None, language: str, as_of: date
) -> Document:
    """The report's content: header lines, sections, charts and sources."""
    words = labels(language)
    report = words["report"]
    tree = load_tree(session, client.id, language=language, scopes=SCOPES)
    meta = [report["generated"].format(date=as_of.isoformat())]
    if kind == "quarterly":
        label, start, end = parse_quarter(quarter or previous_quarter(as_of))
        meta.insert(
            0,
            report["quarter"].format(quarter=label, start=start.isoformat(), end=(end - timedelta(days=1)).isoformat()),
        )
        sections = quarterly_sections(session, client, tree, start, end, as_of, words)
        found_charts = report_charts(session, client, tree, start, end, words)
    else:
        meta.insert(0, report["whole_history"].format(date=as_of.isoformat()))
        sections = handover_sections(session, client, tree, as_of, words)
        found_charts = report_charts(session, client, tree, None, as_of + timedelta(days=1), words)
    if client.owner_id and (owner := session.get(User, client.owner_id)):
        meta.append(report["owner"].format(name=owner.name))
    if to is not None:
        meta.append(report["prepared_for"].format(name=to.name))
    sources = source_rows(session, cited_ids(item for section in sections for item in section.items), words)
    return Document(kind, language, report[kind], client.name, meta, sections, found_charts, sources)


def report_language(session: Session, client: Client, to: User | None, language: str | None = None) -> str:
    """``language`` if given, else the reader's: the ``--to`` user's, else the account manager's (English
    when that language has no labels)."""
    reader = to or (session.get(User, client.owner_id) if client.owner_id else None)
    return output_language(language or (reader.language if reader else None))


def build_quarterly_review(session: Session, client: Client, _kind: str, period: str, _params: dict[str, Any]) -> str:
    """HTML of the quarterly review of ``period`` (``2025Q4``): the batch jobs' builder contract
    (called by ``dossier.jobs``)."""
    document = build_document(
        session,
        "quarterly",
        client,
        quarter=period,
        to=None,
        language=report_language(session, client, None),
        as_of=date.today(),
    )
    return render_html(document)


def build_handover_report(session: Session, client: Client, _kind: str, period: str, params: dict[str, Any]) -> str:
    """HTML of the handover report on day ``period`` to ``params["to_manager"]`` (a user id): the batch jobs'
    builder contract (called by ``dossier.jobs``)."""
    to = session.get(User, params["to_manager"]) if params.get("to_manager") else None
    document = build_document(
        session,
        "handover",
        client,
        quarter=None,
        to=to,
        language=report_language(session, client, to),
        as_of=date.fromisoformat(period),
    )
    return render_html(document)


def render_html(document: Document) -> str:
    """The report as one self-contained HTML page (charts embedded)."""
    return render_template("report.html.j2", doc=document, L=labels(document.language))


def write_pdf(html: str, path: Path) -> None:
    """Lay the HTML out as a PDF with WeasyPrint (the ``reports`` extra)."""
    try:
        from weasyprint import HTML
    except ImportError as error:  # pragma: no cover - depends on the installation
        raise DossierError(
            "PDF reports need WeasyPrint: pip install 'dossier[reports]' "
            f"(and its system libraries, Pango and HarfBuzz): {error}"
        ) from error
    HTML(string=html, base_url=str(path.parent)).write_pdf(path)


def output_paths(out: Path) -> tuple[Path, Path]:
    """(HTML path, PDF path) of a report file ``out`` named ``.html`` or ``.pdf``: both sit side by side."""
    return out.with_suffix(".html"), out.with_suffix(".pdf")


def out_file(out: Path, client: Client, key: ReportKey) -> Path:
    """The report file ``--out`` names: ``FILE.pdf`` or ``FILE.html`` as given, or the default name inside a
    folder (an existing one, or a path without a suffix); anything else is a ``DossierError``."""
    if out.suffix.lower() in (".html", ".pdf"):
        return out
    if out.is_dir() or not out.suffix:
        return out / default_name(client, key)
    raise DossierError(f"--out {out}: name a .pdf or .html file, or a folder")


def default_name(client: Client, key: ReportKey) -> str:
    """A report's file name: kind, client, period, reader and language."""
    name = "-".join(filter(None, (key.kind, client.name, key.period, key.reader, key.language)))
    slug = re.sub(r"[^\w-]+", "-", name, flags=re.UNICODE).strip("-").lower()
    return f"{slug}.pdf"


def make_report(
    kind: str,
    client_ref: str,
    *,
    quarter: str | None = None,
    to: str | None = None,
    out: Path | None = None,
    language: str | None = None,
    as_of: date | None = None,
    pdf: bool = True,
    database_url: str | None = None,
) -> Written:
    """Write a quarterly review or handover report as HTML (and PDF unless ``pdf`` is False) and record it.

    The one way to make a report, for the ``dossier report`` commands and the batch jobs alike. The same
    report (client, kind, quarter or day, reader, language: a :class:`storage.reports.ReportKey`) is
    recorded once: asked for again, the recorded one is returned while its files are there (at ``out``
    when given) and nothing it reads has changed since; otherwise it is written again and its record updated.
    """
    if kind not in KINDS:
        raise DossierError(f"unknown report {kind!r}; expected one of: {', '.join(KINDS)}")
    as_of = as_of or date.today()
    with session_scope(database_url or get_settings().database_url) as session:
        client = repository.find_client(session, client_ref)
        if client is None:
            raise DossierError(f"no client matches {client_ref!r} (try `dossier clients`)")
        recipient = find_user(session, to) if to else None
        period = parse_quarter(quarter or previous_quarter(as_of))[0] if kind == "quarterly" else as_of.isoformat()
        quarter = period if kind == "quarterly" else None
        language = report_language(session, client, recipient, language)
        key = ReportKey(client.id, kind, period, recipient.login if recipient else None, language)
        wanted = output_paths(out_file(out, client, key)) if out is not None else None
        recorded = find_report(session, key)
        reusable = recorded is not None and is_current(session, recorded)
        if recorded is not None and reusable and (files := _recorded_files(recorded, wanted, pdf)) is not None:
            return Written(recorded.id, *files, new=False)
        document = build_document(session, kind, client, quarter=quarter, to=recipient, language=language, as_of=as_of)
        html_path, pdf_path = wanted or output_paths(Path(get_settings().reports_dir) / default_name(client, key))
        html_path.parent.mkdir(parents=True, exist_ok=True)
        html = render_html(document)
        html_path.write_text(html, encoding="utf-8")
        if pdf:
            write_pdf(html, pdf_path)
        row = save_report(session, key, as_of=as_of, html_path=html_path, pdf_path=pdf_path if pdf else None)
        return Written(row.id, html_path, pdf_path if pdf else None, new=True)


def _recorded_files(report: Report, wanted: tuple[Path, Path] | None, pdf: bool) -> tuple[Path, Path | None] | None:
    """A recorded report's (HTML, PDF) files when those needed are there (and are ``wanted``), else None."""
    html_path = Path(report.html_path) if report.html_path else None
    pdf_path = Path(report.pdf_path) if report.pdf_path else None
    needed = (html_path, pdf_path) if pdf else (html_path,)
    if html_path is None or not all(path is not None and path.is_file() for path in needed):
        return None
    if wanted is not None and (html_path, pdf_path if pdf else None) != (
        wanted[0].resolve(),
        wanted[1].resolve() if pdf else None,
    ):
        return None
    return html_path, pdf_path
