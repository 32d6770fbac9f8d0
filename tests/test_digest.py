"""The Monday digest end to end: sample history summarized, digests stored in the outbox and sent to a
real SMTP server on loopback (aiosmtpd), what arrived parsed; SMTP down keeps them pending, never lost."""

import itertools
import re
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
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
from storage.models import Delivery, Interaction, User
from tests.db import import_paths, session_scope

AS_OF = date(2026, 11, 2)  # a Monday: the digest covers 2026-10-26 .. 2026-11-01, ISO week 2026-W45
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


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


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
    """The items under the ``occurrence``-th section called ``title`` of a plain-text digest."""
    lines = text.split(f"» {title}\n")[occurrence].splitlines()
    return list(itertools.takewhile(lambda line: line.startswith("   - "), lines))


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
    assert message["Subject"] == "Przegląd poniedziałkowy 2026-W45: klienci: 2"  # Piotr reads Polish
    assert message.is_multipart() and message.get_content_type() == "multipart/alternative"
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    for body in (text, html):
        assert "Alfa Group" in body and "Bałtyk Logistyka" in body  # his team's clients (Elena's, Marek's)
        assert "Harbor &" not in body and "Nordlicht" not in body  # the other team's are not his
    # "Ivanov promised to answer and did not": Ivan's budget answer, and ours, both cited
    [ivan] = [line for line in section(text, "Zaległe obietnice: klienta") if "Иван Петров" in line]
    assert "Бюджет на LP-40" in ivan and "od tego czasu nic" in ivan
    [cited] = MARKER.findall(ivan)
    assert client_of(int(cited)) == "Alfa Group"
    ours = "\n".join(section(text, "Zaległe obietnice: nasze", occurrence=2))  # Bałtyk's part
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
    assert "Monday digest 2026-W44: 1 clients" in text  # Lena's language (de) has no labels: English
    assert "Nordlicht Medizintechnik" in text and "Alfa Group" not in text and "Harbor" not in text
    risks = "\n".join(section(text, "New risks"))
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

    assert subject == "Monday digest 2026-W44: 1 clients"
    assert "Your clients from 2026-10-19 to 2026-10-25" in text and "Nordlicht Medizintechnik" in html
    assert deliveries() == []  # the batch job stores it itself
