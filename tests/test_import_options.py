"""Import options are explicit: time zone, internal domains and progress reach the importer with no environment."""

import io
import mailbox
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path

import pytest
from rich.console import Console
from sqlalchemy import select

from dossier.cli.render import import_progress, transcribe_progress
from dossier.settings import get_settings
from dossier.transcribe_job import TranscribeProgress
from ingest.options import ImportOptions
from ingest.pipeline import ImportProgress, import_paths
from storage.db import session_scope
from storage.errors import DossierError
from storage.models import Client, Interaction

WARSAW_OPTIONS = ImportOptions(source_timezone="Europe/Warsaw")
NOTES = "client,author,created_at,text\nTorvik Tools,Anna,2025-03-21 14:00,Called about the renewal\n"
CHAT = "21.03.2025, 15:30 - Ben Ferro: Any news on the quote?\n"
OUR_DOMAIN = "seller-side.example"


def write_inputs(folder: Path) -> Path:
    """A notes CSV and a WhatsApp chat whose times carry no zone."""
    folder.mkdir()
    (folder / "notes.csv").write_text(NOTES, encoding="utf-8")
    (folder / "WhatsApp Chat with Torvik Tools.txt").write_text(CHAT, encoding="utf-8")
    return folder


def stored_times(database_url: str) -> dict[str, datetime]:
    with session_scope(database_url) as session:
        return {i.channel: i.occurred_at.astimezone(UTC) for i in session.scalars(select(Interaction))}


def test_zone_less_csv_and_chat_times_are_read_in_the_options_zone(database_url: str, tmp_path: Path) -> None:
    report = import_paths([write_inputs(tmp_path / "in")], database_url=database_url, options=WARSAW_OPTIONS)
    assert report.imported == 2
    assert stored_times(database_url) == {
        "note": datetime(2025, 3, 21, 13, 0, tzinfo=UTC),
        "chat": datetime(2025, 3, 21, 14, 30, tzinfo=UTC),
    }


def test_default_options_read_zone_less_times_as_utc(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DOSSIER_SOURCE_TIMEZONE", "Europe/Warsaw")  # the importer never reads it
    get_settings.cache_clear()
    import_paths([write_inputs(tmp_path / "in")], database_url=database_url)
    assert stored_times(database_url) == {
        "note": datetime(2025, 3, 21, 14, 0, tzinfo=UTC),
        "chat": datetime(2025, 3, 21, 15, 30, tzinfo=UTC),
    }


def test_settings_build_the_options_the_application_passes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOSSIER_SOURCE_TIMEZONE", "Europe/Warsaw")
    monkeypatch.setenv("DOSSIER_INTERNAL_DOMAINS", f"{OUR_DOMAIN}, other-office.example")
    monkeypatch.setenv("DOSSIER_IMPORT_BATCH_SIZE", "7")
    get_settings.cache_clear()
    options = get_settings().import_options()
    assert options.source_timezone == "Europe/Warsaw"
    assert options.internal_domains == (OUR_DOMAIN, "other-office.example")
    assert options.batch_size == 7
    assert (options.default_phone_region, options.languages) == (
        ImportOptions().default_phone_region,
        ImportOptions().languages,
    )


def test_an_unknown_time_zone_is_a_clear_error() -> None:
    with pytest.raises(DossierError, match="Mars/Olympus"):
        ImportOptions(source_timezone="Mars/Olympus")


def write_mail(folder: Path) -> Path:
    """One message from our side to a client, the client's address in To."""
    message = EmailMessage()
    message["From"] = f"Rep <rep@{OUR_DOMAIN}>"
    message["To"] = "Buyer <buyer@torvik-tools.example>"
    message["Subject"] = "Your quote"
    message["Date"] = "Fri, 21 Mar 2025 10:00:00 +0000"
    message["Message-ID"] = "<quote-1@seller-side.example>"
    message.set_content("The quote is attached.")
    folder.mkdir()
    box = mailbox.mbox(folder / "sent.mbox")
    box.add(message)
    box.flush()
    return folder


def test_internal_domains_given_as_options_mark_our_side(database_url: str, tmp_path: Path) -> None:
    options = ImportOptions(internal_domains=(OUR_DOMAIN,))
    import_paths([write_mail(tmp_path / "in")], database_url=database_url, options=options)
    with session_scope(database_url) as session:
        [interaction] = session.scalars(select(Interaction))
        contacts = {contact.value for contact in session.get(Client, interaction.client_id).contacts}
        assert interaction.direction == "outbound"
    assert "buyer@torvik-tools.example" in contacts and f"rep@{OUR_DOMAIN}" not in contacts


def many_notes(folder: Path, files: int, rows: int) -> Path:
    folder.mkdir()
    for number in range(files):
        lines = [
            f"Torvik Tools,Anna,2025-03-{number + 1:02d}T{hour:02d}:00:00Z,Note {number}-{hour}" for hour in range(rows)
        ]
        (folder / f"notes-{number}.csv").write_text("client,author,created_at,text\n" + "\n".join(lines) + "\n")
    return folder


def test_the_last_progress_event_carries_the_totals(database_url: str, tmp_path: Path) -> None:
    events: list[ImportProgress] = []
    report = import_paths(
        [many_notes(tmp_path / "in", files=3, rows=4)], database_url=database_url, on_progress=events.append
    )
    assert report.imported == 12
    assert [event.done for event in events[:3]] == [1, 2, 3] and {event.total for event in events} == {3}
    last = events[-1]
    assert (last.done, last.imported, last.duplicates, last.quarantined) == (3, 12, 0, 0)


def test_the_progress_bar_ends_on_the_totals(database_url: str, tmp_path: Path) -> None:
    output = io.StringIO()
    console = Console(file=output, width=120, force_terminal=False)
    with import_progress(console) as on_progress:
        import_paths([many_notes(tmp_path / "in", files=3, rows=4)], database_url=database_url, on_progress=on_progress)
    final_line = output.getvalue().strip().splitlines()[-1]
    assert "12 new, 0 dup, 0 quar." in final_line and "3/3" in final_line


def test_the_transcription_bar_follows_its_callback_and_a_run_without_work_shows_none() -> None:
    output = io.StringIO()
    console = Console(file=output, width=120, force_terminal=False)
    with transcribe_progress(console):
        pass
    assert output.getvalue() == ""
    with transcribe_progress(console) as on_progress:
        on_progress(TranscribeProgress(1, 2, "first.wav", 1, 0))
        on_progress(TranscribeProgress(2, 2, "second.wav", 1, 1))
    final_line = output.getvalue().strip().splitlines()[-1]
    assert "second.wav" in final_line and "1 done, 1 quarantined" in final_line and "2/2" in final_line
