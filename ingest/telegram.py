"""Telegram Desktop ``result.json`` exports (one chat, or the whole account), streamed with ijson."""

import codecs
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import Any, BinaryIO
from zoneinfo import ZoneInfo

import ijson

from ingest.records import ParsedInteraction, ParseError, ParseResult, Party
from ingest.textfile import (
    DEFAULT_ZONE,
    decode_head,
    in_source_timezone,
    quarantine_file,
    quarantine_item,
)
from storage.models import Channel, ContactKind

SOURCE_KIND = "telegram"
#: Where chats sit in an export: the top level of a one-chat export, or the account export's lists.
CHAT_PREFIXES = ("", "chats.list.item", "left_chats.list.item")
TELEGRAM_KEYS = (
    '"date_unixtime"',
    '"from_id"',
    '"personal_chat"',
    '"private_group"',
    '"private_supergroup"',
    '"public_supergroup"',
    '"saved_messages"',
    '"text_entities"',
    '"personal_information"',
    '"about"',
)
_CONTAINER_STARTS = {"start_map", "start_array"}
_CONTAINER_ENDS = {"end_map", "end_array"}
#: Chat keys read while streaming, and the ``_Chat`` attribute each fills.
_CHAT_FIELDS = {"id": "chat_id", "name": "name"}


@dataclass(slots=True)
class _Chat:
    """The chat whose messages are being read."""

    chat_id: str = ""
    name: str | None = None


def sniff(path: Path, head: bytes) -> bool:
    """A ``.json`` file whose head has a messages or chats list and a Telegram-specific key."""
    if path.suffix.lower() != ".json":
        return False
    text = decode_head(head)
    has_list = '"messages"' in text or '"chats"' in text
    return has_list and any(key in text for key in TELEGRAM_KEYS)


def parse(path: Path, zone: ZoneInfo = DEFAULT_ZONE) -> Iterator[ParseResult]:
    """Each message of every chat in the export (local times in ``zone``); service messages and bare stickers are
    skipped."""
    try:
        with path.open("rb") as handle:
            _skip_byte_order_mark(handle)
            if _is_blank(handle):
                yield quarantine_file(path, "empty file")
                return
            yield from _parse_stream(handle, path, zone)
    except OSError as error:
        yield quarantine_file(path, f"cannot read file: {error.strerror or error}")


def _skip_byte_order_mark(handle: BinaryIO) -> None:
    """Position ``handle`` after a UTF-8 byte-order mark, if the file starts with one."""
    start = handle.read(len(codecs.BOM_UTF8))
    handle.seek(len(codecs.BOM_UTF8) if start == codecs.BOM_UTF8 else 0)


def _is_blank(handle: BinaryIO) -> bool:
    """Whether nothing but whitespace follows the handle's position (which is kept)."""
    position = handle.tell()
    blank = not handle.read(4096).strip()
    handle.seek(position)
    return blank


def _parse_stream(handle: BinaryIO, path: Path, zone: ZoneInfo) -> Iterator[ParseResult]:
    """The results of every message; an export that yields none is quarantined whole, not silently empty."""
    found_message_list = False
    results = 0
    try:
        for chat, item in _stream_messages(handle):
            found_message_list = True
            if item is not None:
                for result in _convert(item, chat, path, zone):
                    results += 1
                    yield result
    except (ijson.JSONError, UnicodeDecodeError) as error:
        yield quarantine_file(path, f"invalid JSON, reading stopped: {error}")
        return
    if not found_message_list:
        yield quarantine_file(path, "not a Telegram export: no chat with a messages list")
    elif not results:
        yield quarantine_file(path, "no messages: the export's messages lists are empty or hold only service messages")


def _stream_messages(handle: BinaryIO) -> Iterator[tuple[_Chat, Any]]:
    """(chat, message object) for each message; (chat, None) for a chat with an empty list.

    Only one message is held in memory at a time.
    """
    chats_by_prefix = {prefix: _Chat() for prefix in CHAT_PREFIXES}
    message_prefixes = {_key(prefix, "messages.item"): prefix for prefix in CHAT_PREFIXES}
    field_prefixes = {
        _key(prefix, key): (prefix, attribute) for prefix in CHAT_PREFIXES for key, attribute in _CHAT_FIELDS.items()
    }
    list_prefixes = {_key(prefix, "messages"): prefix for prefix in CHAT_PREFIXES}
    builder: ijson.ObjectBuilder | None = None
    depth = 0
    for prefix, event, value in ijson.parse(handle, use_float=True):
        if builder is not None:
            builder.event(event, value)
            depth += (event in _CONTAINER_STARTS) - (event in _CONTAINER_ENDS)
            if depth == 0:
                yield chats_by_prefix[message_prefixes[prefix]], builder.value
                builder = None
        elif prefix in CHAT_PREFIXES and event == "start_map":
            chats_by_prefix[prefix] = _Chat()
        elif prefix in field_prefixes and event not in _CONTAINER_STARTS:
            chat_prefix, attribute = field_prefixes[prefix]
            setattr(chats_by_prefix[chat_prefix], attribute, _text_or_none(value))
        elif prefix in list_prefixes and event == "end_array":
            yield chats_by_prefix[list_prefixes[prefix]], None
        elif prefix in message_prefixes:
            if event in _CONTAINER_STARTS:
                builder, depth = ijson.ObjectBuilder(), 1
                builder.event(event, value)
            else:
                yield chats_by_prefix[message_prefixes[prefix]], value


def _key(prefix: str, name: str) -> str:
    return f"{prefix}.{name}" if prefix else name


def _text_or_none(value: Any) -> str | None:
    return None if value is None else str(value)


def _convert(message: Any, chat: _Chat, path: Path, zone: ZoneInfo) -> Iterator[ParseResult]:
    """The interaction for one message object, nothing for a skipped one, or its quarantine record."""
    try:
        interaction = _to_interaction(message, chat, path, zone)
    except ParseError as error:
        message_id = message.get("id") if isinstance(message, dict) else None
        raw = json.dumps(message, ensure_ascii=False, default=str).encode("utf-8")
        item_ref = f"chat {chat.chat_id} message {message_id if message_id is not None else '(no id)'}"
        yield quarantine_item(path, item_ref, str(error), raw)
        return
    if interaction is not None:
        yield interaction


def _to_interaction(message: Any, chat: _Chat, path: Path, zone: ZoneInfo) -> ParsedInteraction | None:
    if not isinstance(message, dict):
        raise ParseError(f"message is a JSON {type(message).__name__}, not an object")
    if message.get("type") == "service":
        return None
    if message.get("type", "message") != "message":
        raise ParseError(f"unknown message type {message.get('type')!r}")
    message_id = message.get("id")
    if not isinstance(message_id, int) or isinstance(message_id, bool):
        raise ParseError("message id is missing or not an integer")
    body = flatten_text(message.get("text", ""))
    attachments = _attachments(message)
    if not body and message.get("media_type") == "sticker":
        return None
    if not body and not attachments:
        raise ParseError("message has neither text nor an attachment")
    chat_name = chat.name or chat.chat_id
    reply_to = message.get("reply_to_message_id")
    meta = {"reply_to": f"{chat.chat_id}:{reply_to}"} if reply_to is not None else {}
    return ParsedInteraction(
        channel=Channel.CHAT,
        source_kind=SOURCE_KIND,
        occurred_at=_occurred_at(message, zone),
        body=body,
        author=_author(message),
        attachments=attachments,
        external_id=f"{chat.chat_id}:{message_id}",
        source_ref=f"{path}#chat {chat.chat_id} message {message_id}",
        thread_ref=chat_name,
        client_hint=chat_name,
        meta=meta,
    )


def flatten_text(text: Any) -> str:
    """Message text as one string: a plain string, or a list of strings and ``{"text": ...}`` entities."""
    if isinstance(text, str):
        return text.strip()
    if not isinstance(text, list):
        raise ParseError(f"text is a JSON {type(text).__name__}, not a string or a list of entities")
    parts = []
    for part in text:
        if isinstance(part, str):
            parts.append(part)
        elif isinstance(part, dict) and isinstance(part.get("text"), str):
            parts.append(part["text"])
        else:
            raise ParseError(f"text entity {part!r} has no string text")
    return "".join(parts).strip()


def _occurred_at(message: dict[str, Any], zone: ZoneInfo) -> datetime:
    """The message time: ``date_unixtime`` (UTC) when present, else the local ``date`` (in ``zone``)."""
    unixtime = message.get("date_unixtime")
    if unixtime is not None:
        try:
            return datetime.fromtimestamp(int(unixtime), tz=UTC)
        except (TypeError, ValueError, OverflowError) as error:
            raise ParseError(f"date_unixtime {unixtime!r} is not a Unix time") from error
    date = message.get("date")
    if not isinstance(date, str):
        raise ParseError("message has no date")
    try:
        return in_source_timezone(datetime.fromisoformat(date), zone)
    except ValueError as error:
        raise ParseError(f"date {date!r} is not an ISO 8601 time") from error


def _author(message: dict[str, Any]) -> Party:
    sender, sender_id = message.get("from"), message.get("from_id")
    if sender is not None and not isinstance(sender, str):
        raise ParseError("from is not a string")
    if sender_id is None:
        return Party(name=sender)
    return Party(name=sender, kind=ContactKind.TELEGRAM, value=str(sender_id))


def _attachments(message: dict[str, Any]) -> list[str]:
    """Names of the attached file and photo, as exported."""
    names = []
    file_name, file_path = message.get("file_name"), message.get("file")
    if isinstance(file_name, str) and file_name:
        names.append(file_name)
    elif isinstance(file_path, str) and file_path:
        names.append(_exported_name(file_path, message.get("media_type") or "file"))
    photo = message.get("photo")
    if isinstance(photo, str) and photo:
        names.append(_exported_name(photo, "photo"))
    return names


def _exported_name(exported_path: str, fallback: str) -> str:
    """The file name of an exported path; ``fallback`` when the export left the file out."""
    if exported_path.startswith("("):
        return str(fallback)
    return PurePosixPath(exported_path).name
