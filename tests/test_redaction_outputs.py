"""No personal identifier reaches an output: a message carrying an unlabelled INN, a PESEL, an IBAN and a card
with its expiry date is imported, summarized with the grounded engine, and looked for in every format, the
handover report and the digest, in any separator form."""

import json
import re
from datetime import date
from email.message import EmailMessage
from pathlib import Path

import pytest
from sqlalchemy import select

import summarizer.sources
from dossier.delivery.digest import Period, build_digest
from dossier.delivery.reports import build_handover_report
from dossier.engines import read_summary, summarize
from storage import repository
from storage.models import Client, User
from summarizer.service import FORMATS
from tests.db import import_paths, session_scope

pytest.importorskip("matplotlib", reason="report charts need matplotlib (the reports extra)")

AS_OF = date(2026, 11, 23)  # a Monday: the digest covers 2026-11-16 .. 2026-11-22
SENT = "Wed, 18 Nov 2026 10:00:00 +0100"
BODY = """Dear Anna,

we confirm the order of 40 licences for 15 000 PLN from our account PL61 1090 1014 0000 0712 1981 2874.
We will send the order form for our company, tax id 7707083893, by 25 November 2026.
We will pay the remainder by card 4111-1111-1111-1111 exp 09/28 by 30 November 2026.
For the contract, my PESEL is 44051401359; I will sign it by 1 December 2026.

Best regards,
Jan Kowalczyk
"""
DEALS = (
    "client,deal_id,stage,changed_at,deal_name\n"
    "kowalczyk-trade.example,D-7,proposal,2026-11-19T09:00:00,Licences invoiced to tax id 7707083893\n"
)
IDENTIFIERS = {
    "inn": "7707083893",
    "iban": "PL61109010140000071219812874",
    "card": "4111111111111111",
    "pesel": "44051401359",
}
EXPIRY = re.compile(r"0?9\s*/\s*(?:20)?28")
SEPARATORS = re.compile(r"[\s.\-\u00a0]")


def leaks(output: str) -> list[str]:
    """The identifiers (with or without separators) and the card expiry date found in ``output``."""
    compact = SEPARATORS.sub("", output)
    found = [name for name, digits in IDENTIFIERS.items() if digits in compact or digits[2:] in compact]
    return found + (["expiry"] if EXPIRY.search(output) else [])


def import_history(folder: Path) -> None:
    """The client's e-mail and CRM deal through the real importers, and Anna, the manager reading the digest."""
    folder.mkdir()
    message = EmailMessage()
    message["From"], message["To"] = "Jan Kowalczyk <jan@kowalczyk-trade.example>", "anna@our-sales.example"
    message["Subject"], message["Date"], message["Message-ID"] = "Order confirmation", SENT, "<order-1@kowalczyk>"
    message.set_content(BODY)
    (folder / "order.eml").write_bytes(bytes(message))
    (folder / "deals.csv").write_text(DEALS, encoding="utf-8")
    with session_scope() as session:
        repository.upsert_user(session, login="anna", name="Anna Lis", email="anna@our-sales.example", role="manager")
    report = import_paths([folder / "order.eml"])
    assert report.imported == 1
    assert import_paths([folder / "deals.csv"]).imported == 1


def outputs(client_name: str) -> dict[str, str]:
    """Every user-facing output about the client: the four formats, the handover HTML, the digest."""
    found = {}
    for name in FORMATS:
        view = read_summary(client_name, name, "en")
        assert view is not None, name
        found[name] = view.summary.markdown + json.dumps(view.summary.content, ensure_ascii=False)
    with session_scope() as session:
        client = repository.find_client(session, client_name)
        anna = session.scalars(select(User).where(User.login == "anna")).one()
        found["handover"] = build_handover_report(session, client, "handover", AS_OF.isoformat(), {})
        _subject, text, html = build_digest(session, anna, [client.id], Period.containing(AS_OF).key)
        found["digest text"], found["digest html"] = text, html
    return found


@pytest.fixture
def client_name(database_url: str, tmp_path: Path) -> str:
    import_history(tmp_path / "history")
    with session_scope() as session:
        return session.scalars(select(Client)).one().name


def test_no_identifier_or_card_expiry_reaches_any_output(client_name: str) -> None:
    assert not summarize(all_clients=True, as_of=AS_OF, languages=["en"]).failed

    found = outputs(client_name)
    assert {name: leaks(text) for name, text in found.items() if leaks(text)} == {}
    everything = " ".join(found.values())
    assert "15 000 PLN" in found["brief"] + found["structured"]  # the message was summarized, its sentences quoted
    assert [m for m in ("[inn]", "[iban]", "[card]", "[card expiry]", "[pesel]") if m not in everything] == []


def test_summaries_stored_before_redaction_still_reach_digest_and_report_redacted(
    client_name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A summary tree built when redaction missed something (an older version) is redacted when read."""
    with monkeypatch.context() as unredacted:
        unredacted.setattr(summarizer.sources, "redact", lambda text: text)
        assert not summarize(all_clients=True, as_of=AS_OF, languages=["en"]).failed

    found = outputs(client_name)
    assert leaks(found["brief"])  # the stored tree does hold the identifiers
    assert {name: leaks(found[name]) for name in ("handover", "digest text", "digest html") if leaks(found[name])} == {}
