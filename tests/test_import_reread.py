"""Re-imports skip files read before and unchanged; large mailboxes are parsed by worker processes."""

import os
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

import pytest
from sqlalchemy import select, text

from bench.corpus import generate_email_corpus
from ingest import mail, pipeline
from ingest.options import ImportOptions
from ingest.parallel_parse import ParsePool, Preparation, prepare
from storage import repository
from storage.db import upgrade_schema
from storage.models import Client, Interaction
from tests.db import import_paths, session_scope
from tests.parser_helpers import write_mbox

AT = datetime(2026, 4, 1, 9, 0, tzinfo=UTC)
OPTIONS = ImportOptions(internal_domains=("ours.example",))


def message(number: int, *, body: str | None = None) -> EmailMessage:
    mail_message = EmailMessage()
    mail_message["From"] = f"Buyer {number} <buyer{number}@client{number % 3}.example>"
    mail_message["To"] = "rep@ours.example"
    mail_message["Subject"] = f"Order {number}"
    mail_message["Date"] = format_datetime(AT + timedelta(hours=number))
    mail_message["Message-ID"] = f"<order{number}@client.example>"
    mail_message.set_content(body if body is not None else f"Please confirm order {number} for next week.")
    return mail_message


def stored_count() -> int:
    with session_scope() as session:
        return len(session.scalars(select(Interaction.id)).all())


def test_an_unchanged_file_is_skipped_and_counted(database_url, tmp_path):
    box = write_mbox(tmp_path / "orders.mbox", [message(n) for n in range(5)])
    first = import_paths([box], options=OPTIONS)
    again = import_paths([box], options=OPTIONS)
    assert (first.imported, first.unchanged) == (5, 0)
    assert (again.sources, again.imported, again.duplicates, again.quarantined, again.unchanged) == (1, 0, 0, 0, 1)
    assert "1 files unchanged, skipped" in again.summary()
    assert stored_count() == 5


def test_a_touched_file_with_the_same_content_is_skipped_and_its_new_time_recorded(database_url, tmp_path):
    box = write_mbox(tmp_path / "orders.mbox", [message(n) for n in range(5)])
    import_paths([box], options=OPTIONS)
    later = box.stat().st_mtime_ns + 5_000_000_000
    os.utime(box, ns=(later, later))
    again = import_paths([box], options=OPTIONS)
    assert (again.imported, again.duplicates, again.unchanged) == (0, 0, 1)
    with session_scope() as session:
        [state] = repository.import_file_states(session, [pipeline.file_key(box)]).values()
    assert state.mtime_ns == later


def test_a_changed_file_is_read_again(database_url, tmp_path):
    box = write_mbox(tmp_path / "orders.mbox", [message(n) for n in range(5)])
    import_paths([box], options=OPTIONS)
    write_mbox(box, [message(5)])  # appends a sixth message
    again = import_paths([box], options=OPTIONS)
    assert (again.imported, again.duplicates, again.unchanged) == (1, 5, 0)
    assert import_paths([box], options=OPTIONS).unchanged == 1


def test_a_file_that_had_something_quarantined_is_read_again(database_url, tmp_path):
    box = write_mbox(tmp_path / "orders.mbox", [message(1), message(2, body="")])  # no body: quarantined
    first = import_paths([box], options=OPTIONS)
    again = import_paths([box], options=OPTIONS)
    assert (first.imported, first.quarantined) == (1, 1)
    assert (again.imported, again.duplicates, again.quarantined, again.unchanged) == (0, 1, 1, 0)


# ------------------------------------------------------------------ worker processes


def broken_messages() -> list[bytes]:
    """Messages the parser quarantines or reads with a guess, as raw mbox entries."""
    no_body = b"From: a@x-corp.example\nTo: rep@ours.example\nDate: Wed, 01 Apr 2026 09:00:00 +0000\n\n"
    latin = (
        b"From: =?iso-8859-2?q?Pawe=B3?= <p@firma.pl>\nTo: rep@ours.example\nSubject: Zam\xf3wienie\n"
        b"Date: Wed, 01 Apr 2026 10:00:00 +0200\nContent-Type: text/plain\n\nDzie\xf1 dobry, prosz\xea o faktur\xea.\n"
    )
    not_mail = b"this is not a message at all\n"
    return [no_body, latin, not_mail]


def mixed_mbox(tmp_path: Path) -> Path:
    [corpus] = generate_email_corpus(tmp_path / "corpus", emails=120, clients=10, seed=3, workers=1)
    with corpus.open("ab") as handle:
        for raw in broken_messages():
            handle.write(b"From - Wed Apr  1 09:00:00 2026\n" + raw + b"\n")
    return corpus


def test_the_workers_parse_a_mailbox_as_the_importing_process_does(tmp_path):
    box = mixed_mbox(tmp_path)
    preparation = Preparation(OPTIONS.default_phone_region, OPTIONS.languages)
    serial = [prepare(result, preparation) for result in mail.parse(box, OPTIONS.zone)]
    pool = ParsePool(2, preparation, OPTIONS.zone)
    try:
        parallel = list(pool.parse_mbox(box, mail.raw_mbox_messages(box)))
    finally:
        pool.close()
    assert len(serial) == 123 and sum(type(result).__name__ == "Quarantined" for result in serial) >= 2
    assert parallel == serial


def interactions_by_hash(url: str) -> dict[str, tuple[object, ...]]:
    with session_scope(url) as session:
        rows = session.execute(select(Interaction, Client.name).join(Client, Client.id == Interaction.client_id)).all()
        return {
            row.content_hash: (name, row.direction, row.language, row.body, row.quoted_text, row.participants)
            for row, name in rows
        }


def test_an_import_through_the_workers_stores_what_a_serial_import_stores(database_url, tmp_path, monkeypatch):
    box = mixed_mbox(tmp_path)
    serial_url = f"sqlite:///{tmp_path / 'serial.db'}"
    upgrade_schema(serial_url)
    serial = import_paths([box], database_url=serial_url, options=ImportOptions(parse_workers=1))
    monkeypatch.setattr(pipeline, "POOL_MIN_BYTES", 0)
    pooled = import_paths([box], options=ImportOptions(parse_workers=2))
    counts = lambda report: (report.imported, report.duplicates, report.quarantined)  # noqa: E731
    assert counts(pooled) == counts(serial) and pooled.imported > 100
    assert interactions_by_hash(database_url) == interactions_by_hash(serial_url)


def test_a_grown_mailbox_parses_only_its_new_messages(database_url, tmp_path, monkeypatch):
    box = write_mbox(tmp_path / "orders.mbox", [message(n) for n in range(5)])
    import_paths([box], options=OPTIONS)
    box.unlink()
    write_mbox(box, [message(n) for n in range(8)])  # the export now holds three more messages
    parsed: list[int] = []
    parse_message = mail.parse_mbox_message
    monkeypatch.setattr(
        mail, "parse_mbox_message", lambda raw, origin: parsed.append(origin.index) or parse_message(raw, origin)
    )
    again = import_paths([box], options=OPTIONS)
    assert (again.imported, again.duplicates, again.quarantined, again.unchanged) == (3, 5, 0, 0)
    assert parsed == [6, 7, 8] and stored_count() == 8


def test_a_bulk_import_leaves_postgresql_counting_the_interactions(database_url, tmp_path, monkeypatch):
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite's planner needs no statistics")
    monkeypatch.setattr(pipeline, "ANALYZE_FIRST_AT", 4)
    box = write_mbox(tmp_path / "orders.mbox", [message(n) for n in range(6)])
    import_paths([box], options=OPTIONS)
    with session_scope() as session:
        estimate = session.scalar(text("SELECT reltuples FROM pg_class WHERE relname = 'interactions'"))
    assert estimate == 6  # without ANALYZE the planner takes the table for empty and scans it per lookup


@pytest.mark.parametrize(
    ("field", "expected"),
    [
        (b"Message-ID: <a1@x.example>", "<a1@x.example>"),
        (b"message-id:\n\t<folded@x.example>", "<folded@x.example>"),
        (b"Message-Id:   <spaced@x.example>  ", "<spaced@x.example>"),
        (b"Message-ID: =?utf-8?q?=3Cenc=40x=3E?=", None),  # an encoded word: only parsing reads it
        (b"Message-ID: <caf\xc3\xa9@x.example>", None),  # 8-bit bytes: likewise
        (b"X-Original-Message-ID: <other@x.example>", None),
    ],
)
def test_the_message_id_read_from_the_headers_is_the_one_parsing_stores(tmp_path, field, expected):
    raw = b"From: a@client.example\nDate: Wed, 1 Apr 2026 09:00:00 +0000\n" + field + b"\n\nMessage-ID: <body@x>\n"
    assert mail.raw_message_id(raw) == expected
    path = tmp_path / "message.eml"
    path.write_bytes(raw)
    [item] = mail.parse(path)
    if expected is not None:
        assert item.external_id == expected


def test_raw_messages_import_as_one_source(database_url, monkeypatch):
    raws = [bytes(message(n)) for n in range(3)] + [broken_messages()[0]]
    inbox = "imap://mail.example/INBOX"
    report = pipeline.import_messages(raws, source=inbox, database_url=database_url, options=OPTIONS)
    assert (report.sources, report.imported, report.quarantined) == (1, 3, 1)
    parsed: list[int] = []
    parse_message = mail.parse_message
    monkeypatch.setattr(mail, "parse_message", lambda *args: parsed.append(1) or parse_message(*args))
    again = pipeline.import_messages(raws, source=inbox, database_url=database_url, options=OPTIONS)
    assert (again.imported, again.duplicates, again.quarantined) == (0, 3, 1) and len(parsed) == 1  # the broken one
    assert stored_count() == 3
