"""Citations as links to the web app (``DOSSIER_PUBLIC_BASE_URL``): in HTML digests and reports each marker is a
link, escaped whatever the address holds; plain-text digests and notifications end with the cited addresses;
without the setting nothing links."""

import itertools
import re
from datetime import UTC, date, datetime
from email.message import EmailMessage
from html.parser import HTMLParser
from pathlib import Path

import pytest
from sqlalchemy import select

from dossier import jobs
from dossier.delivery.claims import Cited, ClientTree, Item
from dossier.delivery.digest import Digest, Period, RenderedDigest, client_digest, render_digest
from dossier.delivery.links import message_url
from dossier.delivery.reports import Document, Line, Section, render_html
from dossier.delivery.templating import TEXT_WIDTH, labels, output_language
from dossier.settings import get_settings
from storage.models import Client, Delivery, Interaction, User
from summarizer.notes import Citation, Claim, ClaimKind, Notes, Side
from tests.db import session_scope

BASE = "https://dossier.example.com/"
HOSTILE = 'https://evil.example/"><script>alert(1)</script>'
MARKER = re.compile(r"\[#\d+(?: @[\d:]+)?\]")
WEEK = "2026-W45"  # about 2026-10-26 .. 2026-11-01
SAID = date(2026, 10, 1)
DIGESTS = itertools.count()  # digests made in one test


class Links(HTMLParser):
    """Every ``<a href>`` of a page: (href, text), and whether a ``<script>`` element appeared."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.found: list[tuple[str, str]] = []
        self.scripts = 0
        self._href: str | None = None
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "script":
            self.scripts += 1
        if tag == "a":
            self._href = dict(attrs).get("href") or ""
            self.found.append((self._href, ""))

    def handle_data(self, data: str) -> None:
        if self._href is not None:
            href, text = self.found[-1]
            self.found[-1] = (href, text + data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "a":
            self._href = None


def a_claim(kind: ClaimKind, text: str, *citations: Citation, **fields: object) -> Claim:
    return Claim(kind=kind, text=text, date=SAID, sources=list(citations), weight=0.5, **fields)


def a_digest(claims: list[Claim], *, public_base_url: str | None, language: str = "en") -> RenderedDigest:
    """The digest of one client whose summary root holds ``claims``, rendered with ``public_base_url``."""
    with session_scope() as session:
        number = next(DIGESTS)
        client = Client(name=f"Acme Tools {number}", name_key=f"acme tools {number}")
        reader = User(login=f"reader{number}", name="Rita Reader", role="manager", language=language)
        session.add_all([client, reader])
        session.flush()
        period = Period.of(WEEK)
        part = client_digest(session, client, ClientTree(Notes(claims=claims)), period, labels(language))
        return render_digest(Digest(reader, period, language, [part]), public_base_url=public_base_url)


CALL = Citation(interaction_id=113, at_seconds=74)
CLAIMS = [
    a_claim(ClaimKind.RISK, "The client compares our offer with a cheaper supplier.", Citation(interaction_id=7)),
    a_claim(ClaimKind.RISK, "The client says the last delivery came two weeks late.", Citation(interaction_id=7), CALL),
    a_claim(ClaimKind.ACTION, "I will send the revised offer.", CALL, owner="Nina Berg", owner_side=Side.CLIENT),
]


def sources_block(text: str, title: str = "Sources") -> list[str]:
    """The lines of the plain-text sources list: after its title, up to the signature separator."""
    block = text.split(f"\n{title}\n", 1)[1].split("\n--\n", 1)[0]
    return [line for line in block.splitlines() if line.strip()]


def test_html_digest_links_each_marker_to_its_message_page_at_the_cited_second(database_url):
    html = a_digest(CLAIMS, public_base_url=BASE).html
    links = Links(html).found
    assert ("https://dossier.example.com/messages/7", "[#7]") in links
    assert ("https://dossier.example.com/messages/113?at=74", "[#113 @01:14]") in links
    assert {text for _href, text in links} == {"[#7]", "[#113 @01:14]"}
    assert len(links) == 4  # two risks (one with both citations) and a promise, each marker linked where it is


def test_a_hostile_base_url_is_escaped_in_every_link(database_url):
    html = a_digest(CLAIMS, public_base_url=HOSTILE).html
    parsed = Links(html)
    assert parsed.scripts == 0 and "<script>" not in html
    assert {href for href, _text in parsed.found} == {message_url(HOSTILE, 7), message_url(HOSTILE, 113, 74)}
    assert "&#34;&gt;&lt;script&gt;" in html  # the quote and brackets stay inside the attribute, escaped

    document = Document(
        "handover",
        "en",
        "Handover",
        "Acme <Tools>",
        [],
        [Section("Risks", [Line(Item("Late delivery.", SAID, (Cited.of(CALL),)))], "none")],
        public_base_url=HOSTILE,
    )
    report = render_html(document)
    assert "<script>" not in report and Links(report).scripts == 0
    assert Links(report).found == [(message_url(HOSTILE, 113, 74), "[#113 @01:14]")]


def test_the_plain_text_digest_keeps_markers_inline_and_lists_each_address_once(database_url):
    text = a_digest(CLAIMS, public_base_url=BASE).text
    assert "came two weeks late.” [#7] [#113 @01:14]" in " ".join(text.split())  # inline markers as before
    assert sources_block(text) == [
        "   [#7]          https://dossier.example.com/messages/7",
        "   [#113 @01:14] https://dossier.example.com/messages/113?at=74",
    ]
    assert max(len(line) for line in text.splitlines()) <= TEXT_WIDTH
    assert text.index("\nSources\n") < text.index("\n--\nEach statement cites")  # the footer still ends it

    russian = a_digest(CLAIMS, public_base_url=BASE, language="ru").text
    assert len(sources_block(russian, "Источники")) == 2


def test_a_long_address_goes_below_its_marker_unbroken(database_url):
    base = "https://dossier.example.com/" + "a-very-long-path-segment/" * 3
    text = a_digest(CLAIMS, public_base_url=base).text
    lines = sources_block(text)
    url = message_url(base, 113, 74)
    assert len(url) > TEXT_WIDTH - 20
    assert lines[-2:] == ["   [#113 @01:14]", f"      {url}"]


def test_without_the_setting_nothing_links(database_url):
    rendered = a_digest(CLAIMS, public_base_url=None)
    assert Links(rendered.html).found == [] and "http" not in rendered.text
    assert "\nSources\n" not in rendered.text
    assert "<cite>[#7] [#113 @01:14]</cite>" in rendered.html

    document = Document(
        "handover", "en", "Handover", "Acme", [], [Section("Risks", [Line(Item("Late.", SAID, (Cited.of(CALL),)))], "")]
    )
    assert Links(render_html(document)).found == [("#src-113", "[#113 @01:14]")]  # to its row, as before


# ------------------------------------------------------------------ mails the batch jobs send


@pytest.fixture
def refreshed(database_url: str, drop: Path) -> list[int]:
    """The sample ingested and summarized by the batch jobs."""
    ingested = jobs.ingest_drop_folders()
    assert not jobs.refresh_clients(ingested).failed
    return ingested


def linked(monkeypatch: pytest.MonkeyPatch, base_url: str = BASE) -> None:
    monkeypatch.setenv("DOSSIER_PUBLIC_BASE_URL", base_url)
    get_settings.cache_clear()


@pytest.mark.slow
def test_notifications_list_the_event_and_every_citation_of_the_brief(refreshed, monkeypatch):
    linked(monkeypatch)
    assert jobs.notify_events(refreshed)
    with session_scope() as session:
        rows = session.scalars(select(Delivery).where(Delivery.kind == "notification")).all()
        events = {row.id: session.get(Interaction, int(row.period_key.split(":")[1])) for row in rows}
        bodies = {row.id: row.text_body for row in rows}
    assert bodies
    for delivery_id, body in bodies.items():
        mail, listed = re.split(r"\n\n(?:Sources|Источники|Źródła)\n", body)
        event = events[delivery_id]
        assert f"[#{event.id}]\n\nUpdated brief:\n" in mail  # the event's own marker
        markers = list(dict.fromkeys([f"[#{event.id}]", *MARKER.findall(mail.split("Updated brief:", 1)[1])]))
        lines = [line.split() for line in listed.splitlines()]
        assert [" ".join(parts[:-1]) for parts in lines] == markers  # each cited marker once, in order
        for parts in lines:
            query = r"\?at=[\d.]+" if "@" in parts[-2] else ""
            assert re.fullmatch(rf"https://dossier\.example\.com/messages/{parts[0].strip('[#]')}{query}", parts[-1])
        assert max(len(line) for line in body.splitlines()[-len(lines) :]) <= TEXT_WIDTH


@pytest.mark.slow
def test_the_digest_mail_links_its_citations_in_html_and_lists_them_in_text(refreshed, monkeypatch):
    from tests.loopback import free_port
    from tests.test_digest import smtp_server_on

    linked(monkeypatch)
    port = free_port()
    for name, value in {"HOST": "127.0.0.1", "PORT": str(port), "BACKOFF_SECONDS": "0", "TIMEOUT_SECONDS": "5"}.items():
        monkeypatch.setenv(f"DOSSIER_SMTP_{name}", value)
    get_settings.cache_clear()
    with session_scope() as session:
        manager = session.scalars(select(User).where(User.role == "manager", User.email.is_not(None))).first()
        manager_id, title = manager.id, labels(output_language(manager.language))["digest"]["sources"]
    with smtp_server_on(port) as inbox:
        jobs.build_digest(manager_id, datetime(2026, 11, 2, tzinfo=UTC).date())
    [mail] = inbox.messages
    assert isinstance(mail, EmailMessage)
    text = mail.get_body(("plain",)).get_content()
    html = mail.get_body(("html",)).get_content()
    links = Links(html).found
    assert links and all(re.fullmatch(MARKER, marker) for _href, marker in links)
    for href, marker in links:
        interaction_id = marker[2:].split(" ")[0].rstrip("]")
        query = r"\?at=[\d.]+" if "@" in marker else ""
        assert re.fullmatch(rf"https://dossier\.example\.com/messages/{interaction_id}{query}", href)
    sources = sources_block(text, title)
    assert {line.split()[-1] for line in sources} == {href for href, _marker in links}
    assert len(sources) == len({marker for _href, marker in links})  # each marker once
