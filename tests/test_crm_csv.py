"""CRM CSV parsing: notes and deal-stage history, delimiters, encodings, bad rows."""

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from ingest import crm_csv
from ingest.records import ParseError, Party, Quarantined
from storage.models import Channel
from tests.parser_helpers import WARSAW, split, write

NOTES_SEMICOLON = (
    "Client;Author;Created_At;Text;Visibility;Privileged;Note_ID\r\n"
    "Alpha Group;Anna;2025-03-21T14:00:00;Called about renewal;;nie;N-1\r\n"
    'alpha.example;Anna;21.03.2025 15:30;"Multi-line note;\r\nwith a semicolon";legal;tak;N-2\r\n'
    "Alpha Group;Anna;someday;Bad date;;;N-3\r\n"
    "\r\n"
    "+48 600 123 456;Jan;2025-03-22T09:00:00+00:00;Short call;;1;\r\n"
)


def test_notes_with_semicolons_and_bom(tmp_path: Path) -> None:
    path = write(tmp_path, "notes.csv", NOTES_SEMICOLON, encoding="utf-8-sig")
    notes, quarantined = split(list(crm_csv.parse_notes(path, WARSAW)))
    assert [n.external_id for n in notes] == ["N-1", "N-2", None]
    first, multi_line, short = notes
    assert first.channel is Channel.NOTE and first.source_kind == "notes"
    assert first.occurred_at == datetime(2025, 3, 21, 14, 0, tzinfo=WARSAW)
    assert first.author == Party(name="Anna")
    assert first.client_hint == "Alpha Group"
    assert first.body == "Called about renewal"
    assert (first.scope, first.privileged, first.outbound) == (None, False, None)
    assert first.source_ref == f"{path}#line 2"
    assert multi_line.body == "Multi-line note;\r\nwith a semicolon"
    assert multi_line.occurred_at == datetime(2025, 3, 21, 15, 30, tzinfo=WARSAW)
    assert (multi_line.scope, multi_line.privileged) == ("legal", True)
    assert short.occurred_at == datetime(2025, 3, 22, 9, 0, tzinfo=UTC)
    assert short.privileged and short.source_ref == f"{path}#line 7"
    [bad] = quarantined
    assert bad.item_ref == "line 5"
    assert bad.reason == "unreadable date 'someday'"
    assert bad.raw == b"Alpha Group;Anna;someday;Bad date;;;N-3\r\n"


def test_notes_in_cp1251_with_written_dates(tmp_path: Path) -> None:
    text = (
        "client,author,created_at,text,privileged\n"
        "ООО Ромашка,Иван Петров,3 марта 2025,Клиент просит скидку на следующий квартал,да\n"
        'ООО Ромашка,Иван Петров,"March 3, 2025",Отправили коммерческое предложение,нет\n'
        "ООО Ромашка,,2025-03-04,Нет автора,нет\n"
        "ООО Ромашка,Иван Петров,2025-03-05,Неверный флаг,может быть\n"
    )
    path = write(tmp_path, "заметки.csv", text, encoding="cp1251")
    notes, quarantined = split(list(crm_csv.parse_notes(path, WARSAW)))
    assert [(n.body, n.author.name, n.privileged) for n in notes] == [
        ("Клиент просит скидку на следующий квартал", "Иван Петров", True),
        ("Отправили коммерческое предложение", "Иван Петров", False),
    ]
    assert notes[0].occurred_at.date() == notes[1].occurred_at.date() == datetime(2025, 3, 3).date()
    assert notes[0].occurred_at.utcoffset() == timedelta(hours=1)
    assert [(q.item_ref, q.reason) for q in quarantined] == [
        ("line 4", "missing value for required column author"),
        ("line 5", "privileged value 'может быть' is not yes/no"),
    ]
    assert quarantined[0].raw == "ООО Ромашка,,2025-03-04,Нет автора,нет\n".encode("cp1251")


DEALS_COMMA = (
    "client,deal_id,deal_name,stage,changed_at,amount,currency,author,reason,visibility\n"
    'Alpha Group,D-17,Website redesign,won,2025-03-21 14:00,"12,000.00",EUR,Anna,best price.,sales\n'
    "Alpha Group,D-18,,proposal,2025-03-22,,,,,\n"
    "Alpha Group,D-19,Audit,lost,2025-03-23,abc,EUR,Anna,,\n"
    "Beta,D-20,Support,negotiation,2025-03-24,12 000\u00a0,PLN,,,\n"
    "Beta,D-21,Extra,won,2025-03-25,1,2,3,4,5,6\n"
)


def test_deals(tmp_path: Path) -> None:
    path = write(tmp_path, "deals.csv", DEALS_COMMA)
    deals, quarantined = split(list(crm_csv.parse_deals(path, WARSAW)))
    assert [d.body for d in deals] == [
        "Deal Website redesign (D-17) moved to stage won: 12,000.00 EUR. Reason: best price.",
        "Deal D-18 moved to stage proposal.",
        "Deal Support (D-20) moved to stage negotiation: 12,000.00 PLN.",
    ]
    won = deals[0]
    assert won.channel is Channel.DEAL_EVENT and won.source_kind == "deals"
    assert won.external_id == "D-17" and won.client_hint == "Alpha Group"
    assert won.occurred_at == datetime(2025, 3, 21, 14, 0, tzinfo=WARSAW)
    assert won.author == Party(name="Anna") and won.scope == "sales"
    assert won.meta == {
        "deal_id": "D-17",
        "deal_name": "Website redesign",
        "stage": "won",
        "amount": 12000.0,
        "currency": "EUR",
        "reason": "best price.",
    }
    assert deals[1].author == Party() and deals[1].meta["amount"] is None
    assert [(q.item_ref, q.reason) for q in quarantined] == [
        ("line 4", "amount 'abc' is not a number"),
        ("line 6", "row has 11 fields but the header has 10"),
    ]
    assert quarantined[0].raw == b"Alpha Group,D-19,Audit,lost,2025-03-23,abc,EUR,Anna,,\n"


@pytest.mark.parametrize(
    ("text", "amount"),
    [
        ("12 000,50", 12000.5),
        ("12,000.50", 12000.5),
        ("12.000,50", 12000.5),
        ("12000", 12000.0),
        ("1,5", 1.5),
        ("0.125", 0.125),
        ("1.234.567", 1234567.0),
        ("-300.25", -300.25),
    ],
)
def test_amounts(text: str, amount: float) -> None:
    assert crm_csv.parse_amount(text) == amount


@pytest.mark.parametrize("text", ["abc", "12 EUR", "1,2,3.4.5x", ""])
def test_bad_amounts(text: str) -> None:
    with pytest.raises(ParseError):
        crm_csv.parse_amount(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("03.04.2025 10:00", datetime(2025, 4, 3, 10, 0, tzinfo=WARSAW)),
        ("2025-04-03", datetime(2025, 4, 3, tzinfo=WARSAW)),
        ("3 kwietnia 2025", datetime(2025, 4, 3, tzinfo=WARSAW)),
        ("2025-04-03T10:00:00Z", datetime(2025, 4, 3, 10, 0, tzinfo=UTC)),
    ],
)
def test_dates(text: str, expected: datetime) -> None:
    assert crm_csv.parse_datetime(text, WARSAW) == expected


@pytest.mark.parametrize("text", ["someday", "tomorrow", "March 2025", "31.02.2025"])
def test_bad_dates(text: str) -> None:
    with pytest.raises(ParseError):
        crm_csv.parse_datetime(text, WARSAW)


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"", "empty file"),
        (b"\xef\xbb\xbf\r\n", "empty file"),
        (b"client,author,text\nAlpha,Anna,hello\n", "header lacks column(s) created_at"),
        (b"\x00\x01\x02\x03", "binary"),
    ],
)
def test_whole_file_problems(tmp_path: Path, content: bytes, reason: str) -> None:
    path = tmp_path / "notes.csv"
    path.write_bytes(content)
    [result] = list(crm_csv.parse_notes(path))
    assert isinstance(result, Quarantined)
    assert reason in result.reason
    assert result.item_ref is None and result.raw is None


def test_sniff() -> None:
    notes = NOTES_SEMICOLON.encode("utf-8-sig")
    deals = DEALS_COMMA.encode()
    tsv_notes = b"client\tauthor\tcreated_at\ttext\nAlpha\tAnna\t2025-01-01\thi\n"
    assert crm_csv.sniff_notes(Path("notes.csv"), notes)
    assert crm_csv.sniff_notes(Path("notes.tsv"), tsv_notes)
    assert crm_csv.sniff_deals(Path("DEALS.CSV"), deals)
    assert not crm_csv.sniff_notes(Path("deals.csv"), deals)
    assert not crm_csv.sniff_deals(Path("notes.csv"), notes)
    assert not crm_csv.sniff_notes(Path("notes.txt"), notes)
    assert not crm_csv.sniff_notes(Path("x.csv"), b"name,email\nAnna,a@b.c\n")
    assert not crm_csv.sniff_notes(Path("chat.txt"), b"31.12.21, 21:15 - Anna: hi\n")
    assert not crm_csv.sniff_deals(Path("result.json"), b'{"messages": [], "from_id": "user1"}')
    assert not crm_csv.sniff_notes(Path("mail.eml"), b"From: a@b.c\nSubject: client,author\n")


@pytest.mark.parametrize("row_break", ["\r", "\r\n"])
def test_a_line_break_left_unquoted_inside_a_note_stays_in_its_text(tmp_path: Path, row_break: str) -> None:
    """Writers quote only fields holding their own line ending: a CR-ended row may hold a bare LF."""
    rows = [
        "client,author,created_at,text,note_id",
        "Alpha,Anna,2025-03-01T10:00:00,First line\nsecond line,N-1",
        "Alpha,Anna,2025-03-02T10:00:00,Next note,N-2",
        "",
    ]
    path = write(
        tmp_path,
        "notes.csv",
        row_break.join(rows) if row_break == "\r" else "\r".join(rows[:2]) + "\r\n" + "\r\n".join(rows[2:]),
    )
    notes, quarantined = split(crm_csv.parse_notes(path))
    assert [(note.body, note.external_id) for note in notes] == [
        ("First line\nsecond line", "N-1"),
        ("Next note", "N-2"),
    ]
    assert not quarantined


def test_a_note_larger_than_the_csv_modules_default_field_limit_imports(tmp_path: Path) -> None:
    text = "word " * 60_000 + "end"  # 300 kB, over the csv module's default 128 KiB
    path = write(tmp_path, "notes.csv", f'client,author,created_at,text\nAlpha,Anna,2025-03-01T10:00:00,"{text}"\n')
    [note] = crm_csv.parse_notes(path)
    assert note.body == text
