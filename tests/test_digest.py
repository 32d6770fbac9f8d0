"""The Monday digest end to end: sample history summarized, digests stored in the outbox and sent to a
real SMTP server on loopback (aiosmtpd), what arrived parsed; SMTP down keeps them pending, never lost."""

import itertools
import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default as default_policy
from pathlib import Path

import pytest
import typer
from sqlalchemy import select
from typer.testing import CliRunner

from dossier.cli.reports import digest_command, report_app
from dossier.demo.sample import Sample, generate_sample
from dossier.engines import summarize
from dossier.settings import get_settings
from storage import repository
from storage.models import Client, Delivery, Interaction, User
from summarizer.notes import Citation, Claim, ClaimKind, Notes, Side
from tests.db import import_paths, session_scope
from tests.loopback import free_port

AS_OF = date(2026, 11, 2)  # a Monday: the digest covers 2026-10-26 .. 2026-11-01, ISO week 2026-W45
OUR_SIDE_PL = "Zaległe po naszej stronie: nasze obietnice, prośby klienta"
CLIENT_SIDE_PL = "Zaległe po stronie klienta: jego obietnice, nasze prośby"
MARKER = re.compile(r"\[#(\d+)(?: @\d+:\d{2})?\]")
runner = CliRunner()


def cli() -> typer.Typer:
    """The commands as the lead registers them in ``dossier.cli``."""
    app = typer.Typer()
    app.command("digest")(digest_command)
    app.add_typer(report_app, name="report")
    return app


def load_summarized_sample(folder: Path) -> Sample:
    """The sample with our users (roles, teams, languages) imported into the configured database and
    summarized (shared with test_reports)."""
    sample = generate_sample(folder)
    with session_scope() as session:
        for user in sample.users:
            repository.upsert_user(
                session,
                login=user.login,
                name=user.name,
                email=user.email,
                role=user.role,
                team=user.team,
                language=user.language,
            )
    import_paths(sample.paths)
    report = summarize(all_clients=True, as_of=AS_OF, languages=["en"])
    assert not report.failed
    return sample


@pytest.fixture
def summarized_sample(database_url, tmp_path) -> Sample:
    return load_summarized_sample(tmp_path / "sample")


class Inbox:
    """An aiosmtpd handler that keeps what it receives."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []

    async def handle_DATA(self, _server, _session, envelope) -> str:
        self.messages.append(message_from_bytes(envelope.content, policy=default_policy))
        return "250 OK"


@pytest.fixture
def smtp_port(monkeypatch) -> int:
    """SMTP settings pointing at a free loopback port, without waits between tries."""
    port = free_port()
    monkeypatch.setenv("DOSSIER_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("DOSSIER_SMTP_PORT", str(port))
    monkeypatch.setenv("DOSSIER_SMTP_SENDER", "Dossier <dossier@northwind-sales.example>")
    monkeypatch.setenv("DOSSIER_SMTP_BACKOFF_SECONDS", "0")
    monkeypatch.setenv("DOSSIER_SMTP_TIMEOUT_SECONDS", "5")
    get_settings.cache_clear()
    return port


@contextmanager
def smtp_server_on(port: int) -> Iterator[Inbox]:
    """A real SMTP server (aiosmtpd) on loopback while the block runs."""
    controller_module = pytest.importorskip("aiosmtpd.controller", reason="aiosmtpd is in the reports extra")
    inbox = Inbox()
    controller = controller_module.Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox
    finally:
        controller.stop()


@pytest.fixture
def smtp_server(smtp_port) -> Iterator[Inbox]:
    with smtp_server_on(smtp_port) as inbox:
        yield inbox


def run_digest(*args: str) -> str:
    result = runner.invoke(cli(), ["digest", *args, "--as-of", AS_OF.isoformat()])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result.output


def deliveries() -> list[Delivery]:
    with session_scope() as session:
        return list(session.scalars(select(Delivery).order_by(Delivery.id)))


def section(text: str, title: str, occurrence: int = 1) -> list[str]:
    """The items under the ``occurrence``-th section called ``title`` of a plain-text digest, each item's
    wrapped lines joined."""
    lines = text.split(f"» {title}\n")[occurrence].splitlines()
    items: list[str] = []
    for line in itertools.takewhile(lambda line: line.startswith(("   - ", "     ")), lines):
        if line.startswith("   - "):
            items.append(line)
        else:
            items[-1] += " " + line.strip()
    return items


def client_of(interaction_id: int) -> str:
    with session_scope() as session:
        interaction = session.get(Interaction, interaction_id)
        return repository.find_client(session, str(interaction.client_id)).name


def test_the_managers_digest_arrives_as_text_and_html_with_their_clients_and_cited_overdue_promises(
    summarized_sample, smtp_server
):
    output = run_digest("--manager", "pnowak", "--send")

    assert "1 sent" in output
    [message] = smtp_server.messages
    assert message["To"] == "piotr.nowak@northwind-sales.example"
    assert message["Subject"] == "Przegląd poniedziałkowy 2026-W45: 2 klientów"  # Piotr reads Polish
    assert message.is_multipart() and message.get_content_type() == "multipart/alternative"
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    for body in (text, html):
        assert "Alfa Group" in body and "Bałtyk Logistyka" in body  # his team's clients (Elena's, Marek's)
        assert "Harbor &" not in body and "Nordlicht" not in body  # the other team's are not his
    # "Ivanov promised to answer and did not": Ivan's budget answer, and ours, both cited
    [ivan] = [line for line in section(text, CLIENT_SIDE_PL) if "Иван Петров" in line]
    assert "Бюджет на LP-40" in ivan and "od tego czasu nic" in ivan
    [cited] = MARKER.findall(ivan)
    assert client_of(int(cited)) == "Alfa Group"
    ours = "\n".join(section(text, OUR_SIDE_PL, occurrence=2))  # Bałtyk's part
    assert "Marek Kowalski" in ours and "Przygotuję ofertę do 30 września" in ours and "2026-09-30" in ours
    assert all(client_of(int(i)) == "Bałtyk Logistyka" for i in MARKER.findall(ours))
    # this week's change, cited
    assert "Co się zmieniło w tym tygodniu" in text and "Есть новости по бюджету на LP-40?" in text
    assert re.search(r"„Есть новости по бюджету на LP-40\?” <cite>\[#\d+\]</cite>", html)  # quoted as the source's
    [row] = deliveries()
    assert (row.kind, row.period_key, row.status, row.attempts, row.last_error) == (
        "digest",
        "2026-W45",
        "sent",
        1,
        None,
    )


def test_smtp_down_keeps_the_digest_pending_and_a_later_send_delivers_it_once(summarized_sample, smtp_port):
    output = run_digest("--manager", "dmiller", "--send")

    assert "0 sent, 1 still pending" in output
    [row] = deliveries()
    assert row.status == "pending" and row.attempts == get_settings().smtp_attempts
    assert "Connection refused" in row.last_error or "ConnectionRefused" in row.last_error

    with smtp_server_on(smtp_port) as inbox:
        # without --manager every recipient's digest is queued, and everything pending is sent
        assert "6 sent, 0 still pending, 0 failed" in run_digest("--send")
        sent = len(inbox.messages)
        assert "0 sent, 0 still pending" in run_digest("--send")  # re-run: nothing new, nothing twice
        assert run_digest("--manager", "dmiller", "--send").count("already sent") == 1
    assert len(inbox.messages) == sent
    rows = deliveries()
    assert len(rows) == len({(r.user_id, r.period_key) for r in rows}) == sent
    dmiller = next(r for r in rows if r.recipient == "diana.miller@northwind-sales.example")
    assert (dmiller.status, dmiller.attempts, dmiller.last_error) == ("sent", get_settings().smtp_attempts + 1, None)
    assert [m["To"] for m in inbox.messages].count("diana.miller@northwind-sales.example") == 1


def test_a_reps_digest_covers_only_their_clients_with_new_risks_and_tone(summarized_sample, tmp_path):
    out = tmp_path / "preview"
    output = runner.invoke(cli(), ["digest", "--manager", "lweber", "--out", str(out), "--as-of", "2026-10-26"]).output

    assert "digest-2026-W44-lweber.html" in output
    text = (out / "digest-2026-W44-lweber.txt").read_text(encoding="utf-8")
    assert "Monday digest 2026-W44: 1 client\n" in text  # Lena's language (de) has no labels: English
    assert "Nordlicht Medizintechnik" in text and "Alfa Group" not in text and "Harbor" not in text
    risks = "\n".join(section(text, "New risks this week"))
    assert re.search(r"“We went with another provider for support\.” \[#\d+\]", risks)
    assert "Tone trend: cooling (" in text
    assert (out / "digest-2026-W44-lweber.html").read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert deliveries() == []  # a preview stores and sends nothing


def test_digest_options_are_checked(summarized_sample, tmp_path):
    both = runner.invoke(cli(), ["digest", "--send", "--out", str(tmp_path)])
    unknown = runner.invoke(cli(), ["digest", "--manager", "nobody"])

    assert "either --send or --out" in str(both.exception)
    assert "no user 'nobody'" in str(unknown.exception)


def test_the_batch_jobs_builder_contract_gives_subject_text_and_html(summarized_sample):
    from dossier.delivery.digest import build_digest

    with session_scope() as session:
        diana = session.scalar(select(User).where(User.login == "dmiller"))
        nordlicht = repository.find_client(session, "Nordlicht Medizintechnik")
        subject, text, html = build_digest(session, diana, [nordlicht.id], "2026-W44")

    assert subject == "Monday digest 2026-W44: 1 client"
    assert "Your clients from 2026-10-19 to 2026-10-25" in text and "Nordlicht Medizintechnik" in html
    assert deliveries() == []  # the batch job stores it itself


# ------------------------------------------------------------------ what one client's part shows

WEEK = "2026-W45"  # about 2026-10-26 .. 2026-11-01
SAID = date(2026, 10, 1)


def a_claim(kind: ClaimKind, text: str, source: int, **fields: object) -> Claim:
    return Claim(kind=kind, text=text, date=SAID, sources=[Citation(interaction_id=source)], weight=0.5, **fields)


def a_client_digest(claims: list[Claim], *, author: str = "Nina Berg", language: str = "en") -> str:
    """The plain text of a digest of one client whose summary root holds ``claims``; one stored interaction
    written by ``author``."""
    from dossier.delivery.claims import ClientTree
    from dossier.delivery.digest import Digest, Period, client_digest, render_digest
    from dossier.delivery.templating import labels

    with session_scope() as session:
        client = Client(name="Acme Tools", name_key="acme tools")
        reader = User(login="reader", name="Rita Reader", role="manager", language=language)
        session.add_all([client, reader])
        session.flush()
        session.add(
            Interaction(
                client_id=client.id,
                channel="email",
                author=author,
                occurred_at=datetime(2026, 10, 1, 9, tzinfo=UTC),
                body="Hello.",
                source_kind="email",
                source_ref="generated",
                content_hash="0" * 64,
            )
        )
        session.flush()
        period = Period.of(WEEK)
        part = client_digest(session, client, ClientTree(Notes(claims=claims)), period, labels(language))
        return render_digest(Digest(reader, period, language, [part])).text


def test_a_promise_said_by_a_raw_speaker_label_names_the_side_and_a_known_person_by_name(database_url):
    promise = "I will send the price list by Friday"
    text = a_client_digest(
        [
            a_claim(ClaimKind.ACTION, f"{promise}.", 1, owner="agent", owner_side=Side.US, due=date(2026, 10, 9)),
            a_claim(ClaimKind.ACTION, "I will confirm the order.", 2, owner="Speaker 1", owner_side=Side.CLIENT),
            a_claim(ClaimKind.ACTION, "I will book the visit.", 3, owner="Nina Berg", owner_side=Side.CLIENT),
        ]
    )
    assert "agent" not in text and "Speaker 1" not in text
    items = "\n".join(section(text, "Overdue on our side: our promises, the client's requests"))
    assert f"we promised “{promise}” by 2026-10-09 and did not deliver [#1]" in items
    theirs = "\n".join(section(text, "Overdue on the client's side: their promises, our requests"))
    assert "the client promised “I will confirm the order” on 2026-10-01" in theirs
    assert "Nina Berg promised “I will book the visit”" in theirs


def test_every_risk_the_digest_counts_is_listed_and_no_fragment_is_shown_as_one(database_url):
    risks = [f"The client compares our offer with supplier number {n}." for n in range(1, 4)]
    text = a_client_digest(
        [a_claim(ClaimKind.RISK, risk, n) for n, risk in enumerate(risks, 1)]
        + [a_claim(ClaimKind.RISK, "[card], expiry 09/28", 9), a_claim(ClaimKind.RISK, "4111 1111 1111 1111", 9)]
    )
    assert not re.search(r"risks?: \d", text)  # no bare count
    listed = section(text, "Open risks from earlier weeks")
    assert [item.split("“")[1].split("”")[0] for item in listed] == risks
    assert "expiry" not in text and "[card]" not in text and "[#9]" not in text


def test_a_long_section_says_how_many_more_items_there_are(database_url):
    from dossier.delivery.digest import MAX_ITEMS

    requests = [f"Could you send the invoice copy for order {n}?" for n in range(1, MAX_ITEMS + 3)]
    text = a_client_digest([a_claim(ClaimKind.ACTION, r, n, owner_side=Side.US) for n, r in enumerate(requests, 1)])
    listed = section(text, "Overdue on our side: our promises, the client's requests")
    assert len(listed) == MAX_ITEMS and all(item.startswith("   - the client asked “") for item in listed)
    assert "… and 2 more in the client's card" in text


def test_the_plain_text_digest_fits_80_columns_and_keeps_each_citation_on_one_line(database_url):
    long_promise = "I will send the revised offer with the volume discount, the delivery plan and the terms"
    promise = a_claim(ClaimKind.ACTION, f"{long_promise}.", 113, owner="Nina Berg", owner_side=Side.CLIENT)
    text = a_client_digest([promise.model_copy(update={"sources": [Citation(interaction_id=113, at_seconds=74)]})])
    assert max(len(line) for line in text.splitlines()) <= 80
    assert re.search(r"\[#113 @01:14\]$", text, re.M)
