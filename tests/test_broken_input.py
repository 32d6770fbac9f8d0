"""Broken input never stops an import, never loses bytes, never turns into text by a silent guess."""

import csv
import json
import os
import random
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dossier.cli import app
from ingest import crm_csv, whatsapp
from ingest.decoding import decode_text
from storage import repository
from storage.models import Interaction
from tests.db import import_paths, session_scope
from tests.parser_helpers import split, write

NOTES_HEADER = "client,author,created_at,text\n"


def quarantined_by_name(database_url: str) -> dict[str, list]:
    with session_scope(database_url) as session:
        items = repository.quarantine_items(session)
        session.expunge_all()
    by_name: dict[str, list] = {}
    for item in items:
        by_name.setdefault(Path(item.source_path).name, []).append(item)
    return by_name


def note_bodies(database_url: str) -> list[str]:
    with session_scope(database_url) as session:
        return sorted(body for (body,) in session.query(Interaction.body))


# --- 1. CR-only line endings and binary bytes under a .csv name --------------------------------------


def test_notes_with_cr_only_line_endings_are_read_row_by_row(tmp_path: Path) -> None:
    text = NOTES_HEADER + "Alpha,Anna,2025-03-01,First note\n" + 'Alpha,Anna,2025-03-02,"Two\nlines"\n'
    path = write(tmp_path, "old-mac.csv", text.replace("\n", "\r"))
    assert crm_csv.sniff_notes(path, path.read_bytes())
    notes, quarantined = split(crm_csv.parse_notes(path))
    assert quarantined == []
    assert [(n.body, n.source_ref) for n in notes] == [
        ("First note", f"{path}#line 2"),
        ("Two\rlines", f"{path}#line 3"),
    ]


def test_binary_csv_is_quarantined_alone_with_its_bytes(database_url: str, tmp_path: Path) -> None:
    garbage = random.Random(7).randbytes(3000)
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "export.csv").write_bytes(garbage)
    write(tmp_path / "in", "notes.csv", NOTES_HEADER + "Alpha,Anna,2025-03-01,Kept note\n")
    report = import_paths([tmp_path / "in"])
    assert report.imported == 1
    [item] = quarantined_by_name(database_url)["export.csv"]
    assert "binary" in item.reason
    assert item.raw == garbage


# --- 2. Short legacy-encoded texts --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "encoding"),
    [
        ("Заметка в cp1251", "cp1251"),
        ("Клиент просит скидку на следующий квартал", "cp1251"),
        ("ООО РОМАШКА", "cp1251"),
        ("привет как дела", "cp1251"),
        ("Заметка в koi8", "koi8-r"),
        ("привет как дела", "koi8-r"),
        ("Spotkanie w środę", "cp1250"),
        ("Klient prosi o rabat, Łódź", "cp1250"),
        ("Spotkanie w środę", "iso-8859-2"),
        ("Zażółć gęślą jaźń, Śląsk", "iso-8859-2"),
    ],
)
def test_short_legacy_texts_decode_to_what_was_written(text: str, encoding: str) -> None:
    decoded = decode_text(text.encode(encoding))
    assert (decoded.text, decoded.suspect_reason) == (text, None)


def test_short_cp1251_notes_file_is_not_mojibake(tmp_path: Path) -> None:
    path = write(tmp_path, "notes.csv", NOTES_HEADER + "Альфа,Иван,2025-03-01,Заметка в cp1251\n", "cp1251")
    [note] = crm_csv.parse_notes(path)
    assert (note.client_hint, note.author.name, note.body) == ("Альфа", "Иван", "Заметка в cp1251")


def test_utf8_wins_and_a_wrong_declared_charset_is_reported() -> None:
    assert decode_text("Zażółć".encode()) == ("Zażółć", "utf-8", None)
    recovered = decode_text("Заметка".encode("cp1251"), declared="utf-8")
    assert (recovered.text, recovered.encoding) == ("Заметка", "cp1251")
    assert "declared charset utf-8 does not fit" in recovered.suspect_reason
    assert decode_text("Заметка".encode("koi8-r"), declared="koi8-r") == ("Заметка", "koi8-r", None)
    assert decode_text(b"plain", declared="us-ascii").suspect_reason is None


def test_damaged_utf8_is_flagged_not_read_as_mixed_script_mojibake() -> None:
    data = "Заметка про клиента".encode() + b"\xff"  # UTF-8 but for one byte: cp1251 reads "Р—Р°РјРµС‚РєР°"
    decoded = decode_text(data)
    assert decoded.text == "Заметка про клиента\ufffd"
    assert "invalid UTF-8: 1 undecodable byte" in decoded.suspect_reason


def test_nothing_plausible_is_reported_not_guessed() -> None:
    decoded = decode_text(bytes(range(0x80, 0x100)) * 4)
    assert decoded.suspect_reason is not None and "no encoding gives plausible text" in decoded.suspect_reason


def test_undecodable_notes_file_is_quarantined_with_the_reason(tmp_path: Path) -> None:
    path = tmp_path / "notes.csv"
    path.write_bytes(NOTES_HEADER.encode() + bytes(range(0x80, 0x100)) * 4)
    [result] = crm_csv.parse_notes(path)
    assert result.item_ref is None and "no encoding gives plausible text" in result.reason


# --- 3. Unclosed quotes -------------------------------------------------------------------------------


def test_unclosed_quote_does_not_merge_rows(tmp_path: Path) -> None:
    text = (
        NOTES_HEADER + 'Alpha,Anna,2025-03-01,"Opened and never closed\n'
        "Alpha,Anna,2025-03-02,Second note\n"
        'Alpha,Anna,2025-03-03,"Quoted, properly"\n'
    )
    path = write(tmp_path, "notes.csv", text)
    notes, quarantined = split(crm_csv.parse_notes(path))
    assert [n.body for n in notes] == ["Second note", "Quoted, properly"]
    [bad] = quarantined
    assert bad.item_ref == "line 2" and "unclosed quote" in bad.reason
    assert bad.raw == b'Alpha,Anna,2025-03-01,"Opened and never closed\n'


def test_file_ending_inside_a_quote_is_quarantined(tmp_path: Path) -> None:
    text = NOTES_HEADER + "Alpha,Anna,2025-03-01,Fine\n" + 'Alpha,Anna,2025-03-02,"Cut off\nin the middle'
    notes, quarantined = split(crm_csv.parse_notes(write(tmp_path, "notes.csv", text)))
    assert [n.body for n in notes] == ["Fine"]
    [bad] = quarantined
    assert bad.item_ref == "lines 3-4" and "ends inside a quoted field" in bad.reason
    assert bad.raw == b'Alpha,Anna,2025-03-02,"Cut off\nin the middle'


def test_multi_line_notes_with_commas_stay_whole(tmp_path: Path) -> None:
    text = NOTES_HEADER + 'Alpha,Anna,2025-03-01,"Agreed: price, delivery,\nterms, and support"\n'
    notes, quarantined = split(crm_csv.parse_notes(write(tmp_path, "notes.csv", text)))
    assert quarantined == [] and [n.body for n in notes] == ["Agreed: price, delivery,\nterms, and support"]


def test_malformed_line_is_quarantined_and_reading_goes_on(tmp_path: Path) -> None:
    huge = "x" * (csv.field_size_limit() + 1)  # a cell csv refuses to read
    text = NOTES_HEADER + f"Alpha,Anna,2025-03-01,{huge}\n" + "Alpha,Anna,2025-03-02,After\n"
    notes, quarantined = split(crm_csv.parse_notes(write(tmp_path, "notes.csv", text)))
    assert [n.body for n in notes] == ["After"]
    [bad] = quarantined
    assert bad.item_ref == "line 2" and "malformed CSV" in bad.reason and huge.encode() in bad.raw


# --- 4. Sources that yield nothing say why -------------------------------------------------------------


def test_chat_of_only_system_lines_is_quarantined_with_the_reason(tmp_path: Path) -> None:
    text = (
        "31.12.21, 21:15 - Messages and calls are end-to-end encrypted. Tap to learn more.\n"
        '31.12.21, 21:15 - Anna created group "Alpha"\n'
        "31.12.21, 21:16 - Anna added Ivan\n"
    )
    [result] = whatsapp.parse(write(tmp_path, "WhatsApp Chat with Alpha.txt", text))
    assert result.item_ref is None and "no messages" in result.reason and "3 system lines" in result.reason


def test_header_only_csv_is_quarantined_with_the_reason(tmp_path: Path) -> None:
    [result] = crm_csv.parse_notes(write(tmp_path, "notes.csv", NOTES_HEADER + "\n,,,\n"))
    assert result.item_ref is None and "no data rows" in result.reason


def test_every_source_that_yields_nothing_is_in_the_quarantine(database_url: str, tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    write(folder, "notes.csv", NOTES_HEADER)
    write(folder, "WhatsApp Chat with Alpha.txt", "31.12.21, 21:16 - Anna added Ivan\n")
    os.symlink(tmp_path / "gone.csv", folder / "link.csv")
    import_paths([folder])
    by_name = quarantined_by_name(database_url)
    assert by_name["notes.csv"][0].raw == NOTES_HEADER.encode()
    assert by_name["WhatsApp Chat with Alpha.txt"][0].raw is not None
    [link] = by_name["link.csv"]
    assert str(tmp_path / "gone.csv") in link.reason and "dangling symbolic link" in link.reason
    assert link.raw is None


def test_a_named_pipe_is_reported_not_read(database_url: str, tmp_path: Path) -> None:
    (tmp_path / "in").mkdir()
    os.mkfifo(tmp_path / "in" / "notes.csv")  # opening it to sniff would block the import
    import_paths([tmp_path / "in"])
    [pipe] = quarantined_by_name(database_url)["notes.csv"]
    assert "not a regular file" in pipe.reason and "named pipe" in pipe.reason and pipe.raw is None


# --- 5. Large inputs are kept, in pieces ----------------------------------------------------------------


def test_large_single_line_file_is_kept_whole(database_url: str, tmp_path: Path) -> None:
    content = random.Random(3).randbytes(1024) * (17 * 1024)  # 17 MiB, past the old 16 MiB cut-off
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "dump.txt").write_bytes(content)
    import_paths([tmp_path / "in"])
    with session_scope(database_url) as session:
        [item] = repository.quarantine_items(session)
        pieces = list(repository.quarantine_bytes(session, item.id))
        assert repository.kept_sizes(session, [item.id]) == {item.id: len(content)}
    assert len(pieces) > 1 and max(len(piece) for piece in pieces) <= repository.QUARANTINE_PIECE_BYTES
    assert b"".join(pieces) == content
    import_paths([tmp_path / "in"])  # re-importing adds neither a row nor pieces
    with session_scope(database_url) as session:
        [again] = repository.quarantine_items(session)
        assert again.id == item.id and repository.kept_sizes(session, [item.id]) == {item.id: len(content)}


def test_small_quarantined_bytes_read_back_the_same_way(database_url: str) -> None:
    with session_scope(database_url) as session:
        repository.add_quarantine(
            session,
            source_path="a.csv",
            source_kind="notes",
            item_ref="line 2",
            reason="unreadable date",
            raw=b"row\n",
            import_run_id=None,
        )
        [item] = repository.quarantine_items(session)
        assert list(repository.quarantine_bytes(session, item.id)) == [b"row\n"]


# --- 6. The quarantine command ---------------------------------------------------------------------------


def test_quarantine_command_shows_reasons_and_kept_sizes(database_url: str, tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    write(folder, "notes.csv", NOTES_HEADER + 'Alpha,Anna,2025-03-01,"Never closed\nAlpha,Anna,2025-03-02,Ok\n')
    os.symlink(tmp_path / "gone.txt", folder / "link.txt")
    import_paths([folder])
    rows = json.loads(CliRunner().invoke(app, ["quarantine", "--json"]).output)
    by_item = {(Path(row["source"]).name, row["item"]): row for row in rows}
    unclosed = by_item[("notes.csv", "line 2")]
    assert "unclosed quote" in unclosed["reason"] and unclosed["bytes"] == len('Alpha,Anna,2025-03-01,"Never closed\n')
    assert by_item[("link.txt", None)]["bytes"] is None
    table = CliRunner(env={"COLUMNS": "250"}).invoke(app, ["quarantine"]).output
    assert "unclosed quote" in table and "dangling symbolic link" in table
    assert "36 bytes" in table and "nothing kept" in table
