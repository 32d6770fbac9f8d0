"""WhatsApp chat export parsing: both layouts, date orders, clocks, continuation, system lines, media."""

import os
from datetime import datetime
from pathlib import Path

import pytest

from ingest import whatsapp
from ingest.records import ParsedInteraction, Party, Quarantined
from storage.models import Channel, ContactKind
from tests.parser_helpers import WARSAW, split, write


def parse(path: Path) -> tuple[list[ParsedInteraction], list[Quarantined]]:
    return split(whatsapp.parse(path, WARSAW))


ANDROID_DAY_FIRST = (
    "31.12.21, 21:15 - Messages and calls are end-to-end encrypted. No one outside of this chat, "
    "not even WhatsApp, can read or listen to them. Tap to learn more.\n"
    '31.12.21, 21:15 - Anna Kowalska created group "Alpha: VIP"\n'
    "31.12.21, 21:16 - Anna Kowalska added +48 600 123 456\n"
    "31.12.21, 21:17 - Anna Kowalska: Happy new year!\n"
    "Second line of the wish\n"
    "\n"
    "and a third after a blank line\n"
    "01.01.22, 09:05 - +48 600 123 456: Dziękuję, wzajemnie: do zobaczenia\n"
    "01.01.22, 09:06 - +48 600 123 456: <Media omitted>\n"
    "01.01.22, 09:07 - Anna Kowalska: IMG-20220101-WA0001.jpg (file attached)\n"
    "Photo of the contract\n"
)


def test_android_day_first_messages(tmp_path: Path) -> None:
    path = write(tmp_path, "WhatsApp Chat with Alpha Group.txt", ANDROID_DAY_FIRST)
    messages, quarantined = parse(path)
    assert quarantined == []
    assert [m.body for m in messages] == [
        "Happy new year!\nSecond line of the wish\n\nand a third after a blank line",
        "Dziękuję, wzajemnie: do zobaczenia",
        "",
        "Photo of the contract",
    ]
    first = messages[0]
    assert first.occurred_at == datetime(2021, 12, 31, 21, 17, tzinfo=WARSAW)
    assert first.occurred_at.utcoffset().total_seconds() == 3600
    assert first.author == Party(name="Anna Kowalska")
    assert first.channel is Channel.CHAT and first.source_kind == "whatsapp"
    assert first.source_ref == f"{path}#line 4"
    assert first.thread_ref == first.client_hint == "Alpha Group"
    assert first.recipients == []
    assert messages[1].author == Party(name="+48 600 123 456", kind=ContactKind.PHONE, value="+48 600 123 456")
    assert messages[1].occurred_at == datetime(2022, 1, 1, 9, 5, tzinfo=WARSAW)
    assert messages[1].source_ref == f"{path}#line 8"
    assert messages[2].attachments == [whatsapp.MEDIA_OMITTED]
    assert messages[3].attachments == ["IMG-20220101-WA0001.jpg"]


def test_month_first_am_pm_with_narrow_no_break_space(tmp_path: Path) -> None:
    text = (
        "12/1/21, 9:15\u202fPM - John Smith: Are we still on for Friday?\n"
        "12/2/21, 12:05 AM - Jane Doe: Yes\n"
        "12/2/21, 12:30 PM - Jane Doe: Lunch\n"
    )
    messages, _ = parse(write(tmp_path, "WhatsApp Chat - Beta LLC.txt", text))
    assert [m.occurred_at for m in messages] == [
        datetime(2021, 12, 1, 21, 15, tzinfo=WARSAW),
        datetime(2021, 12, 2, 0, 5, tzinfo=WARSAW),
        datetime(2021, 12, 2, 12, 30, tzinfo=WARSAW),
    ]
    assert messages[0].client_hint == "Beta LLC"


def test_day_first_decided_by_a_field_over_twelve_anywhere(tmp_path: Path) -> None:
    text = "03/04/2021, 10:00 - Anna: early\n25/04/2021, 10:00 - Anna: later\n"
    messages, _ = parse(write(tmp_path, "chat.txt", text))
    assert messages[0].occurred_at == datetime(2021, 4, 3, 10, 0, tzinfo=WARSAW)
    assert messages[1].occurred_at == datetime(2021, 4, 25, 10, 0, tzinfo=WARSAW)
    assert messages[0].client_hint == "chat"


def test_ios_layout_with_marks_and_seconds(tmp_path: Path) -> None:
    text = (
        "\u200e[31.12.21, 21:15:03] Alpha Group: \u200eMessages and calls are end-to-end encrypted.\n"
        "[31.12.21, 21:16:04] Анна Петрова: Привет! Как дела?\n"
        "Всё готово\n"
        "\u200e[31.12.21, 21:17:05] Анна Петрова: \u200e<attached: 00000012-PHOTO-2021-12-31-21-17-05.jpg>\n"
        "\u200e[31.12.21, 21:18:06] Bob: \u200eimage omitted\n"
    )
    messages, quarantined = parse(write(tmp_path, "Чат WhatsApp с Альфа.txt", text))
    assert quarantined == []
    assert [(m.author.name, m.body, m.attachments) for m in messages] == [
        ("Анна Петрова", "Привет! Как дела?\nВсё готово", []),
        ("Анна Петрова", "", ["00000012-PHOTO-2021-12-31-21-17-05.jpg"]),
        ("Bob", "", [whatsapp.MEDIA_OMITTED]),
    ]
    assert messages[0].occurred_at == datetime(2021, 12, 31, 21, 16, 4, tzinfo=WARSAW)
    assert messages[0].client_hint == "Альфа"


def test_ios_month_first_am_pm(tmp_path: Path) -> None:
    text = "[12/31/21, 9:15:03 PM] Jan Nowak: Szczęśliwego Nowego Roku\n"
    messages, _ = parse(write(tmp_path, "Czat WhatsApp z Gamma.txt", text))
    assert messages[0].occurred_at == datetime(2021, 12, 31, 21, 15, 3, tzinfo=WARSAW)
    assert messages[0].client_hint == "Gamma"


def test_polish_and_russian_system_and_media_lines(tmp_path: Path) -> None:
    text = (
        "31.12.2021, 21:15 - Wiadomości i połączenia są szyfrowane end-to-end. Nikt spoza tego czatu "
        "nie może ich odczytać.\n"
        "31.12.2021, 21:15 - Jan Nowak dodał(a) Annę\n"
        "31.12.2021, 21:15 - Jan Nowak zmienił temat na „Alpha: VIP”\n"
        "31.12.2021, 21:16 - Jan Nowak: <Multimedia pominięte>\n"
        "31.12.2021, 21:17 - Иван: <Без медиафайлов>\n"
        "31.12.2021, 21:18 - Иван создал(а) группу «Альфа: VIP»\n"
        "31.12.2021, 21:19 - Иван: Договорились\n"
    )
    messages, quarantined = parse(write(tmp_path, "export.txt", text))
    assert quarantined == []
    assert [(m.author.name, m.body, m.attachments) for m in messages] == [
        ("Jan Nowak", "", [whatsapp.MEDIA_OMITTED]),
        ("Иван", "", [whatsapp.MEDIA_OMITTED]),
        ("Иван", "Договорились", []),
    ]


def test_bad_messages_are_quarantined_and_the_rest_imported(tmp_path: Path) -> None:
    text = (
        "preamble that is not a message\n"
        "31.12.21, 21:15 - Anna: fine\n"
        "32.13.21, 21:16 - Anna: impossible date\n"
        "31.12.21, 21:17 - Anna:\n"
        "31.12.21, 21:18 - Anna: also fine\n"
    )
    path = write(tmp_path, "chat.txt", text, encoding="utf-8-sig")
    messages, quarantined = parse(path)
    assert [m.body for m in messages] == ["fine", "also fine"]
    assert [(q.item_ref, q.raw) for q in quarantined] == [
        ("line 1", b"preamble that is not a message"),
        ("line 3", b"32.13.21, 21:16 - Anna: impossible date"),
        ("line 4", b"31.12.21, 21:17 - Anna:"),
    ]
    assert "text before the first message" in quarantined[0].reason
    assert "invalid date" in quarantined[1].reason
    assert "neither text nor an attachment" in quarantined[2].reason
    assert all(q.source_path == str(path) for q in quarantined)


def test_utf16_export(tmp_path: Path) -> None:
    path = write(tmp_path, "chat.txt", "31.12.21, 21:15 - Anna: cześć\n", encoding="utf-16")
    messages, _ = parse(path)
    assert messages[0].body == "cześć"


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"", "empty file"),
        (b"\x00\x01\x02\xff\xfe\x00binary", "binary"),
        (b"Just some notes\nwith no dates\n", "not a WhatsApp chat export"),
    ],
)
def test_whole_file_problems(tmp_path: Path, content: bytes, reason: str) -> None:
    path = tmp_path / "chat.txt"
    path.write_bytes(content)
    [result] = list(whatsapp.parse(path))
    assert isinstance(result, Quarantined)
    assert reason in result.reason
    assert result.item_ref is None and result.raw is None


def test_sniff(tmp_path: Path) -> None:
    android = ANDROID_DAY_FIRST.encode()
    ios = "\ufeff\n\n\u200e[31.12.21, 21:15:03] Anna: hi\n".encode()
    assert whatsapp.sniff(Path("WhatsApp Chat with X.txt"), android)
    assert whatsapp.sniff(Path("chat.TXT"), ios)
    assert not whatsapp.sniff(Path("chat.csv"), android)
    assert whatsapp.sniff(Path("chat.txt"), b"Exported chat\n31.12.21, 21:15 - Anna: hi\n")
    assert not whatsapp.sniff(Path("notes.txt"), b"Notes\n" * whatsapp.SNIFF_LINES + b"31.12.21, 21:15 - Anna: hi\n")
    assert not whatsapp.sniff(Path("mail.eml"), b"From: a@b.c\nSubject: hi\n\nbody")
    assert not whatsapp.sniff(Path("inbox.txt"), b"From a@b.c Sat Jan  1 10:00:00 2022\nFrom: a@b.c\n")
    assert not whatsapp.sniff(Path("notes.csv"), b"client,author,created_at,text\n")
    assert not whatsapp.sniff(Path("result.json"), b'{"name": "Alpha", "messages": []}')


def test_lines_before_the_first_message_are_quarantined_and_the_messages_imported(tmp_path: Path) -> None:
    path = write(tmp_path, "WhatsApp Chat with Alpha.txt", "Exported from a phone\n" + ANDROID_DAY_FIRST)
    assert whatsapp.sniff(path, path.read_bytes()[:4096])
    messages, quarantined = parse(path)
    first_message = "Happy new year!\nSecond line of the wish\n\nand a third after a blank line"
    assert [m.body for m in messages][:1] == [first_message]
    assert [(q.item_ref, q.reason, q.raw) for q in quarantined] == [
        ("line 1", "text before the first message", b"Exported from a phone")
    ]


def test_chat_name_from_a_file_name_in_a_legacy_charset_is_text() -> None:
    path = Path(os.fsdecode(b"WhatsApp Chat with Firma \xb3\xf3d\xbf.txt"))  # cp1250 bytes, not UTF-8
    assert whatsapp.chat_name_from_path(path) == "Firma łódż"
