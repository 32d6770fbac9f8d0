"""Customer text is shown, never run: hostile markup in subjects, bodies and names is escaped in every
HTML output (digest e-mail, quarterly and handover reports, the web card and message pages), and left as
it was written in plain-text output."""

from dataclasses import dataclass
from datetime import date
from email.message import EmailMessage
from pathlib import Path

import pytest
from sqlalchemy import select

from dossier.delivery.digest import build_digest, queue_digest
from dossier.delivery.mailer import build_message
from dossier.delivery.reports import build_handover_report, build_quarterly_review
from dossier.engines import summarize
from storage import access, repository
from storage.models import Interaction, User

pytest.importorskip("fastapi", reason="the web extra is not installed: pip install -e '.[web]'")

from fastapi.testclient import TestClient

from dossier.web import create_app
from tests.db import import_paths, session_scope

SCRIPT = "<script>alert(1)</script>"
IMAGE = "<img src=x onerror=alert(1)>"
ESCAPED = {SCRIPT: "&lt;script&gt;alert(1)&lt;/script&gt;", IMAGE: "&lt;img src=x onerror=alert(1)&gt;"}
CLIENT = f"Hostile {IMAGE} Trading"
AS_OF = date(2026, 11, 9)  # a Monday: its digest covers 2026-11-02 .. 2026-11-08
MAILS = (  # (day, subject, body): each body sentence is one the grounded engine quotes as a claim
    (
        "2026-11-03",
        f"Order {SCRIPT}",
        f"We will send the signed contract {IMAGE} by 2026-11-12.\n\n"
        f"We bought 40 terminals {SCRIPT} for the warehouse.\n",
    ),
    (
        "2026-11-04",
        f"Complaint {IMAGE}",
        f"We are unhappy: the delivery {SCRIPT} was late again.\n\n"
        f"We went with another provider {IMAGE} for support.\n",
    ),
)


@dataclass(frozen=True, slots=True)
class Hostile:
    """A summarized client whose name, mails' subjects, bodies and sender name carry markup."""

    client_id: int
    manager_id: int
    interaction_ids: list[int]


def hostile_mail(folder: Path, number: int, day: str, subject: str, body: str) -> Path:
    message = EmailMessage()
    message["From"] = f'"Ivo {SCRIPT}" <ivo@hostile-trading.example>'
    message["To"] = "mia.manager@northwind.example"
    message["Subject"], message["Date"] = subject, f"{date.fromisoformat(day):%a, %d %b %Y} 10:00:00 +0000"
    message["Message-ID"] = f"<hostile-{number}@hostile-trading.example>"
    message.set_content(body)
    path = folder / f"hostile-{number}.eml"
    path.write_bytes(bytes(message))
    return path


@pytest.fixture
def hostile(database_url: str, tmp_path: Path) -> Hostile:
    with session_scope() as session:
        manager_id = repository.upsert_user(
            session, login="mia", name="Mia Manager", email="mia.manager@northwind.example", role="manager", team="East"
        )
    paths = [hostile_mail(tmp_path, number, *mail) for number, mail in enumerate(MAILS)]
    assert import_paths(paths, client=CLIENT).imported == len(MAILS)
    with session_scope() as session:
        client = repository.find_client(session, CLIENT)
        assert client.name == CLIENT
        repository.set_client_owner(session, client.id, "mia")
        ids = list(
            session.scalars(
                select(Interaction.id).where(Interaction.client_id == client.id).order_by(Interaction.occurred_at)
            )
        )
    assert not summarize([str(client.id)], languages=["en"], as_of=AS_OF).failed
    return Hostile(client.id, manager_id, ids)


def assert_escaped(html: str, *shown: str) -> None:
    """No hostile tag is in ``html`` as markup, and each of ``shown`` is there as escaped text."""
    assert "<script>alert" not in html and "<img src=x" not in html
    for markup in shown:
        assert ESCAPED[markup] in html, f"{markup} is not shown as text"


def test_the_digest_escapes_client_names_and_quoted_mail_in_html_but_not_in_text(hostile):
    with session_scope() as session:
        manager = session.get(User, hostile.manager_id)
        _subject, text, html = build_digest(session, manager, [hostile.client_id], "2026-W46")

    assert_escaped(html, IMAGE, SCRIPT)
    assert CLIENT in text and SCRIPT in text  # plain text is not HTML: written as it was


def test_the_digest_sent_by_smtp_carries_the_escaped_html(hostile):
    with session_scope() as session:
        delivery, stored = queue_digest(session, session.get(User, hostile.manager_id), AS_OF)
        message = build_message(delivery, "Dossier <dossier@northwind.example>")

    assert stored
    assert_escaped(message.get_body(("html",)).get_content(), IMAGE, SCRIPT)


def test_quarterly_and_handover_reports_escape_names_subjects_and_statements(hostile):
    with session_scope() as session:
        client = repository.get_client(session, hostile.client_id)
        quarterly = build_quarterly_review(session, client, "quarterly", "2026Q4", {})
        handover = build_handover_report(
            session, client, "handover", AS_OF.isoformat(), {"to_manager": hostile.manager_id}
        )

    for html in (quarterly, handover):
        assert_escaped(html, IMAGE, SCRIPT)  # the client's name; the mails' subjects in the sources


def test_the_web_card_and_message_pages_escape_client_text(hostile, database_url):
    with session_scope() as session:
        token = access.create_token(session, "mia")
    client = TestClient(create_app(database_url))
    headers = {"Authorization": f"Bearer {token}"}

    card = client.get(f"/clients/{hostile.client_id}", headers=headers)
    assert card.status_code == 200 and "Being prepared" not in card.text
    assert_escaped(card.text, IMAGE, SCRIPT)  # the name; the quoted mail sentences
    for interaction_id in hostile.interaction_ids:
        page = client.get(f"/messages/{interaction_id}", headers=headers)
        assert page.status_code == 200
        assert_escaped(page.text, IMAGE, SCRIPT)  # subject, body, sender and client name
