"""Importing for real into the database: clients, histories, idempotency, quarantine, the CLI."""

import json
import mailbox
import os
from email.message import EmailMessage
from email.utils import format_datetime, parsedate_to_datetime
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from dossier.cli import app
from dossier.demo.sample import generate_broken_inputs, generate_sample
from ingest.options import ImportOptions
from storage import repository
from storage.models import Client, Interaction
from tests.conftest import SHARED_DATA
from tests.db import import_paths, session_scope

runner = CliRunner()


def register_users(sample) -> None:
    with session_scope() as session:
        for user in sample.users:
            repository.upsert_user(
                session, login=user.login, name=user.name, email=user.email, role=user.role, team=user.team
            )


def counts_by_client(database_url) -> dict[str, dict[str, int]]:
    with session_scope(database_url) as session:
        return {o.name: o.counts for o in repository.client_overviews(session)}


def test_sample_import_finds_every_client_and_channel(database_url, tmp_path):
    sample = generate_sample(tmp_path / "sample")
    register_users(sample)
    report = import_paths([tmp_path / "sample"])
    assert report.quarantined == 0
    expected = {client.name: client.expected for client in sample.clients}
    assert counts_by_client(database_url) == expected
    assert report.imported == sum(sum(c.values()) for c in expected.values())


def test_reimport_adds_nothing(database_url, tmp_path):
    sample = generate_sample(tmp_path / "sample")
    register_users(sample)
    first = import_paths([tmp_path / "sample"])
    second = import_paths([tmp_path / "sample"])
    assert second.imported == 0
    assert second.unchanged == second.sources - 1  # every file; the maildir folder is read again
    assert 0 < second.duplicates < first.imported
    with session_scope(database_url) as session:
        assert session.query(Interaction).count() == first.imported


def test_same_mail_from_mbox_and_eml_is_stored_once(database_url, tmp_path):
    message = EmailMessage()
    message["From"] = "Ivan Petrov <ivan@alpha-group.ru>"
    message["To"] = "anna@northwind.example"
    message["Subject"] = "Quote"
    message["Date"] = "Tue, 03 Mar 2026 10:00:00 +0300"
    message["Message-ID"] = "<q1@alpha-group.ru>"
    message.set_content("Please send the quote for 20 licences.")
    (tmp_path / "one.eml").write_bytes(bytes(message))
    box = mailbox.mbox(tmp_path / "all.mbox")
    box.add(message)
    box.flush()
    report = import_paths([tmp_path / "one.eml", tmp_path / "all.mbox"])
    assert (report.imported, report.duplicates) == (1, 1)


def test_broken_files_are_quarantined_with_reasons_and_the_rest_imports(database_url, tmp_path):
    broken = generate_broken_inputs(tmp_path / "broken")
    good = tmp_path / "good.eml"
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = "a@client.example", "b@northwind.example", "Hi"
    message["Date"] = "Tue, 03 Mar 2026 10:00:00 +0000"
    message.set_content("A normal message.")
    good.write_bytes(bytes(message))
    report = import_paths([tmp_path / "broken", good])
    assert report.imported >= 1 + sum(b.good_items for b in broken)
    with session_scope(database_url) as session:
        items = repository.quarantine_items(session)
    assert report.quarantined == len(items) > 0
    by_file = {
        Path(item.source_path).relative_to(tmp_path / "broken").as_posix()
        for item in items
        if Path(item.source_path).is_relative_to(tmp_path / "broken")
    }
    with session_scope(database_url) as session:
        bodies = [body for (body,) in session.query(Interaction.body)]
    for entry in broken:
        if entry.recoverable_text:  # e.g. a wrong declared charset: recovered, not lost
            assert any(entry.recoverable_text in body for body in bodies), entry.name
        elif entry.good_items == 0:
            assert entry.name in by_file, f"{entry.name} ({entry.reason}) not quarantined"
    assert all(item.reason for item in items)
    whole_files = [item for item in items if item.item_ref is None]
    assert all(item.raw is not None for item in whole_files)  # nothing lost: the bytes are kept


def test_reimporting_broken_files_adds_no_quarantine_rows(database_url, tmp_path):
    generate_broken_inputs(tmp_path / "broken")
    import_paths([tmp_path / "broken"])
    with session_scope(database_url) as session:
        before = len(repository.quarantine_items(session))
    import_paths([tmp_path / "broken"])
    with session_scope(database_url) as session:
        assert len(repository.quarantine_items(session)) == before


def bc3_threads() -> list[dict]:
    path = SHARED_DATA / "bc3_email_threads" / "dev" / "bc3_email_threads_dev.jsonl"
    if not path.exists():
        pytest.skip("shared BC3 data not available")
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_real_bc3_threads_build_correct_histories(database_url, tmp_path, monkeypatch):
    threads = bc3_threads()
    for thread in threads:
        box = mailbox.mbox(tmp_path / f"{thread['id']}.mbox")
        for n, mail in enumerate(thread["emails"]):
            message = EmailMessage()
            message["From"], message["To"] = mail["from"], mail["to"]
            message["Subject"] = mail["subject"]
            message["Date"] = format_datetime(parsedate_to_datetime(mail["received"]))
            message["Message-ID"] = f"<{thread['id']}.{n}@bc3>"
            message.set_content(mail["body"])
            box.add(message)
        box.flush()
        report = import_paths([tmp_path / f"{thread['id']}.mbox"], client=f"BC3 {thread['id']}")
        assert report.imported == len(thread["emails"]), thread["id"]
    with session_scope(database_url) as session:
        for thread in threads:
            client = repository.find_client(session, f"BC3 {thread['id']}")
            history = repository.client_history(session, client.id)
            assert len(history) == len(thread["emails"])
            times = [i.occurred_at for i in history]
            assert times == sorted(times)
            expected_authors = sorted(m["from"].split("<")[-1].strip(">").lower() for m in thread["emails"])
            assert sorted(i.author_contact for i in history) == expected_authors


def test_bc3_without_forced_client_groups_by_sender_domain(database_url, tmp_path):
    thread = bc3_threads()[0]
    box = mailbox.mbox(tmp_path / "t.mbox")
    for n, mail in enumerate(thread["emails"]):
        message = EmailMessage()
        message["From"], message["To"], message["Subject"] = mail["from"], mail["to"], mail["subject"]
        message["Date"] = format_datetime(parsedate_to_datetime(mail["received"]))
        message["Message-ID"] = f"<bc3.{n}@bc3>"
        message.set_content(mail["body"])
        box.add(message)
    box.flush()
    import_paths([tmp_path / "t.mbox"], options=ImportOptions(internal_domains=("w3.org",)))
    with session_scope(database_url) as session:
        interactions = session.query(Interaction).all()
        assert len(interactions) == len(thread["emails"])
        for interaction in interactions:
            contacts = {c.value for c in session.get(Client, interaction.client_id).contacts}
            assert interaction.author_contact in contacts


def test_cli_import_summary_and_exit_codes(database_url, tmp_path):
    sample = generate_sample(tmp_path / "sample")
    register_users(sample)
    result = runner.invoke(app, ["import", str(tmp_path / "sample")])
    assert result.exit_code == 0, result.output
    assert "imported" in result.output and "0 quarantined" in result.output
    (tmp_path / "junk").mkdir()
    (tmp_path / "junk" / "x.bin").write_bytes(b"\x00\x01\x02" * 100)
    result = runner.invoke(app, ["import", str(tmp_path / "junk")])
    assert result.exit_code == 1
    assert "1 quarantined" in result.output


def test_cli_history_and_clients_json(database_url, tmp_path):
    sample = generate_sample(tmp_path / "sample")
    register_users(sample)
    runner.invoke(app, ["import", str(tmp_path / "sample")])
    clients = json.loads(runner.invoke(app, ["clients", "--json"]).output)
    assert {c["name"] for c in clients} == {c.name for c in sample.clients}
    name = sample.clients[0].name
    history = json.loads(runner.invoke(app, ["history", name, "--json"]).output)
    times = [i["occurred_at"] for i in history["interactions"]]
    assert times == sorted(times) and len(times) == sum(sample.clients[0].expected.values())


def test_cli_errors_are_one_line(database_url, tmp_path):
    import subprocess
    import sys

    from dossier.cli import main

    result = subprocess.run(
        [sys.executable, "-c", "from dossier.cli import main; main()", "history", "Nobody"],
        capture_output=True,
        text=True,
        env={**__import__("os").environ, "DOSSIER_DATABASE_URL": database_url},
    )
    assert result.returncode == 1
    assert result.stderr.strip().count("\n") == 0 and "no client matches" in result.stderr
    assert main  # the entry point is importable


def test_commands_require_an_initialised_database(tmp_path, monkeypatch):
    monkeypatch.setenv("DOSSIER_DATABASE_URL", f"sqlite:///{tmp_path / 'empty.db'}")
    from dossier.settings import get_settings

    get_settings.cache_clear()
    result = runner.invoke(app, ["clients"])
    assert result.exit_code != 0
    assert "dossier init" in str(result.exception)


@pytest.mark.parametrize("command", ["init", "import", "clients", "history", "quarantine", "demo", "summarize", "show"])
def test_every_command_has_help(command):
    result = runner.invoke(app, [command, "--help"])
    assert result.exit_code == 0 and "Usage" in result.output


def test_files_whose_names_are_not_utf8_import_and_reimport_adds_nothing(database_url, tmp_path):
    folder = tmp_path / "exports"
    folder.mkdir()
    name = os.fsdecode(b"WhatsApp Chat with Firma \xb3\xf3d\xbf.txt")  # a cp1250 file name
    (folder / name).write_text("01.03.25, 10:00 - Anna Nowak: Dzień dobry, faktura jest gotowa.\n")
    (folder / os.fsdecode(b"notes-\xff.txt")).write_bytes(b"\x00\x01 not a known format")
    first = import_paths([folder])
    second = import_paths([folder])
    assert (first.imported, first.quarantined) == (1, 1)
    assert (second.imported, second.duplicates, second.unchanged) == (0, 0, 1)
    with session_scope(database_url) as session:
        [source_ref] = session.scalars(select(Interaction.source_ref)).all()
        [item] = repository.quarantine_items(session)
        clients = session.scalars(select(Client.name)).all()
    assert "Firma \\xb3\\xf3d\\xbf.txt#line 1" in source_ref
    assert item.source_path.endswith("notes-\\xff.txt") and item.raw == b"\x00\x01 not a known format"
    assert clients == ["Firma łódż"]


def test_a_folder_linking_to_itself_is_quarantined_once_and_walked_once(database_url, tmp_path):
    folder = tmp_path / "exports"
    folder.mkdir()
    (folder / "chat.txt").write_text("01.03.25, 10:00 - Anna Nowak: Dzień dobry, faktura jest gotowa.\n")
    (folder / "back").symlink_to("../exports")
    report = import_paths([folder])
    assert (report.sources, report.imported, report.quarantined) == (2, 1, 1)
    with session_scope(database_url) as session:
        [item] = repository.quarantine_items(session)
    assert item.source_path == str(folder / "back")
    assert "symbolic link loop" in item.reason and "../exports" in item.reason
