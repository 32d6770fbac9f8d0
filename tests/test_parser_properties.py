"""Property tests of the parsers (hypothesis): no input makes them raise, and valid records read back as written.

Contract for every parser and every input: it yields parsed items and/or quarantine records, never
raises; a quarantine record has a reason, and one for a part of a file carries that part's bytes; an
input yields something (an item or a quarantine record), so nothing is skipped silently; and parsed
text is storable (no lone surrogates, no NUL, which PostgreSQL refuses).
"""

import csv
import email
import email.policy
import io
import json
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from ingest import crm_csv, mail, telegram, whatsapp
from ingest.records import ParsedClient, ParsedInteraction, ParseResult, Quarantined

#: The autouse ``isolated_settings`` fixture only resets environment and settings: safe to share by examples.
PROPERTY = settings(
    max_examples=120,
    deadline=None,
    report_multiple_bugs=False,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
FUZZ = settings(PROPERTY, max_examples=150)

Parser = Callable[[Path], Iterator[ParseResult]]

#: Text as people write it: any character except controls, surrogates, line/paragraph separators and U+FFFD
#: (what a lossy decoder leaves behind, which a parser may rightly take for a decoding failure).
PRINTABLE = st.characters(exclude_categories=("Cc", "Cs", "Zl", "Zp"), exclude_characters="\ufffd")
#: The same plus the line breaks and tabs a multi-line field may hold.
MULTILINE = st.characters(
    exclude_categories=("Cc", "Cs", "Zl", "Zp"), exclude_characters="\ufffd", include_characters="\n\r\t"
)
NAME_CHARACTERS = st.one_of(st.characters(categories=("L",)), st.sampled_from(" ,.'-()"))
MOMENTS = st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2099, 12, 31))


@pytest.fixture(scope="module")
def scratch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("properties")


def write(folder: Path, name: str, data: bytes) -> Path:
    path = folder / name
    path.write_bytes(data)
    return path


def _storable(text: str | None) -> bool:
    if text is None:
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return "\x00" not in text


def parse_checked(parse: Parser, path: Path, *, may_be_empty: bool = False) -> list[ParseResult]:
    """Run a parser and check the contract every parser keeps, whatever the input."""
    results = list(parse(path))
    for result in results:
        assert isinstance(result, (ParsedInteraction, Quarantined, ParsedClient)), result
        if isinstance(result, Quarantined):
            assert result.reason.strip(), result
            assert result.item_ref is None or result.raw is not None, f"part quarantined without its bytes: {result}"
        if isinstance(result, ParsedInteraction):
            fields = (
                result.body,
                result.subject,
                result.quoted_text,
                result.signature,
                result.author.name,
                result.client_hint,
            )
            assert all(_storable(text) for text in fields), f"unstorable text in {result}"
    if not may_be_empty:
        assert results, "the input was skipped silently: no item and no quarantine record"
    return results


def interactions(results: Iterable[ParseResult]) -> list[ParsedInteraction]:
    return [result for result in results if isinstance(result, ParsedInteraction)]


def quarantined(results: Iterable[ParseResult]) -> list[Quarantined]:
    return [result for result in results if isinstance(result, Quarantined)]


# ---------------------------------------------------------------- e-mail

MESSAGE_TEMPLATES = (
    b"From: Anna Nowak <anna@client.example>\nTo: agent@ours.example\nSubject: Order\n"
    b"Date: Tue, 03 Mar 2026 10:00:00 +0100\nMessage-ID: <t1@client.example>\nMIME-Version: 1.0\n"
    b"Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n"
    + "Prosimy o ofertę na 20 licencji.\n".encode(),
    b"From: =?koi8-r?b?8MXU0s/X?= <p@client.example>\nTo: agent@ours.example\n"
    b"Subject: =?utf-8?b?0KHRh9GR0YI=?=\nDate: Wed, 04 Mar 2026 09:00:00 +0300\nMIME-Version: 1.0\n"
    b"Content-Type: text/plain; charset=koi8-r\nContent-Transfer-Encoding: base64\n\n8NLJ18XUINPTxdsK\n",
    b"From: a@client.example\nTo: agent@ours.example\nSubject: Offer\nDate: Thu, 05 Mar 2026 08:00:00 +0000\n"
    b'MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="b1"\n\n--b1\n'
    b"Content-Type: text/plain; charset=iso-8859-2\nContent-Transfer-Encoding: quoted-printable\n\n"
    b'Dzi=EAkuj=EA za ofert=EA.\n--b1\nContent-Type: application/pdf; name="offer.pdf"\n'
    b'Content-Transfer-Encoding: base64\nContent-Disposition: attachment; filename="offer.pdf"\n\n'
    b"JVBERi0xLjQK\n--b1--\n",
    b"From: b@client.example\nDate: Fri, 06 Mar 2026 08:00:00 +0000\nMIME-Version: 1.0\n"
    b"Content-Type: text/html; charset=windows-1251\n\n<p>\xd1\xf7\xb8\xf2 &amp; \xe4\xee\xe3\xee\xe2\xee\xf0</p>\n",
)


@st.composite
def mutated_message(draw: st.DrawFn) -> bytes:
    """A valid message cut, spliced with random bytes, or with bytes replaced."""
    data = bytearray(draw(st.sampled_from(MESSAGE_TEMPLATES)))
    for _ in range(draw(st.integers(1, 4))):
        position = draw(st.integers(0, len(data)))
        operation = draw(st.sampled_from(["cut", "insert", "replace"]))
        chunk = draw(st.binary(min_size=1, max_size=40))
        if operation == "cut":
            del data[position:]
        elif operation == "insert":
            data[position:position] = chunk
        else:
            data[position : position + len(chunk)] = chunk
    return bytes(data)


@FUZZ
@given(data=st.binary(max_size=3000), suffix=st.sampled_from([".eml", ".mbox", ""]))
def test_email_parser_never_raises_on_arbitrary_bytes(scratch: Path, data: bytes, suffix: str) -> None:
    parse_checked(mail.parse, write(scratch, f"message{suffix}", data))


@FUZZ
@given(data=mutated_message())
def test_email_parser_never_raises_on_damaged_messages(scratch: Path, data: bytes) -> None:
    parse_checked(mail.parse, write(scratch, "damaged.eml", data))


@FUZZ
@given(messages=st.lists(mutated_message(), min_size=1, max_size=3))
def test_mbox_parser_never_raises_on_damaged_messages(scratch: Path, messages: list[bytes]) -> None:
    separator = b"From sender@client.example Mon Jan  5 10:00:00 2026\n"
    parse_checked(
        mail.parse, write(scratch, "damaged.mbox", b"".join(separator + message + b"\n" for message in messages))
    )


#: Single-byte charsets and UTF-8, each with the printable characters it can encode.
BODY_CHARSETS = ("utf-8", "windows-1251", "koi8-r", "iso-8859-2", "windows-1250", "iso-8859-1")


def _encodable(charset: str) -> st.SearchStrategy[str]:
    if charset == "utf-8":
        return PRINTABLE
    characters = sorted({bytes([b]).decode(charset, "ignore") for b in range(0x20, 0x100)} - {"", "\x7f"})
    return st.sampled_from([c for c in characters if c.isprintable()])


@st.composite
def charset_and_text(draw: st.DrawFn) -> tuple[str, str]:
    charset = draw(st.sampled_from(BODY_CHARSETS))
    return charset, draw(st.text(_encodable(charset), min_size=1, max_size=150))


@PROPERTY
@given(
    subject=st.text(PRINTABLE, min_size=1, max_size=120),
    body=charset_and_text(),
    transfer_encoding=st.sampled_from(["8bit", "base64", "quoted-printable"]),
    moment=MOMENTS,
)
def test_email_subject_and_body_read_back_as_written(
    scratch: Path, subject: str, body: tuple[str, str], transfer_encoding: str, moment: datetime
) -> None:
    assume(subject.strip() and "=?" not in subject)
    charset, text = body
    moment = moment.replace(microsecond=0, tzinfo=UTC)
    message = EmailMessage()
    message["From"] = "Anna Nowak <anna@client.example>"
    message["To"] = "agent@ours.example"
    message["Subject"] = subject
    message["Date"] = format_datetime(moment)
    message["Message-ID"] = "<roundtrip@client.example>"
    message.set_content(f"Note {text} end.", charset=charset, cte=transfer_encoding)
    [parsed] = interactions(parse_checked(mail.parse, write(scratch, "roundtrip.eml", bytes(message))))
    assert parsed.subject == " ".join(subject.split())
    assert parsed.body == f"Note {text} end."
    assert parsed.occurred_at == moment


@PROPERTY
@given(name=st.text(NAME_CHARACTERS, min_size=1, max_size=40))
def test_email_sender_name_reads_back_as_written(scratch: Path, name: str) -> None:
    assume(name.strip(" ,.'-()"))
    message = EmailMessage()
    message["From"] = Address(display_name=name, addr_spec="sender@client.example")
    message["To"] = "agent@ours.example"
    message["Subject"] = "Hello"
    message["Date"] = "Tue, 03 Mar 2026 10:00:00 +0100"
    message.set_content("A short note.")
    raw = bytes(message)
    # the stdlib generator can fold a name's space into the gap between two encoded words, where RFC 2047
    # readers drop it: such an example tests the generator, not the parser
    assume(" ".join(sender_name(raw).split()) == " ".join(name.split()))
    [parsed] = interactions(parse_checked(mail.parse, write(scratch, "sender.eml", raw)))
    assert (parsed.author.name, parsed.author.value) == (" ".join(name.split()), "sender@client.example")


def sender_name(raw: bytes) -> str:
    """The From display name as the stdlib's RFC-conformant ``policy.default`` parser reads it."""
    message = email.message_from_bytes(raw, policy=email.policy.default)
    return str(message["From"].addresses[0].display_name)


# ---------------------------------------------------------------- WhatsApp


def whatsapp_stamp(moment: datetime, layout: str) -> str:
    if layout == "android":
        return f"{moment:%d.%m.%y}, {moment:%H:%M} - "
    return f"[{moment:%d.%m.%y}, {moment:%H:%M:%S}] "


def whatsapp_line(moment: datetime, layout: str, rest: str) -> str:
    return whatsapp_stamp(moment, layout) + rest


SENDERS = st.text(st.characters(categories=("L",)), min_size=1, max_size=20).map(str.capitalize)
CHAT_LINES = st.one_of(
    st.builds(
        lambda moment, layout, sender, text: whatsapp_line(moment, layout, f"{sender}: {text}"),
        MOMENTS,
        st.sampled_from(["android", "ios"]),
        SENDERS,
        st.text(PRINTABLE, max_size=60),
    ),
    st.builds(lambda moment, sender: whatsapp_line(moment, "android", f"{sender} added {sender}"), MOMENTS, SENDERS),
    st.text(MULTILINE, max_size=80),
)


@FUZZ
@given(
    lines=st.lists(CHAT_LINES, max_size=12),
    breaks=st.sampled_from(["\n", "\r\n", "\r"]),
    encoding=st.sampled_from(["utf-8", "utf-16", "windows-1251", "utf-8-sig"]),
)
def test_whatsapp_parser_never_raises_on_mixed_lines(
    scratch: Path, lines: list[str], breaks: str, encoding: str
) -> None:
    data = breaks.join(lines).encode(encoding, errors="replace")
    parse_checked(whatsapp.parse, write(scratch, "WhatsApp Chat with Mixed.txt", data))


@FUZZ
@given(data=st.binary(max_size=3000))
def test_whatsapp_parser_never_raises_on_arbitrary_bytes(scratch: Path, data: bytes) -> None:
    parse_checked(whatsapp.parse, write(scratch, "WhatsApp Chat with Bytes.txt", data))


def _plain_text(text: str) -> bool:
    """Text a chat message can hold verbatim: something besides spaces, not a system line's mark."""
    return bool(text.strip()) and not text.startswith("\u200e")


@PROPERTY
@given(
    text=st.text(PRINTABLE, min_size=1, max_size=200),
    sender=SENDERS,
    moment=MOMENTS,
    layout=st.sampled_from(["android", "ios"]),
)
def test_whatsapp_message_text_reads_back_as_written(
    scratch: Path, text: str, sender: str, moment: datetime, layout: str
) -> None:
    assume(_plain_text(text))
    moment = moment.replace(second=0) if layout == "android" else moment
    line = whatsapp_line(moment, layout, f"{sender}: {text}")
    [parsed] = interactions(
        parse_checked(whatsapp.parse, write(scratch, "WhatsApp Chat with Round.txt", (line + "\n").encode()))
    )
    assert parsed.body == text.strip()
    assert parsed.author.name == sender
    assert parsed.occurred_at == moment.replace(microsecond=0, tzinfo=UTC)


@PROPERTY
@given(
    first=st.text(PRINTABLE, min_size=1, max_size=80),
    more=st.lists(st.text(PRINTABLE, max_size=80), max_size=5),
    moment=MOMENTS,
)
def test_whatsapp_continuation_lines_read_back_as_written(
    scratch: Path, first: str, more: list[str], moment: datetime
) -> None:
    assume(_plain_text(first))
    assume(not any(pattern.match(line) for line in more for pattern in whatsapp.MESSAGE_START_PATTERNS))
    lines = [whatsapp_line(moment.replace(second=0), "android", f"Anna: {first}"), *more]
    [parsed] = interactions(
        parse_checked(whatsapp.parse, write(scratch, "WhatsApp Chat with Lines.txt", "\n".join(lines).encode()))
    )
    assert parsed.body == "\n".join([first, *more]).strip()


# ---------------------------------------------------------------- Telegram

JSON_SCALARS = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=12)
JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.sampled_from(["text", "type", "x"]), children, max_size=3)
    ),
    max_leaves=6,
)
MESSAGE_LIKE = st.fixed_dictionaries(
    {},
    optional={
        "id": st.integers() | st.text(max_size=5),
        "type": st.sampled_from(["message", "service", "x"]),
        "date": st.sampled_from(["2026-01-05T10:00:00", "yesterday", ""]) | JSON_SCALARS,
        "date_unixtime": JSON_SCALARS,
        "from": JSON_SCALARS,
        "from_id": JSON_SCALARS,
        "text": JSON_VALUES,
        "file": JSON_SCALARS,
        "photo": JSON_SCALARS,
        "media_type": JSON_SCALARS,
    },
)


@FUZZ
@given(messages=st.lists(MESSAGE_LIKE | JSON_SCALARS, max_size=5), name=JSON_SCALARS)
def test_telegram_parser_never_raises_on_odd_messages(scratch: Path, messages: list, name: object) -> None:
    export = {"name": name, "type": "personal_chat", "id": 1, "messages": messages}
    parse_checked(telegram.parse, write(scratch, "result.json", json.dumps(export).encode()), may_be_empty=True)


@FUZZ
@given(data=st.binary(max_size=3000))
def test_telegram_parser_never_raises_on_arbitrary_bytes(scratch: Path, data: bytes) -> None:
    parse_checked(telegram.parse, write(scratch, "result.json", data), may_be_empty=True)


def telegram_export(texts: list[str | list]) -> dict:
    return {
        "name": "Round Chat",
        "type": "personal_chat",
        "id": 42,
        "messages": [
            {
                "id": number,
                "type": "message",
                "date": "2026-01-05T10:00:00",
                "date_unixtime": "1767607200",
                "from": "Anna",
                "from_id": "user7",
                "text": text,
            }
            for number, text in enumerate(texts, start=1)
        ],
    }


@FUZZ
@given(texts=st.lists(st.text(PRINTABLE, min_size=1, max_size=40), min_size=1, max_size=4), cut=st.integers(0))
def test_telegram_cut_export_never_loses_silently(scratch: Path, texts: list[str], cut: int) -> None:
    assume(all(text.strip() for text in texts))
    data = json.dumps(telegram_export(texts), ensure_ascii=False).encode()
    cut %= len(data)
    results = parse_checked(telegram.parse, write(scratch, "result.json", data[:cut]))
    assert quarantined(results), "a cut export was read without a quarantine record"
    assert {parsed.body for parsed in interactions(results)} <= {text.strip() for text in texts}


@PROPERTY
@given(
    pieces=st.lists(
        st.text(st.characters(exclude_categories=("Cs", "Cc"), include_characters="\n\t"), max_size=60),
        min_size=1,
        max_size=4,
    ),
    as_entities=st.booleans(),
    ascii_only=st.booleans(),
)
def test_telegram_text_reads_back_as_written(
    scratch: Path, pieces: list[str], as_entities: bool, ascii_only: bool
) -> None:
    text = "".join(pieces)
    assume(text.strip())
    value = [{"type": "plain", "text": piece} for piece in pieces] if as_entities else text
    data = json.dumps(telegram_export([value]), ensure_ascii=ascii_only).encode()
    [parsed] = interactions(parse_checked(telegram.parse, write(scratch, "result.json", data)))
    assert parsed.body == text.strip()


# ---------------------------------------------------------------- CSV

CSV_PARSERS = {
    "notes": (crm_csv.parse_notes, "client,author,created_at,text"),
    "deals": (crm_csv.parse_deals, "client,deal_id,stage,changed_at"),
    "clients": (crm_csv.parse_clients, "client,domains,emails"),
}
CSV_JUNK = st.text(st.one_of(MULTILINE, st.sampled_from(['"', ",", ";", "\r", "\n", "\t"])), max_size=300)


@FUZZ
@given(kind=st.sampled_from(sorted(CSV_PARSERS)), body=CSV_JUNK, breaks=st.sampled_from(["\n", "\r\n", "\r"]))
def test_csv_parsers_never_raise_on_junk_rows(scratch: Path, kind: str, body: str, breaks: str) -> None:
    parse, header = CSV_PARSERS[kind]
    parse_checked(parse, write(scratch, f"{kind}.csv", (header + breaks + body).encode()))


@FUZZ
@given(kind=st.sampled_from(sorted(CSV_PARSERS)), data=st.binary(max_size=2000))
def test_csv_parsers_never_raise_on_arbitrary_bytes(scratch: Path, kind: str, data: bytes) -> None:
    parse, header = CSV_PARSERS[kind]
    parse_checked(parse, write(scratch, f"{kind}.csv", header.encode() + b"\n" + data))


@PROPERTY
@given(
    text=st.text(st.one_of(MULTILINE, st.sampled_from(['"', ",", ";"])), min_size=1, max_size=200),
    client=st.text(PRINTABLE, min_size=1, max_size=30),
    author=st.text(PRINTABLE, min_size=1, max_size=30),
    delimiter=st.sampled_from([",", ";"]),
    quoting=st.sampled_from([csv.QUOTE_MINIMAL, csv.QUOTE_ALL]),
    terminator=st.sampled_from(["\r\n", "\n"]),
)
def test_csv_note_text_reads_back_as_written(
    scratch: Path, text: str, client: str, author: str, delimiter: str, quoting: int, terminator: str
) -> None:
    assume(text.strip() and client.strip() and author.strip())
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, quoting=quoting, lineterminator=terminator)
    writer.writerows([["client", "author", "created_at", "text"], [client, author, "2026-01-05T10:00:00", text]])
    [parsed] = interactions(parse_checked(crm_csv.parse_notes, write(scratch, "notes.csv", out.getvalue().encode())))
    assert (parsed.body, parsed.author.name, parsed.client_hint) == (text.strip(), author.strip(), client.strip())
