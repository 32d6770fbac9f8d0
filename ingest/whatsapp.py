"""WhatsApp ``.txt`` chat exports (Android and iOS layouts, any of the common date formats)."""

import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from itertools import islice
from pathlib import Path
from zoneinfo import ZoneInfo

from ingest.records import ParsedInteraction, ParseError, ParseResult, Party
from ingest.textfile import (
    DEFAULT_ZONE,
    decode_head,
    file_name_text,
    in_source_timezone,
    quarantine_file,
    quarantine_item,
    read_text,
)
from storage.models import Channel, ContactKind

SOURCE_KIND = "whatsapp"
MEDIA_OMITTED = "media omitted"
#: An export may open with a few lines of its own (a title, a note) before its first message line.
SNIFF_LINES = 5

_DATE = r"(?P<date>(?P<first>\d{1,2})(?P<separator>[./-])(?P<second>\d{1,2})(?P=separator)(?P<year>\d{4}|\d{2}))"
_TIME = (
    r"(?P<time>(?P<hour>\d{1,2})[:.](?P<minute>\d{2})(?:[:.](?P<seconds>\d{2}))?"
    r"(?:\s?(?P<meridiem>[AaPp])\.?\s?[Mm]\.?)?)"
)
_MARKS = "\u200e\u200f\u202a-\u202e\u2066-\u2069"
#: A line that starts a message, Android (``31.12.21, 21:15 - ``) or iOS (``[31.12.21, 21:15:03] ``).
MESSAGE_START_PATTERNS = (
    re.compile(rf"^[{_MARKS}]*{_DATE},? {_TIME} - (?P<rest>.*)$"),
    re.compile(rf"^[{_MARKS}]*\[{_DATE},? {_TIME}\] (?P<rest>.*)$"),
)
#: "Name: text"; a quote before the colon means a system line quoting a group name.
_SENDER = re.compile(r"^(?P<sender>[^:\"“”„«»]{1,100}?):(?: (?P<body>.*))?$")
_PHONE = re.compile(r"^\+?[\d\s()\-]{7,}$")
_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_BIDI_MARKS = re.compile(f"[{_MARKS}]")
_MEDIA_OMITTED = re.compile(
    r"^<(?:Media omitted|Multimedia pominięte|Без медиафайлов)>$"
    r"|^(?:image|video|audio|sticker|GIF|document|Contact card) omitted$",
    re.IGNORECASE,
)
_FILE_ATTACHED = (
    re.compile(r"^(?P<name>.+?) \((?:file attached|załączono plik|файл прикреплен|файл добавлен)\)$"),
    re.compile(r"^<(?:attached|załączono|прикреплено|вложение): (?P<name>[^>]+)>$"),
)
_CHAT_NAME_PATTERNS = (
    re.compile(r"^WhatsApp Chat with (?P<name>.+)$"),
    re.compile(r"^Czat WhatsApp z (?P<name>.+)$"),
    re.compile(r"^Чат WhatsApp с (?P<name>.+)$"),
    re.compile(r"^WhatsApp Chat - (?P<name>.+)$"),
)


@dataclass(slots=True)
class _Message:
    """The lines of one message as found in the file: a start line and its continuations."""

    line_number: int
    start: re.Match[str]
    lines: list[str] = field(default_factory=list)


def sniff(path: Path, head: bytes) -> bool:
    """A ``.txt`` file with a WhatsApp message line among its first ``SNIFF_LINES`` non-empty lines."""
    if path.suffix.lower() != ".txt":
        return False
    lines = (line for line in _LINE_BREAK.split(decode_head(head)) if line.strip())
    return any(_match_message_start(line) is not None for line in islice(lines, SNIFF_LINES))


def parse(path: Path, zone: ZoneInfo = DEFAULT_ZONE) -> Iterator[ParseResult]:
    """Each message of a WhatsApp chat export (its times are in ``zone``); system lines are skipped, bad messages
    quarantined.

    A chat of system lines only is quarantined whole: it is not silently empty.
    """
    try:
        decoded = read_text(path)
    except ParseError as error:
        yield quarantine_file(path, str(error))
        return
    lines = _LINE_BREAK.split(decoded.text)
    messages, stray_lines = _group_messages(lines)
    if not messages:
        yield quarantine_file(path, "not a WhatsApp chat export: no line starts with a date, time and sender")
        return
    for line_number, line in stray_lines:
        reason = "text before the first message"
        yield quarantine_item(path, f"line {line_number}", reason, decoded.encode(line))
    day_first = _is_day_first(messages)
    chat_name = chat_name_from_path(path)
    system_lines = 0
    for message in messages:
        try:
            interaction = _to_interaction(message, day_first, zone, path, chat_name)
        except ParseError as error:
            raw = decoded.encode("\n".join(message.lines))
            yield quarantine_item(path, f"line {message.line_number}", str(error), raw)
            continue
        if interaction is None:
            system_lines += 1
        else:
            yield interaction
    if system_lines == len(messages) and not stray_lines:
        yield quarantine_file(
            path, f"no messages: the chat has only {system_lines} system lines (encryption notice, group events)"
        )


def chat_name_from_path(path: Path) -> str:
    """The chat name from an export's file name ("WhatsApp Chat with X.txt" -> "X"), else the stem."""
    stem = unicodedata.normalize("NFC", file_name_text(path.stem))
    for pattern in _CHAT_NAME_PATTERNS:
        match = pattern.match(stem)
        if match:
            return match["name"].strip()
    return stem


def _match_message_start(line: str) -> re.Match[str] | None:
    for pattern in MESSAGE_START_PATTERNS:
        match = pattern.match(line)
        if match:
            return match
    return None


def _group_messages(lines: list[str]) -> tuple[list[_Message], list[tuple[int, str]]]:
    """Messages with their continuation lines, and the non-empty lines before the first message."""
    messages: list[_Message] = []
    stray_lines: list[tuple[int, str]] = []
    for line_number, line in enumerate(lines, start=1):
        start = _match_message_start(line)
        if start is not None:
            messages.append(_Message(line_number, start, [line]))
        elif messages:
            messages[-1].lines.append(line)
        elif line.strip():
            stray_lines.append((line_number, line))
    return messages, stray_lines


def _is_day_first(messages: list[_Message]) -> bool:
    """Whether the file writes dates day-first: decided once for the whole file."""
    starts = [message.start for message in messages]
    if any(int(start["first"]) > 12 for start in starts):
        return True
    if any(int(start["second"]) > 12 for start in starts):
        return False
    return not any(start["separator"] == "/" and start["meridiem"] for start in starts)


def _timestamp(start: re.Match[str], day_first: bool, zone: ZoneInfo) -> datetime:
    """The aware time of a message start line; raises ``ParseError`` for an impossible date."""
    first, second = int(start["first"]), int(start["second"])
    day, month = (first, second) if day_first else (second, first)
    year = int(start["year"]) + (2000 if len(start["year"]) == 2 else 0)
    hour = int(start["hour"])
    if start["meridiem"]:
        hour = hour % 12 + (12 if start["meridiem"].lower() == "p" else 0)
    try:
        naive = datetime(year, month, day, hour, int(start["minute"]), int(start["seconds"] or 0))
    except ValueError as error:
        raise ParseError(f"invalid date or time {start['date']} {start['time']}: {error}") from error
    return in_source_timezone(naive, zone)


def _to_interaction(
    message: _Message, day_first: bool, zone: ZoneInfo, path: Path, chat_name: str
) -> ParsedInteraction | None:
    """The interaction for one message, or None for a system line."""
    sender_match = _SENDER.match(message.start["rest"])
    if sender_match is None:
        return None
    first_line = sender_match["body"] or ""
    if _is_system_text(first_line):
        return None
    attachment = _attachment(first_line)
    body_lines = message.lines[1:] if attachment else [first_line, *message.lines[1:]]
    body = "\n".join(body_lines).strip()
    if not body and not attachment:
        raise ParseError("message has neither text nor an attachment")
    return ParsedInteraction(
        channel=Channel.CHAT,
        source_kind=SOURCE_KIND,
        occurred_at=_timestamp(message.start, day_first, zone),
        body=body,
        author=_author(sender_match["sender"]),
        attachments=[attachment] if attachment else [],
        source_ref=f"{path}#line {message.line_number}",
        thread_ref=chat_name,
        client_hint=chat_name,
    )


def _is_system_text(text: str) -> bool:
    """iOS writes group events as messages from the chat whose text starts with a left-to-right mark."""
    return text.startswith("\u200e") and _attachment(text) is None


def _attachment(text: str) -> str | None:
    """The attached file's name, "media omitted", or None when the line is not an attachment marker."""
    line = _BIDI_MARKS.sub("", text).strip()
    if _MEDIA_OMITTED.match(line):
        return MEDIA_OMITTED
    for pattern in _FILE_ATTACHED:
        match = pattern.match(line)
        if match:
            return match["name"].strip()
    return None


def _author(sender: str) -> Party:
    """The sender; one shown as a phone number also carries it as a phone contact."""
    name = _BIDI_MARKS.sub("", sender).strip()
    if _PHONE.match(name) and sum(char.isdigit() for char in name) >= 7:
        return Party(name=name, kind=ContactKind.PHONE, value=name)
    return Party(name=name)
