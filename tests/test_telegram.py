"""Telegram Desktop export parsing: one-chat and full-account exports, entity text, bad messages."""

import json
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from ingest import telegram
from ingest.records import ParsedInteraction, Party, Quarantined
from storage.models import Channel, ContactKind

WARSAW = ZoneInfo("Europe/Warsaw")


def chat(chat_id: int, name: str, messages: list) -> dict:
    return {"name": name, "type": "personal_chat", "id": chat_id, "messages": messages}


SINGLE_CHAT = chat(
    4242,
    "Alpha Group",
    [
        {"id": 1, "type": "service", "date": "2025-01-02T09:00:00", "actor": "Anna", "action": "create_group"},
        {
            "id": 2,
            "type": "message",
            "date": "2025-01-02T10:00:00",
            "from": "Anna Kowalska",
            "from_id": "user123",
            "text": "Hello, the offer is attached.",
            "file": "files/offer.pdf",
            "file_name": "offer.pdf",
            "media_type": "document",
        },
        {
            "id": 3,
            "type": "message",
            "date": "2025-01-02T11:00:00",
            "date_unixtime": "1735815600",
            "from": "Иван",
            "from_id": "user456",
            "reply_to_message_id": 2,
            "text": [
                "See ",
                {"type": "link", "text": "https://example.com"},
                " and ",
                {"type": "bold", "text": "сегодня"},
            ],
        },
        {
            "id": 4,
            "type": "message",
            "date": "2025-01-02T11:05:00",
            "from": "Иван",
            "from_id": "user456",
            "text": "",
            "file": "stickers/sticker.webp",
            "media_type": "sticker",
            "sticker_emoji": "👍",
        },
        {
            "id": 5,
            "type": "message",
            "date": "2025-01-02T11:06:00",
            "from": "Anna Kowalska",
            "from_id": "user123",
            "text": "",
            "photo": "photos/photo_1@02-01-2025_11-06-00.jpg",
        },
        {"id": 6, "type": "message", "from": "Anna Kowalska", "text": "no date"},
        {"id": 7, "type": "message", "date": "2025-01-02T11:08:00", "from": "Anna Kowalska", "text": 42},
        "not an object",
        {"id": 8, "type": "message", "date": "2025-01-02T11:09:00", "from": None, "text": "from a deleted account"},
    ],
)


def write_json(tmp_path: Path, data: object, name: str = "result.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")
    return path


def split(results: list) -> tuple[list[ParsedInteraction], list[Quarantined]]:
    return (
        [r for r in results if isinstance(r, ParsedInteraction)],
        [r for r in results if isinstance(r, Quarantined)],
    )


def test_single_chat_export(tmp_path: Path) -> None:
    path = write_json(tmp_path, SINGLE_CHAT)
    messages, quarantined = split(list(telegram.parse(path, WARSAW)))
    assert [m.external_id for m in messages] == ["4242:2", "4242:3", "4242:5", "4242:8"]
    offer, link, photo, deleted = messages
    assert offer.channel is Channel.CHAT and offer.source_kind == "telegram"
    assert offer.body == "Hello, the offer is attached."
    assert offer.occurred_at == datetime(2025, 1, 2, 10, 0, tzinfo=WARSAW)
    assert offer.author == Party(name="Anna Kowalska", kind=ContactKind.TELEGRAM, value="user123")
    assert offer.attachments == ["offer.pdf"]
    assert offer.source_ref == f"{path}#chat 4242 message 2"
    assert offer.thread_ref == offer.client_hint == "Alpha Group"
    assert link.body == "See https://example.com and сегодня"
    assert link.occurred_at == datetime(2025, 1, 2, 11, 0, tzinfo=UTC)
    assert link.meta == {"reply_to": "4242:2"}
    assert photo.body == "" and photo.attachments == ["photo_1@02-01-2025_11-06-00.jpg"]
    assert deleted.author == Party()
    assert [(q.item_ref, q.reason) for q in quarantined] == [
        ("chat 4242 message 6", "message has no date"),
        ("chat 4242 message 7", "text is a JSON int, not a string or a list of entities"),
        ("chat 4242 message (no id)", "message is a JSON str, not an object"),
    ]
    assert json.loads(quarantined[0].raw) == SINGLE_CHAT["messages"][5]


def test_full_account_export(tmp_path: Path) -> None:
    account = {
        "about": "Here is the data you requested.",
        "personal_information": {"user_id": 1, "first_name": "Me"},
        "contacts": {"about": "", "list": [{"first_name": "Anna", "phone_number": "+48600123456"}]},
        "chats": {
            "about": "This page lists all chats from this export.",
            "list": [
                chat(
                    1,
                    "Beta",
                    [
                        {
                            "id": 10,
                            "type": "message",
                            "date": "2025-03-01T08:00:00",
                            "from": "Bob",
                            "from_id": "user9",
                            "text": "first chat",
                        }
                    ],
                ),
                chat(2, "Empty", []),
                chat(
                    3,
                    "Gamma",
                    [
                        {
                            "id": 10,
                            "type": "message",
                            "date": "2025-03-02T08:00:00",
                            "from": "Eve",
                            "from_id": "user7",
                            "text": "second chat",
                        }
                    ],
                ),
            ],
        },
    }
    messages, quarantined = split(list(telegram.parse(write_json(tmp_path, account))))
    assert quarantined == []
    assert [(m.external_id, m.client_hint, m.body) for m in messages] == [
        ("1:10", "Beta", "first chat"),
        ("3:10", "Gamma", "second chat"),
    ]


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"", "empty file"),
        (b'{"name": "Alpha", "id": 1, "messages": [{"id": 1, "type": "mess', "invalid JSON"),
        (b'{"products": [1, 2, 3]}', "not a Telegram export"),
        (b"\x00\x01binary\xff", "invalid JSON"),
    ],
)
def test_whole_file_problems(tmp_path: Path, content: bytes, reason: str) -> None:
    path = tmp_path / "result.json"
    path.write_bytes(content)
    [result] = list(telegram.parse(path))
    assert isinstance(result, Quarantined)
    assert reason in result.reason
    assert result.item_ref is None and result.raw is None


def test_sniff(tmp_path: Path) -> None:
    head = write_json(tmp_path, SINGLE_CHAT).read_bytes()[:4096]
    assert telegram.sniff(Path("result.json"), head)
    assert telegram.sniff(Path("result.json"), b'{\n "about": "Here is the data", "chats": {"list": [')
    assert not telegram.sniff(Path("result.txt"), head)
    assert not telegram.sniff(Path("other.json"), b'{"messages": [{"subject": "hi", "sender": "a@b.c"}]}')
    assert not telegram.sniff(Path("package.json"), b'{"name": "x", "version": "1.0"}')
    assert not telegram.sniff(Path("notes.csv"), b"client,author,created_at,text\n")
    assert not telegram.sniff(Path("mail.eml"), b"From: a@b.c\nSubject: messages\n")


@pytest.mark.parametrize("messages", [[], [{"id": 1, "type": "service", "date": "2024-01-01T10:00:00"}]])
def test_export_without_messages_is_quarantined_not_skipped(tmp_path: Path, messages: list) -> None:
    path = write_json(tmp_path, chat(5, "Alpha", messages))
    [result] = list(telegram.parse(path))
    assert isinstance(result, Quarantined) and result.reason.startswith("no messages")
    assert result.item_ref is None  # the whole file, kept as its bytes by the pipeline
