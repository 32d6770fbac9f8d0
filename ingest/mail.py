"""E-mail parser: single .eml files, mbox files and maildir directories.

Messages are parsed with the stdlib ``email`` package using the compat32 policy and the
stdlib helpers (``decode_header``, ``getaddresses``, ``parsedate_to_datetime``,
``get_payload(decode=True)``): ``policy.default`` re-parses structured headers on every
access and costs over ten times as much per message, which the import benchmark cannot afford.
Each message becomes a ``ParsedInteraction`` whose ``body`` is only the new text; quoted earlier
messages and the signature are split off. Bad messages become ``Quarantined``; nothing raises.
Headers and bodies are decoded by the declared charset, else by detection (``ingest.decoding``): a
guess is recorded in ``decode_issue``, and bytes that read as noise quarantine the message.
"""

import email
import mailbox
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from email import errors
from email.charset import UNKNOWN8BIT
from email.header import Header, decode_header
from email.message import Message
from email.utils import getaddresses, parsedate_to_datetime
from pathlib import Path
from typing import Any, NamedTuple, cast
from zoneinfo import ZoneInfo

from bs4 import BeautifulSoup

from ingest.decoding import Decoded, decode_text, is_plausible
from ingest.records import (
    ParsedInteraction,
    ParseError,
    ParseResult,
    Party,
    Quarantined,
)
from ingest.textfile import DEFAULT_ZONE, in_source_timezone
from storage.models import Channel, ContactKind

SOURCE_KIND = "email"
#: A header value as the compat32 policy gives it: text, or a ``Header`` when it holds raw 8-bit bytes.
HeaderValue = str | Header
MAIL_SUFFIXES = frozenset({".eml", ".mbox"})

#: Headers that only e-mail has; one of them in the first header block marks a message.
STRONG_HEADER = re.compile(
    rb"^(?:received|return-path|message-id|mime-version|delivered-to|dkim-signature|"
    rb"x-mailer|in-reply-to|references):",
    re.IGNORECASE | re.MULTILINE,
)
#: Headers common in e-mail but also plausible elsewhere; two of them are needed.
WEAK_HEADER = re.compile(rb"^(?:from|to|cc|subject|date|reply-to|sender):", re.IGNORECASE | re.MULTILINE)
HEADER_FIELD_LINE = re.compile(rb"[!-9;-~]+:")
#: The start of a header field name, cut before its colon.
PARTIAL_FIELD_NAME = re.compile(r"[!-9;-~]+")

#: Defects that mean the MIME structure is cut off or broken, not merely untidy.
FATAL_DEFECTS: dict[type, str] = {
    errors.StartBoundaryNotFoundDefect: "broken MIME multipart: start boundary not found",
    errors.CloseBoundaryNotFoundDefect: "truncated MIME message: closing boundary not found",
}

#: base64 letters (padding aside): every four of them decode to three bytes.
BASE64_LETTERS = re.compile(rb"[A-Za-z0-9+/]")
#: A base64 body with invalid characters is read only when at least this share of its letters decodes.
MIN_BASE64_DECODED_SHARE = 0.9
#: A quoted-printable ``=`` that starts neither a hex escape nor a soft line break.
INVALID_QP_ESCAPE = re.compile(r"=(?![0-9A-Fa-f]{2}|[ \t]*(?:\r?\n|\Z))")
#: The same right after a letter or digit: an escaped character inside a word that was damaged.
INVALID_QP_ESCAPE_IN_WORD = re.compile(r"(?<=\w)=(?![0-9A-Fa-f]{2}|[ \t]*(?:\r?\n|\Z))")
WANTED_HEADERS = frozenset(
    {
        "from",
        "to",
        "cc",
        "subject",
        "date",
        "message-id",
        "references",
        "in-reply-to",
        "list-id",
        "list-unsubscribe",
        "precedence",
    }
)
#: Headers only mailing lists and mass mailings carry (RFC 2369, RFC 2919).
LIST_HEADERS = ("list-id", "list-unsubscribe")
BULK_PRECEDENCE = frozenset({"bulk", "list", "junk"})
BODY_CONTENT_TYPES = frozenset({"text/plain", "text/html"})
#: One address in the plain forms most mail uses: ``Name <a@b>``, ``"Name" <a@b>``, ``a@b``.
#: Values made only of these are split without the (slow) general RFC 5322 parser.
SIMPLE_MAILBOX = re.compile(
    r'\s*(?:(?:"([^"\\]*)"|([^"<>,;:@\\()]*?))\s*<([^<>\s",;:\\()@]+@[^<>\s",;:\\()@]+)>'
    r'|([^<>\s",;:\\()@]+@[^<>\s",;:\\()@]+))\s*'
)
MESSAGE_ID = re.compile(r"<[^<>\s]+>")
#: The end of a raw message's header block, and its first Message-ID field with any folded lines.
HEADER_BLOCK_END = re.compile(rb"\r?\n\r?\n")
MESSAGE_ID_FIELD = re.compile(rb"^message-id:([^\n]*(?:\n[ \t][^\n]*)*)", re.IGNORECASE | re.MULTILINE)

#: Lines that introduce a quoted earlier message, recognisable by how the line starts
#: (separators, Outlook header blocks, "On ... wrote:", "W dniu ... pisze:", "Am ... schrieb ...:").
#: Like every ``LINE_START`` pattern it begins with the newline before the line: see ``search_lines``.
REPLY_HEADER_LINE_START = re.compile(
    r"\n(?:[ \t]*-{2,}[ \t]*(?:original message|forwarded message|wiadomość oryginalna|"
    r"oryginalna wiadomość|przekazana wiadomość|wiadomość przekazana dalej|исходное сообщение|"
    r"оригинальное сообщение|пересылаемое сообщение|ursprüngliche nachricht)[ \t]*-{2,}[^\n]*$"
    r"|[ \t]*On[ \t][^\n]{0,200}(?:\n[^\n]{0,200})?\bwrote:[ \t]*$"
    r"|[ \t]*(?:W dniu|Dnia)[ \t][^\n]{0,200}(?:\n[^\n]{0,200})?"
    r"\b(?:pisze|napisał\(a\)|napisała|napisał|napisali):[ \t]*$"
    r"|[ \t]*Am[ \t][^\n]{0,200}\bschrieb\b[^\n]{0,200}:[ \t]*$"
    r"|(?:[ \t]*_{10,}[ \t]*\n)?[ \t]*\*?(?:From|Od|От|Von)\*?:[ \t]*\S[^\n]*\n(?:[^\n]*\n){0,2}?"
    r"[ \t]*\*?(?:Sent|Date|Wysłano|Data|Отправлено|Дата|Gesendet)\*?:)",
    re.IGNORECASE | re.MULTILINE,
)
#: Attribution lines that start with a date and end like "... Анна написал(а):" or "... <a@b.ru>:".
#: Only lines ending with a colon (found fast) are checked against ``ATTRIBUTION_ENDING``.
LINE_END_COLON = re.compile(r":[ \t]*$", re.MULTILINE)
ATTRIBUTION_ENDING = re.compile(
    r"(?:\b(?:написал\(а\)|написала|написал|пишет|написав\(ла\)|написав|пише)|<[^<>\s@]+@[^<>\s]+>):[ \t]*\Z",
    re.IGNORECASE,
)
MAX_ATTRIBUTION_LENGTH = 250
DIGIT = re.compile(r"\d")
#: Blank or ``>``-quoted lines right after a reply header (a bottom-posted reply follows them).
QUOTED_RUN = re.compile(r"\A(?:[ \t]*(?:>[^\n]*)?(?:\n|\Z))+")
SIGNATURE_DELIMITER_LINE_START = re.compile(r"\n--[ \t]*$", re.MULTILINE)
SIGN_OFF = re.compile(
    r"^[ \t]*(?:best regards|kind regards|warm regards|regards|best wishes|best|cheers|thanks|"
    r"thank you|many thanks|sincerely|yours sincerely|yours truly|pozdrawiam serdecznie|"
    r"serdecznie pozdrawiam|pozdrawiam|pozdrowienia|z poważaniem|z wyrazami szacunku|dziękuję|"
    r"dzięki|с уважением|с наилучшими пожеланиями|всего доброго|всего наилучшего|спасибо|"
    r"благодарю|з повагою|дякую|viele grüße|mit freundlichen grüßen|freundliche grüße|beste grüße|"
    r"liebe grüße|schöne grüße|mfg|sent from my[^\n]*|wysłane z[^\n]*|отправлено с[^\n]*|"
    r"von meinem[^\n]*gesendet)[ \t]*[,.!]*[ \t]*$",
    re.IGNORECASE | re.MULTILINE,
)
MAX_SIGNATURE_LINES = 6
SIGN_OFF_SEARCH_LINES = 2 * MAX_SIGNATURE_LINES + 1  # the sign-off block, with blank lines
MAX_SIGNATURE_LINE_LENGTH = 80

HTML_NON_CONTENT_TAGS = ["script", "style", "head", "title", "noscript", "template"]
HTML_BLOCK_TAGS = "br p div tr li ul ol table blockquote pre hr h1 h2 h3 h4 h5 h6".split()
HTML_SOURCE_WHITESPACE = re.compile(r"[ \t\r\n\f\v]+")
BLOCK_END = "\u2029"
BLANK_LINES = re.compile(r"\n{3,}")


@dataclass(frozen=True, slots=True)
class MessageOrigin:
    """Where a message came from: its file, its position in a mailbox, its sources' time zone and a fallback date."""

    path: Path
    index: int | None  # 1-based position in a mailbox; None for a single-message file
    zone: ZoneInfo  # the time zone of dates written without one
    fallback_date: Callable[[], datetime | None] | None = None  # read only when Date is unusable
    fallback_date_source: str | None = None

    @property
    def item_ref(self) -> str | None:
        return None if self.index is None else f"message {self.index}"


@dataclass(frozen=True, slots=True)
class BodyText:
    """The decoded text of a message and, when it needed a guess, how it was read."""

    text: str
    is_html: bool
    decode_issue: str | None


class MessageBody(NamedTuple):
    """What a message's parts hold: its text, its attachments' names, and the charset its first text part
    declares (raw 8-bit headers are mostly in it; None: none declared)."""

    text: BodyText
    attachments: list[str]
    charset: str | None


# ---------------------------------------------------------------- recognising mail


def sniff(path: Path, head: bytes) -> bool:
    """True for a maildir directory, an .eml/.mbox file, or a file starting with mail headers."""
    if path.is_dir():
        return (path / "cur").is_dir() and (path / "new").is_dir()
    if path.suffix.lower() in MAIL_SUFFIXES:
        return True
    return is_mbox_head(head) or looks_like_headers(head)


def is_mbox_head(head: bytes) -> bool:
    """True when the bytes start an mbox file (a ``From `` separator line)."""
    return head.lstrip().startswith(b"From ")


def looks_like_headers(head: bytes) -> bool:
    """True when the first block of ``head`` is an RFC 822 header block."""
    if b"\x00" in head:
        return False
    header_block = re.split(rb"\r?\n\r?\n", head, maxsplit=1)[0]
    if not HEADER_FIELD_LINE.match(header_block):
        return False
    return bool(STRONG_HEADER.search(header_block)) or len(WEAK_HEADER.findall(header_block)) >= 2


# ---------------------------------------------------------------- reading files


def parse(path: Path, zone: ZoneInfo = DEFAULT_ZONE) -> Iterator[ParseResult]:
    """Yield one ``ParsedInteraction`` or ``Quarantined`` per message in an .eml, mbox or maildir.

    Dates written without a zone are in ``zone``.
    """
    try:
        if path.is_dir():
            yield from parse_maildir(path, zone)
        elif is_mbox_file(path):
            yield from parse_mbox(path, zone)
        else:
            yield from parse_single_message(path, zone)
    except (OSError, mailbox.Error) as exc:
        yield Quarantined(source_path=str(path), reason=f"cannot read mail source: {exc}")


def is_mbox_file(path: Path) -> bool:
    """True when the file content starts like an mbox."""
    with path.open("rb") as handle:
        return is_mbox_head(handle.read(1024))


def parse_single_message(path: Path, zone: ZoneInfo) -> Iterator[ParseResult]:
    """Parse a file that holds one message; problems quarantine the whole file."""
    raw = path.read_bytes()
    if not raw.strip():
        yield Quarantined(source_path=str(path), reason="empty file")
        return
    origin = MessageOrigin(path=path, index=None, zone=zone)
    yield parse_message(lambda: email.message_from_bytes(raw), origin, lambda: raw)


class RawMessage(NamedTuple):
    """One raw message: its 1-based position in its source and its bytes (an mbox's with its ``From`` line)."""

    position: int
    raw: bytes


def parse_mbox(path: Path, zone: ZoneInfo) -> Iterator[ParseResult]:
    """Parse an mbox file message by message (only offsets are kept in memory)."""
    yield from parse_mbox_messages(path, raw_mbox_messages(path), zone)


def raw_mbox_messages(path: Path) -> Iterator[RawMessage]:
    """The raw messages of an mbox file, read one at a time."""
    box = mailbox.mbox(path, create=False)
    try:
        for index, key in enumerate(box.iterkeys(), start=1):
            yield RawMessage(index, box.get_bytes(key, from_=True))
    finally:
        box.close()


def parse_mbox_messages(path: Path, messages: Iterable[RawMessage], zone: ZoneInfo) -> Iterator[ParseResult]:
    """Parse ``messages`` of the mbox at ``path`` (some or all of its ``raw_mbox_messages``)."""
    for message in messages:
        yield parse_mbox_message(message.raw, MessageOrigin(path=path, index=message.position, zone=zone))


def parse_mbox_message(raw_with_from_line: bytes, origin: MessageOrigin) -> ParseResult:
    """Parse one message of an mbox; its ``From`` line dates it when the Date header is unusable."""
    from_line, _, raw = raw_with_from_line.partition(b"\n")
    dated = replace(
        origin, fallback_date=lambda: mbox_from_line_date(from_line, origin.zone), fallback_date_source="mbox From line"
    )
    return parse_message(lambda: email.message_from_bytes(raw), dated, lambda: raw)


def parse_maildir(path: Path, zone: ZoneInfo) -> Iterator[ParseResult]:
    """Parse every message of a maildir directory (``new/`` and ``cur/``)."""
    box = mailbox.Maildir(path, factory=None, create=False)
    for index, key in enumerate(sorted(box.iterkeys()), start=1):
        yield parse_maildir_message(box, key, MessageOrigin(path=path, index=index, zone=zone))


def parse_maildir_message(box: mailbox.Maildir, key: str, origin: MessageOrigin) -> ParseResult:
    """Parse one message file of a maildir; its file time dates it when the Date header is unusable."""
    try:
        message = box.get_message(key)
    except OSError as exc:
        return Quarantined(str(origin.path), f"cannot read message file {key}: {exc}", origin.item_ref)
    dated = replace(
        origin,
        fallback_date=lambda: datetime.fromtimestamp(message.get_date(), UTC),
        fallback_date_source="maildir file time",
    )
    return parse_message(lambda: message, dated, lambda: box.get_bytes(key))


def raw_message_id(raw: bytes) -> str | None:
    """The Message-ID that parsing ``raw`` would store, read from its header block alone; None when it has none
    or when only a full parse can tell (8-bit bytes or an encoded word in it)."""
    end = HEADER_BLOCK_END.search(raw)
    found = MESSAGE_ID_FIELD.search(raw, 0, end.start() if end else len(raw))
    if found is None or not found[1].isascii() or b"=?" in found[1]:
        return None
    return normalize_space(found[1].decode("ascii")) or None


def mbox_from_line_date(from_line: bytes, zone: ZoneInfo) -> datetime | None:
    """The date on an mbox ``From sender date`` separator line (in ``zone`` unless it names one), if readable."""
    parts = from_line.decode("ascii", "replace").split(None, 2)
    return parse_date(parts[2], zone) if len(parts) == 3 else None


# ---------------------------------------------------------------- one message


def parse_message(load: Callable[[], Message], origin: MessageOrigin, read_raw: Callable[[], bytes]) -> ParseResult:
    """Turn one message into an interaction, or quarantine it with the reason and its bytes."""
    try:
        return message_to_interaction(load(), origin)
    except ParseError as exc:
        reason = str(exc)
    except Exception as exc:  # noqa: BLE001 - the email package can fail in many ways on hostile input
        reason = f"message failed to parse: {type(exc).__name__}: {exc}"
    return Quarantined(
        source_path=str(origin.path),
        reason=reason,
        item_ref=origin.item_ref,
        raw=None if origin.index is None else read_raw(),
    )


def message_to_interaction(message: Message, origin: MessageOrigin) -> ParsedInteraction:
    """Build the interaction for one parsed message; raises ``ParseError`` for unusable ones."""
    headers = wanted_headers(message)
    if "from" not in headers and "date" not in headers:
        raise ParseError("not an e-mail message: no From and no Date header")
    check_fatal_defects(message)
    check_header_block_complete(message)
    meta: dict[str, Any] = {}
    issues: list[str] = []  # how headers and body were decoded when that needed a guess
    occurred_at = message_date(headers, origin, meta, issues)
    body_text, attachments, charset = extract_body(message, issues)
    if not body_text.text.strip() and not attachments:
        raise ParseError("message has no body text and no attachments")
    new_text, quoted_text = split_quoted(body_text.text)
    body, signature = split_signature(new_text)
    if body_text.is_html:
        meta["html"] = True
    if body_text.decode_issue:
        issues.append(body_text.decode_issue)
    defects = sorted({type(defect).__name__ for part in message.walk() for defect in part.defects})
    if defects:
        meta["defects"] = defects
    message_id = normalize_space(header_text(first_value(headers, "message-id"), "Message-ID", issues)) or None
    author = first_party(headers.get("from", []), "From", issues, charset)
    recipients = parties(headers.get("to", []), "To", issues, charset) + parties(
        headers.get("cc", []), "Cc", issues, charset
    )
    subject = normalize_space(header_text(first_value(headers, "subject"), "Subject", issues, charset)) or None
    return ParsedInteraction(
        channel=Channel.EMAIL,
        occurred_at=occurred_at,
        body=body,
        source_kind=SOURCE_KIND,
        source_ref=message_id or f"{origin.path}#message {origin.index or 1}",
        author=author,
        recipients=recipients,
        subject=subject,
        quoted_text=quoted_text,
        signature=signature,
        attachments=attachments,
        external_id=message_id,
        thread_ref=thread_ref(headers, issues),
        bulk=is_list_mail(headers),
        decode_issue="; ".join(dict.fromkeys(issues)) or None,
        meta=meta,
    )


def check_fatal_defects(message: Message) -> None:
    """Raise ``ParseError`` when the MIME structure is truncated or broken."""
    for part in message.walk():
        for defect in part.defects:
            reason = FATAL_DEFECTS.get(type(defect))
            if reason:
                raise ParseError(reason)


def check_header_block_complete(message: Message) -> None:
    """Raise ``ParseError`` when the message ends inside its header block (a file cut off there).

    The tell: no blank line after the headers, and all that follows them is one unterminated piece
    of a field name, such as ``Content-Transfe``.
    """
    if any(isinstance(defect, errors.MissingHeaderBodySeparatorDefect) for defect in message.defects):
        payload = message.get_payload()
        if isinstance(payload, str) and PARTIAL_FIELD_NAME.fullmatch(payload):
            raise ParseError(f"truncated message: cut off inside its headers, at {payload[:40]!r}")


# ---------------------------------------------------------------- headers


def wanted_headers(message: Message) -> dict[str, list[HeaderValue]]:
    """The values of the headers we read, by lower-case name, in one pass over the headers."""
    headers: dict[str, list[HeaderValue]] = {}
    for name, value in message.items():
        key = name.lower()
        if key in WANTED_HEADERS:
            headers.setdefault(key, []).append(value)
    return headers


def first_value(headers: dict[str, list[HeaderValue]], name: str) -> HeaderValue | None:
    """The first value of a header, or None when the message lacks it."""
    values = headers.get(name)
    return values[0] if values else None


def header_text(value: HeaderValue | None, where: str, issues: list[str], raw_charset: str | None = None) -> str:
    """A header value as text: RFC 2047 words and raw 8-bit bytes decoded.

    Raw 8-bit bytes are read in ``raw_charset`` first (the body's charset) when it fits them, else
    by detection; how they were read is appended to ``issues``. Raises ``ParseError`` for bytes
    that no charset reads as text.
    """
    if value is None:
        return ""
    texts = []
    after_encoded_word = False
    for chunk, charset in decode_header(value):
        if isinstance(chunk, str):
            texts.append(chunk)
            continue
        raw_8bit = charset == UNKNOWN8BIT
        text, issue = decode_bytes(chunk, raw_charset if raw_8bit else charset, f"{where} header")
        if after_encoded_word and charset is None and not text[:1].isspace():
            text = f" {text}"  # decode_header drops the folding white space after an encoded word
        after_encoded_word = charset not in (None, UNKNOWN8BIT)
        texts.append(text)
        if raw_8bit:
            issues.append(f"{where}: undeclared 8-bit bytes, {issue or f'read in the body charset {raw_charset}'}")
        elif issue:
            issues.append(f"{where}: {issue}")
    return "".join(texts)


def normalize_space(text: str) -> str:
    """Collapse runs of whitespace (folded headers) to single spaces."""
    return " ".join(text.split())


def address_pairs(
    values: list[HeaderValue], where: str, issues: list[str], raw_charset: str | None = None
) -> list[tuple[str, str]]:
    """(decoded display name, address) pairs of address header values (``raw_charset``: see ``header_text``)."""
    raw_values = [
        value if isinstance(value, str) else header_text(value, where, issues, raw_charset) for value in values
    ]
    pairs = [
        (normalize_space(header_text(name, where, issues, raw_charset)), address.strip())
        for value in raw_values
        for name, address in split_addresses(value)
        if name or address
    ]
    return merge_unquoted_comma_names(pairs)


def split_addresses(value: str) -> list[tuple[str, str]]:
    """(name, address) pairs of one header value; plain forms fast, the rest by ``getaddresses``."""
    items = value.split(",")
    matches = [match for item in items if (match := SIMPLE_MAILBOX.fullmatch(item))]
    if len(matches) == len(items):
        return [(match[1] or match[2] or "", match[3] or match[4]) for match in matches]
    return getaddresses([value])


def merge_unquoted_comma_names(pairs: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """Repair ``Last, First <addr>`` written without quotes, which splits into two addresses.

    A stray ``Last`` (no name, no ``@``) is joined back to the name of the address after it.
    """
    merged: list[tuple[str, str]] = []
    for name, address in pairs:
        if name and merged and not merged[-1][0] and "@" not in merged[-1][1]:
            name = f"{merged.pop()[1]}, {name}"
        merged.append((name, address))
    return merged


def to_party(name: str, address: str) -> Party:
    """A party from a display name and an e-mail address (either may be empty)."""
    return Party(
        name=name or None,
        kind=ContactKind.EMAIL if address else None,
        value=address or None,
    )


def first_party(values: list[HeaderValue], where: str, issues: list[str], raw_charset: str | None = None) -> Party:
    """The first address of a header as a party (an empty party when there is none)."""
    pairs = address_pairs(values, where, issues, raw_charset)
    return to_party(*pairs[0]) if pairs else Party()


def parties(values: list[HeaderValue], where: str, issues: list[str], raw_charset: str | None = None) -> list[Party]:
    """Every address of the given header values as parties."""
    return [to_party(name, address) for name, address in address_pairs(values, where, issues, raw_charset)]


def is_list_mail(headers: dict[str, list[HeaderValue]]) -> bool:
    """True for mailing-list or mass mail: a List-Id or List-Unsubscribe header, or bulk precedence."""
    precedence = str(first_value(headers, "precedence") or "").strip().lower()
    return precedence in BULK_PRECEDENCE or any(name in headers for name in LIST_HEADERS)


def thread_ref(headers: dict[str, list[HeaderValue]], issues: list[str]) -> str | None:
    """The first id of References, else the In-Reply-To id, else None."""
    for name in ("references", "in-reply-to"):
        value = header_text(first_value(headers, name), name.title(), issues)
        ids: list[str] = MESSAGE_ID.findall(value)
        if ids:
            return ids[0]
        if value.strip():
            return value.split()[0]
    return None


# ---------------------------------------------------------------- dates


def parse_date(value: str, zone: ZoneInfo) -> datetime | None:
    """A timezone-aware datetime from an RFC 2822 (or asctime) date; naive ones are read in ``zone``."""
    try:
        return in_source_timezone(parsedate_to_datetime(value), zone)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None


def message_date(
    headers: dict[str, list[HeaderValue]], origin: MessageOrigin, meta: dict[str, Any], issues: list[str]
) -> datetime:
    """The Date header, else the mailbox date (noted in ``meta['date_source']``)."""
    header_date = parse_date(header_text(first_value(headers, "date"), "Date", issues), origin.zone)
    if header_date is not None:
        return header_date
    fallback_date = origin.fallback_date() if origin.fallback_date else None
    if fallback_date is not None:
        meta["date_source"] = origin.fallback_date_source
        return fallback_date
    raise ParseError("no usable date: Date header missing or unparseable")


# ---------------------------------------------------------------- body


def leaf_parts(message: Message) -> Iterator[Message]:
    """The non-multipart parts of a message (an attached message counts as one part)."""
    payload = message.get_payload()
    if isinstance(payload, list) and message.get_content_maintype() == "multipart":
        for part in cast(list[Message], payload):  # the parser fills a multipart with messages only
            yield from leaf_parts(part)
    else:
        yield message


def is_attachment(part: Message, content_type: str) -> bool:
    """True for a part sent as a file: marked as attachment, or a named part that is not text."""
    if part.get_content_disposition() == "attachment":
        return True
    return content_type not in BODY_CONTENT_TYPES and part.get_filename() is not None


def attachment_name(part: Message, issues: list[str]) -> str:
    """The decoded file name of an attachment (RFC 2231 and RFC 2047 both handled)."""
    filename = part.get_filename()
    if not filename:
        return f"unnamed {part.get_content_type()}"
    return normalize_space(header_text(filename, "attachment name", issues))


def extract_body(message: Message, issues: list[str]) -> MessageBody:
    """The message text (plain preferred over HTML unless blank), the attachment names, the body charset."""
    plain_parts: list[tuple[Message, str | None]] = []
    html_parts: list[tuple[Message, str | None]] = []
    attachments: list[str] = []
    charset = None
    for part in leaf_parts(message):
        content_type = part.get_content_type()
        part_charset = part.get_content_charset() if content_type.startswith("text/") else None
        charset = charset or part_charset
        if is_attachment(part, content_type):
            attachments.append(attachment_name(part, issues))
        elif content_type == "text/plain":
            plain_parts.append((part, part_charset))
        elif content_type == "text/html":
            html_parts.append((part, part_charset))
    plain = join_texts([decode_part(*part) for part in plain_parts], is_html=False)
    if plain.text.strip() or not html_parts:
        return MessageBody(plain, attachments, charset)
    html_texts = [decode_part(*part) for part in html_parts]
    html_bodies = [BodyText(html_to_text(body.text), True, body.decode_issue) for body in html_texts]
    return MessageBody(join_texts(html_bodies, is_html=True), attachments, charset)


def join_texts(bodies: list[BodyText], is_html: bool) -> BodyText:
    """Join the decoded texts of several parts into one body."""
    issues = dict.fromkeys(body.decode_issue for body in bodies if body.decode_issue)
    return BodyText(
        text="\n\n".join(body.text for body in bodies),
        is_html=is_html,
        decode_issue="; ".join(issues) or None,
    )


def decode_part(part: Message, charset: str | None) -> BodyText:
    """Decode a text part's bytes: its transfer encoding checked, then read in ``charset`` (the one it declares;
    see ``decode_bytes``).

    A body whose transfer encoding is damaged must also decode cleanly: two signs of damage make
    it unreadable, not text to import.
    """
    payload = decoded_payload(part)
    transfer_issue = transfer_encoding_issue(part, payload)
    where = f"body ({transfer_issue})" if transfer_issue else "body"
    text, charset_issue = decode_bytes(payload, charset, where, strict=transfer_issue is not None)
    issue = ", ".join(filter(None, (transfer_issue, charset_issue)))
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return BodyText(text=text, is_html=False, decode_issue=f"body: {issue}" if issue else None)


def decoded_payload(part: Message) -> bytes:
    """A text part's bytes with its transfer encoding undone (empty when it has none)."""
    payload = part.get_payload(decode=True)
    return payload if isinstance(payload, bytes) else b""


def encoded_payload(part: Message) -> str:
    """A text part's body as the message carries it, still transfer-encoded; raises ``ParseError`` when it has
    no such text."""
    payload = part.get_payload()
    if not isinstance(payload, str):
        raise ParseError(f"{part.get_content_type()} part has no encoded text body")
    return payload


def transfer_encoding_issue(part: Message, decoded: bytes) -> str | None:
    """What is wrong with a part's base64 or quoted-printable encoding, or None.

    Invalid base64 characters are skipped and invalid quoted-printable escapes between words kept
    as written (an ``=`` the sender did not escape).

    Raises ``ParseError`` for base64 that cannot be decoded at all, is cut off (MIME encoders
    always pad the last group) or of which only a scrap decodes (padding or junk mid-body), and
    for quoted-printable whose escape inside a word is damaged (a character of the text is lost).
    Call with the result of ``get_payload(decode=True)``, which records the defects.
    """
    defects = {type(defect) for defect in part.defects}
    if errors.InvalidBase64LengthDefect in defects:
        raise ParseError("body is not valid base64: its length is impossible, it does not decode")
    if errors.InvalidBase64PaddingDefect in defects:
        raise ParseError("body is cut off: its base64 ends inside a group, without padding")
    if errors.InvalidBase64CharactersDefect in defects:
        expected = len(BASE64_LETTERS.findall(encoded_payload(part).encode("ascii", "replace"))) * 3 // 4
        if len(decoded) < MIN_BASE64_DECODED_SHARE * expected:
            raise ParseError(
                f"body is not valid base64: only {len(decoded)} of about {expected} bytes decode "
                "(invalid characters or padding inside it)"
            )
        return "base64 with invalid characters"
    if str(part.get("content-transfer-encoding", "")).strip().lower() == "quoted-printable":
        encoded = encoded_payload(part)
        if INVALID_QP_ESCAPE_IN_WORD.search(encoded):
            raise ParseError(
                "body is not valid quoted-printable: an escape inside a word is damaged, a character "
                f"of the text is lost (declared charset {part.get_content_charset() or 'none'})"
            )
        if INVALID_QP_ESCAPE.search(encoded):
            return "quoted-printable with invalid escapes"
    return None


def decode_bytes(data: bytes, declared: str | None, where: str, *, strict: bool = False) -> tuple[str, str | None]:
    """``data`` as text and, when reading it needed a guess, why; raises ``ParseError`` for noise.

    The declared charset is tried strictly first; when it is unknown, does not fit or reads as
    noise, ``decode_text`` picks the most plausible reading. A reading it flags is kept, with the
    flag, only when it is plausible text (and never when ``strict``).
    """
    decoded = read_as_declared(data, declared) or decode_text(data, declared=declared)
    if decoded.suspect_reason is not None and (strict or not is_plausible(decoded.text)):
        raise ParseError(
            f"{where} is not decodable text: {decoded.suspect_reason} (declared charset {declared or 'none'})"
        )
    reason = decoded.suspect_reason
    if reason is None and declared is None and decoded.encoding != "utf-8":
        reason = "no charset declared"
    return decoded.text, None if reason is None else f"{reason}, decoded as {decoded.encoding}"


def read_as_declared(data: bytes, declared: str | None) -> Decoded | None:
    """The declared legacy charset's strict reading when it is plausible text, else None.

    Most legacy-charset mail is labelled right; reading it so spares the (slow) detection. Valid
    UTF-8 is left to ``decode_text``, which reads it as UTF-8 whatever the label (text in a
    single-byte charset is practically never valid UTF-8; UTF-8 labelled Latin-1 is common).
    """
    if not declared or is_valid_utf8(data):
        return None
    try:
        text = data.decode(declared)
    except (LookupError, UnicodeDecodeError):
        return None
    return Decoded(text, declared, None) if is_plausible(text) else None


def is_valid_utf8(data: bytes) -> bool:
    """True when ``data`` is ASCII or valid UTF-8."""
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def html_to_text(html: str) -> str:
    """Readable text of an HTML body: scripts and styles dropped, one line per block.

    Block ends are marked with U+2029 (paragraph separator) before the source whitespace, which
    in HTML is only spacing, is collapsed; the marks then become the line breaks.
    """
    soup = BeautifulSoup(html, "html.parser")
    for tag in soup(HTML_NON_CONTENT_TAGS):
        tag.decompose()
    for block in soup.find_all(HTML_BLOCK_TAGS):
        block.insert_after(BLOCK_END)
    text = HTML_SOURCE_WHITESPACE.sub(" ", soup.get_text()).replace(BLOCK_END, "\n")
    lines = (line.strip() for line in text.split("\n"))
    return BLANK_LINES.sub("\n\n", "\n".join(lines)).strip()


# ---------------------------------------------------------------- quotes and signatures


def find_reply_header(text: str) -> tuple[int, int] | None:
    """(start, end) of the first line introducing a quoted earlier message, or None."""
    found = [span for span in [search_lines(REPLY_HEADER_LINE_START, text)] if span]
    for match in LINE_END_COLON.finditer(text):
        line_start = text.rfind("\n", 0, match.start()) + 1
        if is_dated_attribution(text[line_start : match.end()]):
            found.append((line_start, match.end()))
            break
    return min(found, default=None)


def is_dated_attribution(line: str) -> bool:
    """True for a short, unquoted, dated line ending like a Russian or ``<address>:`` attribution."""
    return (
        len(line) <= MAX_ATTRIBUTION_LENGTH
        and not line.lstrip().startswith(">")
        and DIGIT.search(line) is not None
        and ATTRIBUTION_ENDING.search(line) is not None
    )


def split_quoted(text: str) -> tuple[str, str]:
    """Split a body into (new text, quoted earlier messages)."""
    quoted_parts: list[str] = []
    header = find_reply_header(text)
    if header:
        start, end = header
        after_header = text[end:]
        quoted_run = QUOTED_RUN.match(after_header)
        if quoted_run and ">" in quoted_run.group():
            quoted_parts.append(text[start:end] + quoted_run.group())
            text = text[:start] + after_header[quoted_run.end() :]
        else:
            quoted_parts.append(text[start:])
            text = text[:start]
    new_text, quoted_lines = separate_quoted_lines(text)
    if quoted_lines:
        quoted_parts.insert(0, quoted_lines)
    return new_text.strip(), "\n".join(part.strip() for part in quoted_parts)


def separate_quoted_lines(text: str) -> tuple[str, str]:
    """Split ``>``-quoted lines from the other lines: (unquoted text, quoted lines)."""
    if ">" not in text:
        return text, ""
    new_lines: list[str] = []
    quoted_lines: list[str] = []
    for line in text.split("\n"):
        (quoted_lines if line.lstrip().startswith(">") else new_lines).append(line)
    return "\n".join(new_lines), "\n".join(quoted_lines)


def split_signature(text: str) -> tuple[str, str]:
    """Split new text into (body, signature): a ``-- `` block or a closing sign-off block."""
    delimiter = search_lines(SIGNATURE_DELIMITER_LINE_START, text)
    if delimiter:
        start, end = delimiter
        return keep_nonempty_body(text[:start], text[end:], text)
    tail_start = last_lines_start(text, SIGN_OFF_SEARCH_LINES)
    sign_offs = list(SIGN_OFF.finditer(text, tail_start))
    if sign_offs and is_short_block(text[sign_offs[-1].end() :]):
        start = sign_offs[-1].start()
        return keep_nonempty_body(text[:start], text[start:], text)
    return text, ""


def search_lines(line_start_pattern: re.Pattern[str], text: str) -> tuple[int, int] | None:
    """(start, end) in ``text`` of the first match of a pattern that begins with ``\\n``.

    The text is searched as if preceded by a newline, so the first line counts too; a literal
    first character lets the regex engine skip straight from line to line, which is much faster
    than ``^`` in MULTILINE mode.
    """
    match = line_start_pattern.search("\n" + text)
    return (match.start(), match.end() - 1) if match else None


def last_lines_start(text: str, count: int) -> int:
    """The index where the last ``count`` lines of ``text`` begin."""
    position = len(text)
    for _ in range(count):
        position = text.rfind("\n", 0, position)
        if position < 0:
            return 0
    return position + 1


def is_short_block(text: str) -> bool:
    """True for a few short lines, like a name, title and phone number."""
    lines = [line for line in text.split("\n") if line.strip()]
    return len(lines) <= MAX_SIGNATURE_LINES and all(len(line) <= MAX_SIGNATURE_LINE_LENGTH for line in lines)


def keep_nonempty_body(body: str, signature: str, text: str) -> tuple[str, str]:
    """(body, signature) stripped, unless that would leave no body: then all text is the body."""
    if not body.strip():
        return text.strip(), ""
    return body.strip(), signature.strip()
