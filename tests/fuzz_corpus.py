"""A deterministic fuzz corpus for the importers: broken inputs of every kind mixed with good ones.

``generate_corpus(folder, seed=..., count=...)`` writes at least ``count`` inputs, each in its own
top-level folder, and says what each must yield:

- a **good** input: exactly its messages (each once, with this exact text) and no quarantine entry;
- a **bad** input: at least one quarantine entry with a reason and its bytes (a symlink: its target
  in the reason), plus the messages its good parts hold (each once, with this exact text).

Every expected message carries a unique ASCII token in its body, so it can be found in the database
whatever client it was filed under. ``import_corpus`` imports the whole folder in one run and
``check_import`` compares the database with the expectations. Used by ``tests/test_import_fuzz.py``
and ``bench/fuzz_import.py``; it holds no tests itself.
"""

from __future__ import annotations

import base64
import csv
import html
import io
import json
import os
import quopri
import random
import re
import time
import traceback
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.header import Header
from email.utils import format_datetime
from pathlib import Path
from typing import NamedTuple

from sqlalchemy import select

from ingest.options import ImportOptions
from storage import repository
from storage.models import Interaction, QuarantineItem
from tests.db import import_paths, session_scope

#: Our own company's domain in the corpus (import it with it among the options' ``internal_domains``).
OUR_DOMAIN = "fuzz-sales.example"
TOKEN = re.compile(r"zq\d+x\d{5}")
#: Reason the pipeline gives when a parser raised instead of quarantining: a parser bug.
PARSER_FAILED = re.compile(r"parser failed after \d+ items")
#: How ``check_import`` words a parser exception that the pipeline caught.
CAUGHT = "parser raised, caught by the pipeline"
HUGE_LINE_BYTES = (1_500_000, 2_500_000)

WORDS = {
    "en": "invoice delivery contract meeting pallet order quote discount warehouse schedule renewal payment "
    "shipment licence printer module budget forecast sample pricing update review".split(),
    "ru": "счёт поставка договор встреча поддон заказ скидка склад график продление оплата отгрузка "
    "лицензия принтер модуль бюджет прогноз образец цена обновление".split(),
    "pl": "faktura dostawa umowa spotkanie paleta zamówienie rabat magazyn harmonogram przedłużenie "
    "płatność wysyłka licencja drukarka moduł budżet prognoza próbka cennik źródło".split(),
    "de": "Rechnung Lieferung Vertrag Besprechung Palette Bestellung Angebot Rabatt Lager Zeitplan "
    "Verlängerung Zahlung Sendung Lizenz Drucker Modul Größe Prognose Muster Übersicht".split(),
}
CHARSETS = {
    "en": ("utf-8", "iso-8859-1", "us-ascii"),
    "ru": ("utf-8", "windows-1251", "koi8-r"),
    "pl": ("utf-8", "iso-8859-2", "windows-1250"),
    "de": ("utf-8", "iso-8859-1", "windows-1252"),
}
TRANSFER_ENCODINGS = ("8bit", "base64", "quoted-printable")
COMPANY_WORDS = (
    "amber birch cobalt delta ember fjord granite harbor indigo juniper kestrel lumen meridian "
    "nimbus orchid pioneer quartz riverside summit tundra"
).split()
COMPANY_KINDS = "logistics systems trading foods metals textiles labs energy print motors".split()
FIRST_NAMES = "Anna Piotr Olga Dmitri Maria Jan Elena Tomasz Sophie Lukas Irina Marek".split()
LAST_NAMES = "Nowak Ivanova Kowalski Petrov Schmidt Wagner Lewandowska Smirnov Fischer Zielinski".split()


# ---------------------------------------------------------------- what the corpus promises


@dataclass(frozen=True, slots=True)
class ExpectedMessage:
    """A message an input must yield: found by its token, stored with exactly this text."""

    token: str
    body: str
    subject: str | None = None  # e-mail: the decoded subject it must be stored with


@dataclass(frozen=True, slots=True)
class FuzzInput:
    """One generated input (a file, maildir folder or symlink) and what importing it must give."""

    name: str  # path relative to the corpus folder
    case: str  # e.g. "email/cut-mid-boundary"
    messages: tuple[ExpectedMessage, ...] = ()
    quarantined: bool = False  # True: bad, at least one quarantine entry; False: good, none allowed
    link_target: str | None = None  # a symlink's target, which its quarantine reason must name

    @property
    def unit(self) -> str:
        """The top-level folder that holds this input."""
        return self.name.split("/", 1)[0]


@dataclass(frozen=True, slots=True)
class Corpus:
    root: Path
    seed: int
    inputs: tuple[FuzzInput, ...]

    def path(self, item: FuzzInput) -> Path:
        return self.root / item.name

    def units(self) -> list[Path]:
        """The top-level folders, one per generated case."""
        return sorted(self.root / name for name in {item.unit for item in self.inputs})

    @property
    def expected_messages(self) -> int:
        return sum(len(item.messages) for item in self.inputs)


class Finding(NamedTuple):
    """One broken promise: which input, of which case, and what happened."""

    input: str
    case: str
    problem: str


@dataclass(slots=True)
class Findings:
    """Everything ``check_import`` found wrong, by kind."""

    crashes: list[Finding] = field(default_factory=list)  # escaped exceptions; parser failures caught late
    lost_messages: list[Finding] = field(default_factory=list)  # good messages not imported
    unkept: list[Finding] = field(default_factory=list)  # bad inputs without a quarantine entry, reason or bytes
    wrongly_decoded: list[Finding] = field(default_factory=list)  # stored text differs from the expected text
    duplicated: list[Finding] = field(default_factory=list)  # a good message stored more than once
    false_quarantine: list[Finding] = field(default_factory=list)  # good inputs that were quarantined

    @property
    def lost(self) -> list[Finding]:
        """Good messages not imported and bad inputs not kept."""
        return self.lost_messages + self.unkept


def describe(findings: Iterable[Finding], limit: int = 60) -> str:
    """Findings as readable lines, sorted by case, for an assertion message or a report."""
    listed = sorted(findings)
    lines = [f"  {f.case:34} {f.input[:60]:60} {f.problem[:240]}" for f in listed[:limit]]
    if len(listed) > limit:
        lines.append(f"  … and {len(listed) - limit} more")
    return "\n".join(lines)


# ---------------------------------------------------------------- generating text


class _Writer:
    """Writes cases into the corpus folder: unique folders and tokens, seeded random choices."""

    def __init__(self, root: Path, seed: int):
        self.root = root
        self.seed = seed
        self.rng = random.Random(seed)
        self._tokens = 0
        self._folders = 0

    def token(self) -> str:
        self._tokens += 1
        return f"zq{self.seed}x{self._tokens:05d}"

    def folder(self, slug: str) -> tuple[Path, str]:
        """A new top-level folder for one case: (its path, its name)."""
        self._folders += 1
        name = f"{self._folders:04d}-{slug}"
        path = self.root / name
        path.mkdir(parents=True)
        return path, name

    def language(self) -> str:
        return self.rng.choice(list(WORDS))

    def sentence(self, language: str, words: tuple[int, int] = (5, 11)) -> str:
        chosen = [self.rng.choice(WORDS[language]) for _ in range(self.rng.randint(*words))]
        return " ".join(chosen).capitalize()

    def text(self, language: str, token: str, lines: int = 1) -> str:
        """Lines of words, the token in the first one; nothing a quote or signature splitter takes."""
        first = f"{self.sentence(language)} {token}."
        return "\n".join([first, *(self.sentence(language) + "." for _ in range(lines - 1))])

    def person(self) -> str:
        return f"{self.rng.choice(FIRST_NAMES)} {self.rng.choice(LAST_NAMES)}"

    def company(self) -> tuple[str, str]:
        """(a company's name, its domain), numbered after the current folder so folders do not share them."""
        first, kind = self.rng.choice(COMPANY_WORDS), self.rng.choice(COMPANY_KINDS)
        number = self._folders * 100 + self.rng.randint(0, 99)
        return f"{first.capitalize()} {kind.capitalize()} {number}", f"{first}-{kind}-{number}.example"

    def moment(self) -> datetime:
        start = datetime(2023, 1, 1, tzinfo=UTC)
        return start + timedelta(minutes=self.rng.randrange(3 * 365 * 24 * 60))

    def garbage(self, size: int) -> bytes:
        """Random bytes, at least one of them NUL."""
        data = bytearray(self.rng.randbytes(size))
        data[self.rng.randrange(size)] = 0
        return bytes(data)

    def huge_words(self, language: str, token: str) -> str:
        """A single line of 1.5 to 2.5 MB, the token near its start."""
        size = self.rng.randint(*HUGE_LINE_BYTES)
        vocabulary = WORDS[language]
        count = size // 9
        return f"Start {token} " + " ".join(vocabulary[i % len(vocabulary)] for i in range(count)) + "."


# ---------------------------------------------------------------- e-mail building blocks


@dataclass(frozen=True, slots=True)
class _Mail:
    """The parts of a good message, before they are written as MIME."""

    token: str
    sender: str
    sender_address: str
    subject: str
    text: str
    date: datetime


def _mail(w: _Writer, language: str | None = None, lines: int = 2) -> _Mail:
    language = language or w.language()
    token = w.token()
    _, domain = w.company()
    sender = w.person()
    local = sender.lower().replace(" ", ".")
    return _Mail(
        token,
        sender,
        f"{local}@{domain}",
        f"{w.sentence(language, (2, 5))} {token}",
        w.text(language, token, lines),
        w.moment(),
    )


def _encoded_subject(subject: str, charset: str) -> bytes:
    if subject.isascii():
        return subject.encode()
    return Header(subject, charset).encode().encode("ascii")


def _envelope(mail: _Mail, subject: bytes) -> list[tuple[str, bytes]]:
    return [
        ("From", f"{mail.sender} <{mail.sender_address}>".encode()),
        ("To", f"agent@{OUR_DOMAIN}".encode()),
        ("Subject", subject),
        ("Date", format_datetime(mail.date).encode()),
        ("Message-ID", f"<{mail.token}@{mail.sender_address.split('@')[1]}>".encode()),
        ("MIME-Version", b"1.0"),
    ]


def _header_block(headers: list[tuple[str, bytes]]) -> bytes:
    return b"".join(name.encode() + b": " + value + b"\n" for name, value in headers)


def _encode_body(text: str, charset: str, transfer_encoding: str) -> bytes:
    data = text.encode(charset)
    if transfer_encoding == "base64":
        return base64.encodebytes(data)
    if transfer_encoding == "quoted-printable":
        return quopri.encodestring(data)
    return data + b"\n"


def _text_part(
    text: str, charset: str | None, transfer_encoding: str, subtype: str = "plain", encode_as: str | None = None
) -> tuple[list[tuple[str, bytes]], bytes]:
    """Headers and body of a text part; ``encode_as`` writes the bytes in another charset than declared."""
    content_type = f"text/{subtype}" + (f'; charset="{charset}"' if charset else "")
    headers = [("Content-Type", content_type.encode()), ("Content-Transfer-Encoding", transfer_encoding.encode())]
    return headers, _encode_body(text, encode_as or charset or "utf-8", transfer_encoding)


def _single_part(mail: _Mail, charset: str, transfer_encoding: str, **part: str | None) -> bytes:
    headers, body = _text_part(mail.text, charset, transfer_encoding, **part)
    return _header_block(_envelope(mail, _encoded_subject(mail.subject, charset)) + headers) + b"\n" + body


def _multipart(
    mail: _Mail, subtype: str, parts: list[tuple[list[tuple[str, bytes]], bytes]], boundary: str, charset: str = "utf-8"
) -> bytes:
    headers = _envelope(mail, _encoded_subject(mail.subject, charset))
    headers.append(("Content-Type", f'multipart/{subtype}; boundary="{boundary}"'.encode()))
    chunks = [_header_block(headers), b"\nThis is a multi-part message in MIME format.\n"]
    for part_headers, body in parts:
        chunks += [f"\n--{boundary}\n".encode(), _header_block(part_headers), b"\n", body]
    chunks.append(f"\n--{boundary}--\n".encode())
    return b"".join(chunks)


def _attachment(w: _Writer) -> tuple[list[tuple[str, bytes]], bytes]:
    name = f"offer-{w.rng.randint(1, 999)}.pdf"
    headers = [
        ("Content-Type", f'application/pdf; name="{name}"'.encode()),
        ("Content-Transfer-Encoding", b"base64"),
        ("Content-Disposition", f'attachment; filename="{name}"'.encode()),
    ]
    return headers, base64.encodebytes(b"%PDF-1.4\n" + w.rng.randbytes(w.rng.randint(300, 3000)))


def _random_plain_mail(w: _Writer) -> tuple[bytes, ExpectedMessage]:
    language = w.language()
    mail = _mail(w, language, w.rng.randint(1, 4))
    charset = w.rng.choice(CHARSETS[language])
    data = _single_part(mail, charset, w.rng.choice(TRANSFER_ENCODINGS))
    return data, ExpectedMessage(mail.token, mail.text, mail.subject)


def _cut_multipart(w: _Writer) -> bytes:
    """A multipart message cut off inside a boundary line after its text part."""
    mail = _mail(w)
    boundary = f"=_b{w.rng.randint(10**6, 10**7)}"
    data = _multipart(mail, "mixed", [_text_part(mail.text, "utf-8", "8bit"), _attachment(w)], boundary)
    marker = f"\n--{boundary}".encode()
    starts = [m.start() for m in re.finditer(re.escape(marker), data)][1:]
    start = w.rng.choice(starts)
    return data[: start + w.rng.randint(2, len(marker) - 1)]


# ---------------------------------------------------------------- cases: e-mail


Case = Callable[[_Writer], list[FuzzInput]]


def _eml(
    w: _Writer,
    slug: str,
    data: bytes,
    *,
    messages: tuple[ExpectedMessage, ...] = (),
    quarantined: bool = False,
    file_name: str = "message.eml",
) -> list[FuzzInput]:
    folder, name = w.folder(slug)
    (folder / file_name).write_bytes(data)
    return [FuzzInput(f"{name}/{file_name}", slug.replace("-", "/", 1), messages, quarantined)]


def email_plain(w: _Writer) -> list[FuzzInput]:
    data, expected = _random_plain_mail(w)
    return _eml(w, "email-plain", data, messages=(expected,))


def email_crlf(w: _Writer) -> list[FuzzInput]:
    data, expected = _random_plain_mail(w)
    return _eml(w, "email-crlf", data.replace(b"\n", b"\r\n"), messages=(expected,))


def email_alternative(w: _Writer) -> list[FuzzInput]:
    mail = _mail(w)
    html_body = f"<html><body><p>{html.escape(mail.text)}</p></body></html>"
    parts = [
        _text_part(mail.text, "utf-8", w.rng.choice(TRANSFER_ENCODINGS)),
        _text_part(html_body, "utf-8", "quoted-printable", subtype="html"),
    ]
    data = _multipart(mail, "alternative", parts, f"alt-{mail.token}")
    return _eml(w, "email-alternative", data, messages=(ExpectedMessage(mail.token, mail.text, mail.subject),))


def email_html_only(w: _Writer) -> list[FuzzInput]:
    language = w.language()
    mail = _mail(w, language, lines=1)
    text = f"{mail.text} & {w.sentence(language, (2, 4))}"
    headers, body = _text_part(
        f"<html><head><style>p {{}}</style></head><body><p>{html.escape(text)}</p></body></html>",
        "utf-8",
        w.rng.choice(TRANSFER_ENCODINGS),
        subtype="html",
    )
    data = _header_block(_envelope(mail, _encoded_subject(mail.subject, "utf-8")) + headers) + b"\n" + body
    return _eml(w, "email-html-only", data, messages=(ExpectedMessage(mail.token, text, mail.subject),))


def email_with_attachment(w: _Writer) -> list[FuzzInput]:
    mail = _mail(w)
    parts = [_text_part(mail.text, "utf-8", w.rng.choice(TRANSFER_ENCODINGS)), _attachment(w)]
    data = _multipart(mail, "mixed", parts, f"mix-{mail.token}")
    return _eml(w, "email-with-attachment", data, messages=(ExpectedMessage(mail.token, mail.text, mail.subject),))


def email_mislabelled_charset(w: _Writer) -> list[FuzzInput]:
    """Russian text in windows-1251 or koi8-r, declared as UTF-8 or an unknown charset, or not at all."""
    mail = _mail(w, "ru", lines=4)
    declared = w.rng.choice(["utf-8", "x-unknown-charset", None])
    headers, body = _text_part(
        mail.text, declared, w.rng.choice(["8bit", "base64"]), encode_as=w.rng.choice(["windows-1251", "koi8-r"])
    )
    data = _header_block(_envelope(mail, _encoded_subject(mail.subject, "utf-8")) + headers) + b"\n" + body
    return _eml(w, "email-mislabelled-charset", data, messages=(ExpectedMessage(mail.token, mail.text, mail.subject),))


def email_unknown_charset_utf8(w: _Writer) -> list[FuzzInput]:
    mail = _mail(w, w.rng.choice(["ru", "pl", "de"]))
    headers, body = _text_part(mail.text, "x-no-such-charset", "8bit", encode_as="utf-8")
    data = _header_block(_envelope(mail, _encoded_subject(mail.subject, "utf-8")) + headers) + b"\n" + body
    return _eml(w, "email-unknown-charset", data, messages=(ExpectedMessage(mail.token, mail.text, mail.subject),))


def email_raw_8bit_headers(w: _Writer) -> list[FuzzInput]:
    """Subject and sender name as raw 8-bit bytes (no RFC 2047), in the charset the body declares."""
    language = w.rng.choice(["ru", "pl", "de"])
    mail = _mail(w, language)
    charset = w.rng.choice(CHARSETS[language])
    headers = _envelope(mail, mail.subject.encode(charset))
    headers[0] = ("From", f"{w.rng.choice(WORDS[language])} {mail.sender} <{mail.sender_address}>".encode(charset))
    part_headers, body = _text_part(mail.text, charset, "8bit")
    data = _header_block(headers + part_headers) + b"\n" + body
    return _eml(w, "email-raw-8bit-headers", data, messages=(ExpectedMessage(mail.token, mail.text, mail.subject),))


def email_bogus_encoded_word(w: _Writer) -> list[FuzzInput]:
    """An RFC 2047 subject whose charset name does not exist (the bytes are UTF-8)."""
    mail = _mail(w, w.rng.choice(["ru", "pl", "de"]))
    encoded = base64.b64encode(mail.subject.encode()).decode()
    data = _single_part(mail, "utf-8", "8bit").replace(
        b"Subject: " + _encoded_subject(mail.subject, "utf-8"), f"Subject: =?x-bogus?B?{encoded}?=".encode()
    )
    return _eml(w, "email-bogus-encoded-word", data, messages=(ExpectedMessage(mail.token, mail.text, mail.subject),))


def email_non_utf8_file_name(w: _Writer) -> list[FuzzInput]:
    data, expected = _random_plain_mail(w)
    return _eml(
        w, "email-non-utf8-name", data, messages=(expected,), file_name=os.fsdecode(b"oferta-\xb3\xf3d\xbf-\xff.eml")
    )


def email_cut_mid_header(w: _Writer) -> list[FuzzInput]:
    data, _ = _random_plain_mail(w)
    header_end = data.index(b"\n\n")
    return _eml(w, "email-cut-mid-header", data[: w.rng.randint(40, header_end - 1)], quarantined=True)


def email_cut_mid_boundary(w: _Writer) -> list[FuzzInput]:
    return _eml(w, "email-cut-mid-boundary", _cut_multipart(w), quarantined=True)


def email_cut_mid_base64(w: _Writer) -> list[FuzzInput]:
    mail = _mail(w, w.rng.choice(["ru", "pl", "de"]), lines=6)
    data = _single_part(mail, "utf-8", "base64")
    body_start = data.index(b"\n\n") + 2
    cut = w.rng.randrange(body_start + 8, len(data) - 8)
    while len(data[body_start:cut].replace(b"\n", b"")) % 4 == 0:  # never after a whole 4-character group
        cut -= 1
    return _eml(w, "email-cut-mid-base64", data[:cut], quarantined=True)


def email_invalid_base64(w: _Writer) -> list[FuzzInput]:
    mail = _mail(w, w.rng.choice(["ru", "pl", "de"]), lines=4)
    data = bytearray(_single_part(mail, "utf-8", "base64"))
    body_start = data.index(b"\n\n") + 2
    for _ in range(w.rng.randint(3, 12)):
        position = w.rng.randrange(body_start, len(data) - 1)
        if data[position] != ord("\n"):
            data[position] = w.rng.choice(b"!*%$#~^")
    data[body_start + 4 : body_start + 4] = b"===="
    return _eml(w, "email-invalid-base64", bytes(data), quarantined=True)


def email_broken_quoted_printable(w: _Writer) -> list[FuzzInput]:
    mail = _mail(w, w.rng.choice(["ru", "pl", "de"]), lines=3)
    data = _single_part(mail, "utf-8", "quoted-printable")
    escapes = [m.start() for m in re.finditer(rb"=[0-9A-F]{2}", data)]
    broken = bytearray(data)
    for position in w.rng.sample(escapes, min(len(escapes), w.rng.randint(2, 6))):
        broken[position + 1] = w.rng.choice(b"GXZ")
    return _eml(w, "email-broken-quoted-printable", bytes(broken).rstrip(b"\n") + b"=E", quarantined=True)


def email_binary(w: _Writer) -> list[FuzzInput]:
    return _eml(w, "email-binary", w.garbage(w.rng.randint(200, 6000)), quarantined=True)


def email_empty(w: _Writer) -> list[FuzzInput]:
    return _eml(w, "email-empty", w.rng.choice([b"", b"\n", b"  \r\n\t\n"]), quarantined=True)


def email_no_from_no_date(w: _Writer) -> list[FuzzInput]:
    mail = _mail(w)
    data = (
        f"Subject: {mail.subject}\nMessage-ID: <{mail.token}@nowhere.example>\nMIME-Version: 1.0\n\n{mail.text}\n"
    ).encode()
    return _eml(w, "email-no-from-no-date", data, quarantined=True)


def email_headers_only(w: _Writer) -> list[FuzzInput]:
    mail = _mail(w)
    return _eml(
        w, "email-headers-only", _header_block(_envelope(mail, mail.subject.encode())) + b"\n", quarantined=True
    )


def email_binary_text_part(w: _Writer) -> list[FuzzInput]:
    mail = _mail(w)
    headers = [
        *_envelope(mail, mail.subject.encode()),
        ("Content-Type", b"text/plain; charset=utf-8"),
        ("Content-Transfer-Encoding", b"8bit"),
    ]
    return _eml(w, "email-binary-text-part", _header_block(headers) + b"\n" + w.garbage(2000), quarantined=True)


def email_undecodable_body(w: _Writer) -> list[FuzzInput]:
    """High bytes without any structure under a charset that does not exist."""
    mail = _mail(w)
    headers = [
        *_envelope(mail, mail.subject.encode()),
        ("Content-Type", b'text/plain; charset="x-garbled"'),
        ("Content-Transfer-Encoding", b"8bit"),
    ]
    noise = bytes(w.rng.randrange(0x80, 0x100) for _ in range(w.rng.randint(200, 1500)))
    return _eml(w, "email-undecodable-body", _header_block(headers) + b"\n" + noise, quarantined=True)


def email_multipart_without_boundary(w: _Writer) -> list[FuzzInput]:
    mail = _mail(w)
    headers = [*_envelope(mail, mail.subject.encode()), ("Content-Type", b"multipart/mixed")]
    body = f"--nowhere\nContent-Type: text/plain\n\n{mail.text}\n--nowhere--\n".encode()
    return _eml(w, "email-multipart-without-boundary", _header_block(headers) + b"\n" + body, quarantined=True)


def email_huge_line(w: _Writer) -> list[FuzzInput]:
    mail = _mail(w, "en")
    text = w.huge_words("en", mail.token)
    mail = _Mail(mail.token, mail.sender, mail.sender_address, mail.subject, text, mail.date)
    data = _single_part(mail, "utf-8", "8bit")
    return _eml(w, "email-huge-line", data, messages=(ExpectedMessage(mail.token, text, mail.subject),))


# ---------------------------------------------------------------- cases: mbox and maildir


def mbox_good(w: _Writer) -> list[FuzzInput]:
    chunks, expected = [], []
    for _ in range(w.rng.randint(2, 5)):
        data, message = _random_plain_mail(w)
        chunks.append(f"From sender@example.org {w.moment():%a %b %d %H:%M:%S %Y}\n".encode() + data + b"\n")
        expected.append(message)
    return _eml(w, "mbox-good", b"".join(chunks), messages=tuple(expected), file_name="archive.mbox")


def _bad_message(w: _Writer) -> bytes:
    mail = _mail(w)
    return w.rng.choice(
        [
            lambda: _cut_multipart(w),
            lambda: (
                _header_block([*_envelope(mail, mail.subject.encode()), ("Content-Type", b"text/plain")])
                + b"\n"
                + w.garbage(800)
            ),
            lambda: f"X-Note: {mail.token}\n\n{mail.text}\n".encode(),
        ]
    )()


def mbox_partly_bad(w: _Writer) -> list[FuzzInput]:
    chunks, expected = [], []
    for index in range(w.rng.randint(3, 6)):
        if index % 2:
            data = _bad_message(w)
        else:
            data, message = _random_plain_mail(w)
            expected.append(message)
        chunks.append(f"From someone@example.org {w.moment():%a %b %d %H:%M:%S %Y}\n".encode() + data + b"\n")
    return _eml(
        w, "mbox-partly-bad", b"".join(chunks), messages=tuple(expected), quarantined=True, file_name="archive.mbox"
    )


def mbox_cut_last_message(w: _Writer) -> list[FuzzInput]:
    chunks, expected = [], []
    for _ in range(w.rng.randint(2, 4)):
        data, message = _random_plain_mail(w)
        chunks.append(f"From someone@example.org {w.moment():%a %b %d %H:%M:%S %Y}\n".encode() + data + b"\n")
        expected.append(message)
    last = chunks.pop()
    expected.pop()
    header_end = last.index(b"\n\n")
    chunks.append(last[: w.rng.randint(last.index(b"\n") + 20, header_end - 1)])
    return _eml(
        w,
        "mbox-cut-last-message",
        b"".join(chunks),
        messages=tuple(expected),
        quarantined=True,
        file_name="archive.mbox",
    )


def mbox_binary(w: _Writer) -> list[FuzzInput]:
    return _eml(w, "mbox-binary", w.garbage(w.rng.randint(200, 5000)), quarantined=True, file_name="archive.mbox")


def mbox_separator_then_binary(w: _Writer) -> list[FuzzInput]:
    data = b"From nobody@example.org Mon Jan  1 00:00:00 2024\n" + w.garbage(w.rng.randint(200, 3000))
    return _eml(
        w,
        "mbox-separator-then-binary",
        data.replace(b"\nFrom ", b"\nfrom "),
        quarantined=True,
        file_name="archive.mbox",
    )


def _maildir(w: _Writer, slug: str, extra: Callable[[Path], None] | None, quarantined: bool) -> list[FuzzInput]:
    folder, name = w.folder(slug)
    box = folder / "Inbox"
    for part in ("cur", "new", "tmp"):
        (box / part).mkdir(parents=True)
    expected = []
    for number in range(w.rng.randint(1, 3)):
        data, message = _random_plain_mail(w)
        target = (
            box / "new" / f"17000{number:05d}.M{number}P1.fuzz"
            if number % 2
            else box / "cur" / f"17000{number:05d}.M{number}P1.fuzz:2,S"
        )
        target.write_bytes(data)
        expected.append(message)
    if extra:
        extra(box)
    return [FuzzInput(f"{name}/Inbox", slug.replace("-", "/", 1), tuple(expected), quarantined)]


def maildir_good(w: _Writer) -> list[FuzzInput]:
    return _maildir(w, "maildir-good", None, False)


def maildir_with_binary_file(w: _Writer) -> list[FuzzInput]:
    return _maildir(
        w,
        "maildir-with-binary-file",
        lambda box: (box / "cur" / "1700099999.M9P9.fuzz:2,S").write_bytes(w.garbage(1500)),
        True,
    )


def maildir_with_empty_file(w: _Writer) -> list[FuzzInput]:
    return _maildir(
        w, "maildir-with-empty-file", lambda box: (box / "new" / "1700099998.M8P8.fuzz").write_bytes(b""), True
    )


def maildir_with_cut_message(w: _Writer) -> list[FuzzInput]:
    return _maildir(
        w,
        "maildir-with-cut-message",
        lambda box: (box / "cur" / "1700099997.M7P7.fuzz:2,S").write_bytes(_cut_multipart(w)),
        True,
    )


# ---------------------------------------------------------------- cases: WhatsApp


def _whatsapp_stamp(moment: datetime, layout: str) -> str:
    if layout == "android":
        return f"{moment:%d.%m.%y}, {moment:%H:%M} - "
    if layout == "ios":
        return f"[{moment:%d.%m.%y}, {moment:%H:%M:%S}] "
    hour = moment.hour % 12 or 12
    return f"{moment.month}/{moment.day}/{moment:%y}, {hour}:{moment:%M} {'PM' if moment.hour >= 12 else 'AM'} - "


def _chat(
    w: _Writer, layout: str, count: int, language: str | None = None, system_lines: bool = True
) -> tuple[list[str], list[ExpectedMessage]]:
    """The lines of a chat export and the messages they hold."""
    moment = w.moment().replace(second=0) if layout != "ios" else w.moment()
    lines: list[str] = []
    if system_lines:
        lines.append(
            _whatsapp_stamp(moment, layout) + "Messages and calls are end-to-end encrypted. "
            "No one outside of this chat can read them. Tap to learn more."
        )
    expected = []
    for _ in range(count):
        moment += timedelta(minutes=w.rng.randint(1, 600))
        if system_lines and w.rng.random() < 0.15:
            lines.append(_whatsapp_stamp(moment, layout) + f"{w.person()} added {w.person()}")
        token = w.token()
        text = w.text(language or w.language(), token, w.rng.choice([1, 1, 2, 3]))
        sender = w.rng.choice([w.person(), f"+48 600 {w.rng.randint(100, 999)} {w.rng.randint(100, 999)}"])
        lines.append(_whatsapp_stamp(moment, layout) + f"{sender}: " + text)
        expected.append(ExpectedMessage(token, text))
    return "\n".join(lines).split("\n"), expected


def _whatsapp(
    w: _Writer,
    slug: str,
    data_of: Callable[[list[str]], bytes],
    *,
    layout: str | None = None,
    count: int | None = None,
    language: str | None = None,
    file_name: str | None = None,
    keep: Callable[[list[ExpectedMessage]], list[ExpectedMessage]] | None = None,
    quarantined: bool = False,
    lines_of: Callable[[list[str]], list[str]] | None = None,
) -> list[FuzzInput]:
    folder, name = w.folder(slug)
    company, _ = w.company()
    lines, expected = _chat(w, layout or w.rng.choice(["android", "ios", "us"]), count or w.rng.randint(2, 8), language)
    if lines_of:
        lines = lines_of(lines)
    file_name = file_name or f"WhatsApp Chat with {company}.txt"
    (folder / file_name).write_bytes(data_of(lines))
    expected = keep(expected) if keep else expected
    return [FuzzInput(f"{name}/{file_name}", slug.replace("-", "/", 1), tuple(expected), quarantined)]


def _utf8(lines: list[str]) -> bytes:
    return ("\n".join(lines) + "\n").encode()


def whatsapp_android(w: _Writer) -> list[FuzzInput]:
    return _whatsapp(w, "whatsapp-android", _utf8, layout="android")


def whatsapp_ios(w: _Writer) -> list[FuzzInput]:
    return _whatsapp(w, "whatsapp-ios", lambda lines: "\r\n".join(lines).encode(), layout="ios")


def whatsapp_us_clock(w: _Writer) -> list[FuzzInput]:
    return _whatsapp(w, "whatsapp-us-clock", _utf8, layout="us")


def whatsapp_utf16(w: _Writer) -> list[FuzzInput]:
    return _whatsapp(w, "whatsapp-utf16", lambda lines: "\n".join(lines).encode("utf-16"))


def whatsapp_cp1251(w: _Writer) -> list[FuzzInput]:
    return _whatsapp(
        w, "whatsapp-cp1251", lambda lines: "\r\n".join(lines).encode("windows-1251"), language="ru", count=8
    )


def whatsapp_line_endings(w: _Writer) -> list[FuzzInput]:
    """CR-only or mixed CR, LF and CRLF line endings."""

    def join(lines: list[str]) -> bytes:
        if w.rng.random() < 0.5:
            return "\r".join(lines).encode()
        return "".join(line + w.rng.choice(["\n", "\r\n", "\r"]) for line in lines).encode()

    return _whatsapp(w, "whatsapp-line-endings", join)


def whatsapp_non_utf8_file_name(w: _Writer) -> list[FuzzInput]:
    return _whatsapp(
        w, "whatsapp-non-utf8-name", _utf8, file_name=os.fsdecode(b"WhatsApp Chat with Firma \xb3\xf3d\xbf.txt")
    )


def whatsapp_only_system_lines(w: _Writer) -> list[FuzzInput]:
    folder, name = w.folder("whatsapp-only-system-lines")
    moment = w.moment().replace(second=0)
    lines = [_whatsapp_stamp(moment, "android") + "Messages and calls are end-to-end encrypted. Tap to learn more."]
    for _ in range(w.rng.randint(1, 5)):
        moment += timedelta(minutes=w.rng.randint(1, 90))
        lines.append(
            _whatsapp_stamp(moment, "android")
            + w.rng.choice(
                [f"{w.person()} added {w.person()}", f"{w.person()} left", f'{w.person()} created group "Team"']
            )
        )
    (folder / "WhatsApp Chat with Group.txt").write_bytes(_utf8(lines))
    return [FuzzInput(f"{name}/WhatsApp Chat with Group.txt", "whatsapp/only-system-lines", quarantined=True)]


def whatsapp_text_before_first_message(w: _Writer) -> list[FuzzInput]:
    return _whatsapp(
        w,
        "whatsapp-text-before-first",
        _utf8,
        quarantined=True,
        lines_of=lambda lines: [f"Exported chat, {w.sentence('en')}", *lines],
    )


def whatsapp_invalid_date(w: _Writer) -> list[FuzzInput]:
    def corrupt(lines: list[str]) -> list[str]:
        return [*lines, f"31.02.24, 10:15 - {w.person()}: {w.sentence('en')}", "25:99 is not a time either"]

    return _whatsapp(w, "whatsapp-invalid-date", _utf8, layout="android", quarantined=True, lines_of=corrupt)


def whatsapp_binary(w: _Writer) -> list[FuzzInput]:
    folder, name = w.folder("whatsapp-binary")
    (folder / "WhatsApp Chat with Noise.txt").write_bytes(w.garbage(w.rng.randint(100, 4000)))
    return [FuzzInput(f"{name}/WhatsApp Chat with Noise.txt", "whatsapp/binary", quarantined=True)]


def whatsapp_nul_after_head(w: _Writer) -> list[FuzzInput]:
    return _whatsapp(
        w,
        "whatsapp-binary-after-head",
        lambda lines: _utf8(lines) + w.garbage(1000),
        quarantined=True,
        keep=lambda expected: [],
    )


def whatsapp_empty(w: _Writer) -> list[FuzzInput]:
    folder, name = w.folder("whatsapp-empty")
    (folder / "WhatsApp Chat with Nobody.txt").write_bytes(w.rng.choice([b"", b"\n\n", "\ufeff".encode()]))
    return [FuzzInput(f"{name}/WhatsApp Chat with Nobody.txt", "whatsapp/empty", quarantined=True)]


def whatsapp_huge_line(w: _Writer) -> list[FuzzInput]:
    folder, name = w.folder("whatsapp-huge-line")
    lines, expected = _chat(w, "android", 2, "en")
    token = w.token()
    text = w.huge_words("pl", token)
    lines.append(_whatsapp_stamp(datetime(2026, 1, 2, 12, 0), "android") + f"{w.person()}: {text}")
    (folder / "WhatsApp Chat with Big.txt").write_bytes(_utf8(lines))
    return [
        FuzzInput(f"{name}/WhatsApp Chat with Big.txt", "whatsapp/huge-line", (*expected, ExpectedMessage(token, text)))
    ]


def text_huge_line(w: _Writer) -> list[FuzzInput]:
    folder, name = w.folder("text-huge-line")
    (folder / "notes.txt").write_bytes(w.huge_words("de", w.token()).encode())
    return [FuzzInput(f"{name}/notes.txt", "text/huge-line", quarantined=True)]


# ---------------------------------------------------------------- cases: Telegram


def _telegram_message(w: _Writer, number: int, language: str) -> tuple[dict, ExpectedMessage | None]:
    moment = w.moment()
    base = {
        "id": number,
        "date": moment.replace(tzinfo=None).isoformat(),
        "date_unixtime": str(int(moment.timestamp())),
    }
    if w.rng.random() < 0.12:
        return {**base, "type": "service", "actor": w.person(), "action": "invite_members"}, None
    token = w.token()
    text = w.text(language, token, w.rng.choice([1, 1, 2]))
    if w.rng.random() < 0.4:
        cut = text.index(token)
        value: str | list = [text[:cut], {"type": "bold", "text": token}, text[cut + len(token) :]]
    else:
        value = text
    sender = w.person()
    return {
        **base,
        "type": "message",
        "from": sender,
        "from_id": f"user{w.rng.randint(10**6, 10**9)}",
        "text": value,
        "text_entities": [],
    }, ExpectedMessage(token, text)


def _telegram_chat(w: _Writer, count: int) -> tuple[dict, list[ExpectedMessage | None]]:
    """A one-chat export and, for each of its messages, what it must yield (None: a service message)."""
    company, _ = w.company()
    language = w.language()
    pairs = [_telegram_message(w, number, language) for number in range(1, count + 1)]
    chat = {
        "name": company,
        "type": "personal_chat",
        "id": w.rng.randint(10**6, 10**9),
        "messages": [message for message, _ in pairs],
    }
    return chat, [wanted for _, wanted in pairs]


def _wanted(
    yields: list[ExpectedMessage | None], ends: list[int] | None = None, limit: int | None = None
) -> list[ExpectedMessage]:
    """The expected messages, only those ending at or before byte ``limit`` when it is given."""
    ends = ends or [0] * len(yields)
    return [wanted for wanted, end in zip(yields, ends, strict=True) if wanted and (limit is None or end <= limit)]


def _telegram_file(
    w: _Writer, slug: str, data: bytes, expected: Iterable[ExpectedMessage] = (), quarantined: bool = False
) -> list[FuzzInput]:
    folder, name = w.folder(slug)
    (folder / "result.json").write_bytes(data)
    return [FuzzInput(f"{name}/result.json", slug.replace("-", "/", 1), tuple(expected), quarantined)]


def _chat_bytes(chat: dict) -> tuple[bytes, list[int]]:
    """A chat serialized with each message on its own line, and the byte offset where each message ends."""
    head = json.dumps({key: value for key, value in chat.items() if key != "messages"}, ensure_ascii=False)
    data = bytearray(head[:-1].encode() + b', "messages": [\n')
    ends = []
    for index, message in enumerate(chat["messages"]):
        data += json.dumps(message, ensure_ascii=False).encode()
        ends.append(len(data))
        data += b",\n" if index < len(chat["messages"]) - 1 else b"\n"
    data += b"]}\n"
    return bytes(data), ends


def telegram_single_chat(w: _Writer) -> list[FuzzInput]:
    chat, yields = _telegram_chat(w, w.rng.randint(2, 10))
    data = json.dumps(chat, ensure_ascii=w.rng.random() < 0.5, indent=w.rng.choice([None, 1])).encode()
    return _telegram_file(w, "telegram-single-chat", data, _wanted(yields))


def telegram_account_export(w: _Writer) -> list[FuzzInput]:
    chats = [_telegram_chat(w, w.rng.randint(1, 5)) for _ in range(w.rng.randint(1, 3))]
    export = {
        "about": "Here is the data you requested.",
        "personal_information": {"user_id": 1},
        "chats": {"about": "chats", "list": [chat for chat, _ in chats]},
    }
    return _telegram_file(
        w,
        "telegram-account-export",
        json.dumps(export, ensure_ascii=False).encode(),
        [wanted for _, yields in chats for wanted in _wanted(yields)],
    )


def telegram_truncated(w: _Writer) -> list[FuzzInput]:
    """An export cut off: the messages complete before the cut must still be imported."""
    chat, yields = _telegram_chat(w, w.rng.randint(3, 10))
    data, ends = _chat_bytes(chat)
    cut = w.rng.randrange(data.index(b'"messages"'), len(data) - 3)
    return _telegram_file(w, "telegram-truncated", data[:cut], _wanted(yields, ends, cut), quarantined=True)


def telegram_invalid_utf8(w: _Writer) -> list[FuzzInput]:
    """Invalid UTF-8 inside one message's text: the messages before it must still be imported."""
    chat, yields = _telegram_chat(w, w.rng.randint(3, 8))
    data, ends = _chat_bytes(chat)
    victim = w.rng.choice(_wanted(yields))
    position = data.index(victim.token.encode())
    return _telegram_file(
        w,
        "telegram-invalid-utf8",
        data[:position] + b"\xff\xc3(" + data[position:],
        _wanted(yields, ends, position),
        quarantined=True,
    )


def telegram_bad_message(w: _Writer) -> list[FuzzInput]:
    chat, yields = _telegram_chat(w, w.rng.randint(3, 8))
    broken = w.rng.choice(
        [
            {"id": "seven", "type": "message", "date": "2024-01-01T10:00:00", "text": "x"},
            {"id": 99999, "type": "message", "text": "no date at all"},
            {"id": 99998, "type": "message", "date": "2024-01-01T10:00:00", "text": 12},
            {"id": 99997, "type": "message", "date": "yesterday", "text": "bad date"},
            "a message that is a string",
        ]
    )
    chat["messages"].insert(w.rng.randrange(len(chat["messages"]) + 1), broken)
    return _telegram_file(
        w, "telegram-bad-message", json.dumps(chat, ensure_ascii=False).encode(), _wanted(yields), quarantined=True
    )


def telegram_binary(w: _Writer) -> list[FuzzInput]:
    return _telegram_file(w, "telegram-binary", w.garbage(w.rng.randint(100, 4000)), quarantined=True)


def telegram_wrong_shape(w: _Writer) -> list[FuzzInput]:
    data = json.dumps(
        {
            "name": "x",
            "type": "personal_chat",
            "id": 5,
            "messages": {"date_unixtime": "1700000000", "text": "not a list"},
        }
    ).encode()
    return _telegram_file(w, "telegram-wrong-shape", data, quarantined=True)


def unknown_json(w: _Writer) -> list[FuzzInput]:
    folder, name = w.folder("unknown-json")
    (folder / "export.json").write_bytes(json.dumps({"widgets": [{"id": i} for i in range(5)]}).encode())
    return [FuzzInput(f"{name}/export.json", "unknown/json", quarantined=True)]


def binary_no_extension(w: _Writer) -> list[FuzzInput]:
    folder, name = w.folder("unknown-binary")
    (folder / "DATA").write_bytes(w.garbage(w.rng.randint(100, 3000)))
    return [FuzzInput(f"{name}/DATA", "unknown/binary", quarantined=True)]


# ---------------------------------------------------------------- cases: CSV

NOTES_HEADER = ["client", "author", "created_at", "text", "note_id"]
DEALS_HEADER = ["client", "deal_id", "stage", "changed_at", "deal_name"]
CLIENTS_HEADER = ["client", "domains", "emails"]


def _csv_line(cells: list[str], delimiter: str, terminator: str) -> str:
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter, lineterminator=terminator).writerow(cells)
    return out.getvalue()


def _written_date(w: _Writer, moment: datetime) -> str:
    return w.rng.choice([moment.isoformat(), f"{moment:%d.%m.%Y %H:%M}", f"{moment:%B} {moment.day}, {moment.year}"])


def _note_rows(w: _Writer, count: int, language: str) -> tuple[list[list[str]], list[ExpectedMessage]]:
    company, _ = w.company()
    rows, expected = [], []
    for _ in range(count):
        token = w.token()
        text = w.text(language, token, w.rng.choice([1, 1, 2]))
        if w.rng.random() < 0.3:
            text = f'{text} "quoted", with; delimiters'
        rows.append([company, w.person(), _written_date(w, w.moment()), text, f"N-{token}"])
        expected.append(ExpectedMessage(token, text))
    return rows, expected


def _deal_rows(w: _Writer, count: int) -> tuple[list[list[str]], list[ExpectedMessage]]:
    company, _ = w.company()
    rows, expected = [], []
    for _ in range(count):
        token = w.token()
        deal_name, stage = f"{w.sentence('en', (1, 3))} {token}", w.rng.choice(["proposal", "negotiation", "won"])
        rows.append([company, f"D-{token}", stage, _written_date(w, w.moment()), deal_name])
        expected.append(ExpectedMessage(token, f"Deal {deal_name} (D-{token}) moved to stage {stage}."))
    return rows, expected


def _csv_input(
    w: _Writer,
    slug: str,
    header: list[str],
    rows: list[list[str]],
    *,
    file_name: str,
    expected: Iterable[ExpectedMessage] = (),
    quarantined: bool = False,
    encoding: str = "utf-8",
    terminators: tuple[str, ...] = ("\r\n",),
    delimiter: str | None = None,
    insert: Callable[[list[str]], list[str]] | None = None,
) -> list[FuzzInput]:
    folder, name = w.folder(slug)
    delimiter = delimiter or w.rng.choice(",;")
    lines = [_csv_line(row, delimiter, w.rng.choice(terminators)) for row in [header, *rows]]
    if insert:
        lines = insert(lines)
    (folder / file_name).write_bytes("".join(lines).encode(encoding))
    return [FuzzInput(f"{name}/{file_name}", slug.replace("-", "/", 1), tuple(expected), quarantined)]


def notes_good(w: _Writer) -> list[FuzzInput]:
    encoding = w.rng.choice(["utf-8", "utf-8-sig", "utf-16", "windows-1251"])
    language = "ru" if encoding == "windows-1251" else w.language()
    rows, expected = _note_rows(w, w.rng.randint(2, 8) if encoding != "windows-1251" else 8, language)
    return _csv_input(w, "notes-good", NOTES_HEADER, rows, file_name="notes.csv", expected=expected, encoding=encoding)


def notes_stray_quote(w: _Writer) -> list[FuzzInput]:
    rows, expected = _note_rows(w, 3, "en")
    token = w.token()
    text = f'Screen size 5" and 7" {token} in stock'
    stray = f"{rows[0][0]},{w.person()},2024-05-01T10:00:00,{text},N-{token}\r\n"
    return _csv_input(
        w,
        "notes-stray-quote",
        NOTES_HEADER,
        rows,
        file_name="notes.csv",
        delimiter=",",
        expected=[*expected, ExpectedMessage(token, text)],
        insert=lambda lines: [*lines, stray],
    )


def deals_good(w: _Writer) -> list[FuzzInput]:
    rows, expected = _deal_rows(w, w.rng.randint(2, 6))
    return _csv_input(w, "deals-good", DEALS_HEADER, rows, file_name="deals.csv", expected=expected)


def clients_good(w: _Writer) -> list[FuzzInput]:
    rows = []
    for _ in range(w.rng.randint(1, 4)):
        company, domain = w.company()
        rows.append([company, domain, f"office@{domain}; sales@{domain}"])
    return _csv_input(w, "clients-good", CLIENTS_HEADER, rows, file_name="clients.csv")


def notes_line_endings(w: _Writer) -> list[FuzzInput]:
    rows, expected = _note_rows(w, w.rng.randint(2, 6), w.language())
    return _csv_input(
        w,
        "notes-line-endings",
        NOTES_HEADER,
        rows,
        file_name="notes.csv",
        expected=expected,
        terminators=w.rng.choice([("\r",), ("\r", "\n", "\r\n")]),
    )


def deals_cr_only(w: _Writer) -> list[FuzzInput]:
    rows, expected = _deal_rows(w, w.rng.randint(2, 6))
    return _csv_input(
        w, "deals-cr-only", DEALS_HEADER, rows, file_name="deals.csv", expected=expected, terminators=("\r",)
    )


def csv_header_only(w: _Writer) -> list[FuzzInput]:
    header, file_name = w.rng.choice(
        [(NOTES_HEADER, "notes.csv"), (DEALS_HEADER, "deals.csv"), (CLIENTS_HEADER, "clients.csv")]
    )
    return _csv_input(w, "csv-header-only", header, [], file_name=file_name, quarantined=True)


def notes_unclosed_quote(w: _Writer) -> list[FuzzInput]:
    """A row whose quoted text never closes: the rows before it must be imported, the rest quarantined."""
    rows, expected = _note_rows(w, w.rng.randint(3, 6), "en")
    broken_at = w.rng.randrange(1, len(rows))
    broken = f'{rows[0][0]},{w.person()},2024-01-01T10:00:00,"never closed {w.sentence("en")}\r\n'
    return _csv_input(
        w,
        "notes-unclosed-quote",
        NOTES_HEADER,
        rows,
        file_name="notes.csv",
        delimiter=",",
        expected=expected[:broken_at],
        quarantined=True,
        insert=lambda lines: [*lines[: broken_at + 1], broken, *lines[broken_at + 1 :]],
    )


def notes_bad_rows(w: _Writer) -> list[FuzzInput]:
    rows, expected = _note_rows(w, w.rng.randint(2, 5), w.language())
    client = rows[0][0]
    bad = w.rng.choice(
        [
            [client, w.person(), "31.02.2024 25:61", "a note with an impossible date"],
            [client, w.person(), "2024-03-01T10:00:00", ""],
            [client, w.person(), "2024-03-01T10:00:00", "one", "two", "three", "four"],
            [client],
        ]
    )
    spot = w.rng.randrange(len(rows) + 1)
    return _csv_input(
        w,
        "notes-bad-rows",
        NOTES_HEADER,
        [*rows[:spot], bad, *rows[spot:]],
        file_name="notes.csv",
        expected=expected,
        quarantined=True,
    )


def csv_binary(w: _Writer) -> list[FuzzInput]:
    folder, name = w.folder("csv-binary")
    file_name = w.rng.choice(["notes.csv", "deals.csv", "export.tsv"])
    (folder / file_name).write_bytes(w.garbage(w.rng.randint(100, 3000)))
    return [FuzzInput(f"{name}/{file_name}", "csv/binary", quarantined=True)]


def notes_with_nul(w: _Writer) -> list[FuzzInput]:
    rows, _ = _note_rows(w, 4, "en")
    rows[1][3] += "\x00\x00binary tail"
    return _csv_input(w, "notes-with-nul", NOTES_HEADER, rows, file_name="notes.csv", quarantined=True)


def clients_unknown_owner(w: _Writer) -> list[FuzzInput]:
    company, domain = w.company()
    header = [*CLIENTS_HEADER, "owner"]
    return _csv_input(
        w,
        "clients-unknown-owner",
        header,
        [[company, domain, f"info@{domain}", "nobody-at-all"]],
        file_name="clients.csv",
        quarantined=True,
    )


def notes_huge_cell(w: _Writer) -> list[FuzzInput]:
    rows, expected = _note_rows(w, 2, "en")
    token = w.token()
    text = w.huge_words("en", token)
    rows.insert(1, [rows[0][0], w.person(), "2024-06-01T09:00:00", text, f"N-{token}"])
    return _csv_input(
        w,
        "notes-huge-cell",
        NOTES_HEADER,
        rows,
        file_name="notes.csv",
        expected=[*expected, ExpectedMessage(token, text)],
    )


def notes_huge_garbage_line(w: _Writer) -> list[FuzzInput]:
    rows, expected = _note_rows(w, 3, "en")
    garbage = w.huge_words("en", w.token()).replace(",", "").replace(";", "") + "\r\n"
    return _csv_input(
        w,
        "notes-huge-garbage-line",
        NOTES_HEADER,
        rows,
        file_name="notes.csv",
        expected=expected,
        quarantined=True,
        insert=lambda lines: [*lines[:2], garbage, *lines[2:]],
    )


# ---------------------------------------------------------------- cases: symlinks


def dangling_symlinks(w: _Writer) -> list[FuzzInput]:
    folder, name = w.folder("symlink-dangling")
    targets = {
        "missing-absolute.eml": f"/nonexistent/fuzz-{w.token()}/message.eml",
        "missing-relative.txt": "gone/WhatsApp Chat with Gone.txt",
    }
    for link, target in targets.items():
        (folder / link).symlink_to(target)
    return [
        FuzzInput(f"{name}/{link}", "symlink/dangling", quarantined=True, link_target=target)
        for link, target in targets.items()
    ]


def symlink_file_loop(w: _Writer) -> list[FuzzInput]:
    folder, name = w.folder("symlink-file-loop")
    (folder / "loop-a.eml").symlink_to("loop-b.eml")
    (folder / "loop-b.eml").symlink_to("loop-a.eml")
    return [
        FuzzInput(f"{name}/loop-{own}.eml", "symlink/file-loop", quarantined=True, link_target=f"loop-{other}.eml")
        for own, other in (("a", "b"), ("b", "a"))
    ]


def symlink_directory_loop(w: _Writer) -> list[FuzzInput]:
    """A folder linking back to itself, next to a good chat that must still be imported once."""
    chat = _whatsapp(w, "symlink-directory-loop", _utf8, layout="android")
    folder_name = chat[0].unit
    target = f"../{folder_name}"
    (w.root / folder_name / "back").symlink_to(target)
    return [*chat, FuzzInput(f"{folder_name}/back", "symlink/directory-loop", quarantined=True, link_target=target)]


#: Cases written once per corpus: huge lines (a few MB each) and symlinks.
ONCE: tuple[Case, ...] = (
    email_huge_line,
    whatsapp_huge_line,
    notes_huge_cell,
    notes_huge_garbage_line,
    text_huge_line,
    dangling_symlinks,
    symlink_file_loop,
    symlink_directory_loop,
)
#: Cases repeated, with fresh random content, until the corpus has enough inputs.
REPEATED: tuple[Case, ...] = (
    email_plain,
    email_crlf,
    email_alternative,
    email_html_only,
    email_with_attachment,
    email_mislabelled_charset,
    email_unknown_charset_utf8,
    email_raw_8bit_headers,
    email_bogus_encoded_word,
    email_non_utf8_file_name,
    email_cut_mid_header,
    email_cut_mid_boundary,
    email_cut_mid_base64,
    email_invalid_base64,
    email_broken_quoted_printable,
    email_binary,
    email_empty,
    email_no_from_no_date,
    email_headers_only,
    email_binary_text_part,
    email_undecodable_body,
    email_multipart_without_boundary,
    mbox_good,
    mbox_partly_bad,
    mbox_cut_last_message,
    mbox_binary,
    mbox_separator_then_binary,
    maildir_good,
    maildir_with_binary_file,
    maildir_with_empty_file,
    maildir_with_cut_message,
    whatsapp_android,
    whatsapp_ios,
    whatsapp_us_clock,
    whatsapp_utf16,
    whatsapp_cp1251,
    whatsapp_line_endings,
    whatsapp_non_utf8_file_name,
    whatsapp_only_system_lines,
    whatsapp_text_before_first_message,
    whatsapp_invalid_date,
    whatsapp_binary,
    whatsapp_nul_after_head,
    whatsapp_empty,
    telegram_single_chat,
    telegram_account_export,
    telegram_truncated,
    telegram_invalid_utf8,
    telegram_bad_message,
    telegram_binary,
    telegram_wrong_shape,
    unknown_json,
    binary_no_extension,
    notes_good,
    notes_stray_quote,
    deals_good,
    clients_good,
    notes_line_endings,
    deals_cr_only,
    csv_header_only,
    notes_unclosed_quote,
    notes_bad_rows,
    csv_binary,
    notes_with_nul,
    clients_unknown_owner,
)


def generate_corpus(root: Path, *, seed: int = 1, count: int = 220) -> Corpus:
    """Write at least ``count`` inputs under ``root`` (which must not exist yet); same seed, same bytes."""
    root = Path(root)
    root.mkdir(parents=True)
    writer = _Writer(root, seed)
    inputs: list[FuzzInput] = []
    for case in ONCE:
        inputs += case(writer)
    order = list(REPEATED)
    while len(inputs) < count:
        writer.rng.shuffle(order)
        for case in order:
            inputs += case(writer)
            if len(inputs) >= count:
                break
    return Corpus(root, seed, tuple(inputs))


# ---------------------------------------------------------------- importing and checking


class ImportOutcome(NamedTuple):
    """What happened when a corpus was imported."""

    errors: list[Finding]  # exceptions that escaped ``import_paths``
    seconds: float
    isolated: bool  # True when the one run failed and the folders were then imported in halves to find the culprits


def _error_summary(error: BaseException) -> str:
    frames = traceback.extract_tb(error.__traceback__)
    where = f" at {Path(frames[-1].filename).name}:{frames[-1].lineno} in {frames[-1].name}" if frames else ""
    return f"{type(error).__name__}: {str(error)[:200]}{where}"


def import_corpus(corpus: Corpus, database_url: str, options: ImportOptions) -> ImportOutcome:
    """Import the whole corpus folder in one run, with ``options``.

    If that raises, the folders are imported again in halves, and halves of the halves that fail, until
    each exception is pinned to one folder; everything else still gets imported, so the rest can be checked.
    """
    started = time.perf_counter()
    try:
        import_paths([corpus.root], database_url=database_url, options=options)
        return ImportOutcome([], time.perf_counter() - started, False)
    except Exception as error:  # noqa: BLE001 - the measurement: an exception escaping the import is a finding
        errors = [Finding("(the whole corpus in one run)", "import", _error_summary(error))]
    cases: dict[str, set[str]] = defaultdict(set)
    for item in corpus.inputs:
        cases[item.unit].add(item.case)
    _import_halving(corpus.units(), database_url, options, errors, cases)
    return ImportOutcome(errors, time.perf_counter() - started, True)


def _import_halving(
    units: list[Path], database_url: str, options: ImportOptions, errors: list[Finding], cases: dict[str, set[str]]
) -> None:
    try:
        import_paths(units, database_url=database_url, options=options)
        return
    except Exception as error:  # noqa: BLE001 - recorded once it is pinned to one folder
        if len(units) == 1:
            errors.append(Finding(units[0].name, ", ".join(sorted(cases[units[0].name])), _error_summary(error)))
            return
    middle = len(units) // 2
    _import_halving(units[:middle], database_url, options, errors, cases)
    _import_halving(units[middle:], database_url, options, errors, cases)


@dataclass(slots=True)
class _Stored:
    """What the database holds, indexed for checking."""

    texts: dict[str, list[tuple[str, str | None, str | None]]]  # token -> (body, subject, decode issue) of each
    quarantine: dict[str, list[tuple[str | None, str, bytes | None]]]  # source path -> (item_ref, reason, bytes)


def _stored(database_url: str) -> _Stored:
    texts: dict[str, list[tuple[str, str | None, str | None]]] = defaultdict(list)
    quarantine: dict[str, list[tuple[str | None, str, bytes | None]]] = defaultdict(list)
    with session_scope(database_url) as session:
        for body, subject, issue in session.execute(
            select(Interaction.body, Interaction.subject, Interaction.decode_issue)
        ):
            for token in set(TOKEN.findall(body or "")) | set(TOKEN.findall(subject or "")):
                texts[token].append((body, subject, issue))
        rows = session.execute(
            select(QuarantineItem.id, QuarantineItem.source_path, QuarantineItem.item_ref, QuarantineItem.reason)
        ).all()
        for quarantine_id, source_path, item_ref, reason in rows:
            pieces = list(repository.quarantine_bytes(session, quarantine_id))
            quarantine[source_path].append((item_ref, reason, b"".join(pieces) if pieces else None))
    return _Stored(texts, quarantine)


def _difference(stored: str | None, expected: str) -> str:
    stored = stored or ""
    shortest = min(len(stored), len(expected))
    at = next((i for i, (a, b) in enumerate(zip(stored, expected, strict=False)) if a != b), shortest)
    return (
        f"stored {stored[max(0, at - 20) : at + 40]!r} where {expected[max(0, at - 20) : at + 40]!r} was "
        f"expected (at character {at}; lengths {len(stored)} / {len(expected)})"
    )


def _check_messages(item: FuzzInput, stored: _Stored, findings: Findings) -> None:
    for message in item.messages:
        found = stored.texts.get(message.token, [])
        if not found:
            findings.lost_messages.append(Finding(item.name, item.case, f"message {message.token} not imported"))
            continue
        if len(found) > 1:
            findings.duplicated.append(Finding(item.name, item.case, f"message {message.token} stored {len(found)}×"))
        body, subject, _ = found[0]
        if body != message.body:
            findings.wrongly_decoded.append(Finding(item.name, item.case, "body: " + _difference(body, message.body)))
        if message.subject is not None and subject != message.subject:
            findings.wrongly_decoded.append(
                Finding(item.name, item.case, "subject: " + _difference(subject, message.subject))
            )


def _file_bytes(path: Path) -> bytes | None:
    return path.read_bytes() if path.is_file() and not path.is_symlink() else None


def _imported_instead(path: Path, item: FuzzInput, stored: _Stored) -> str:
    """How a bad input that was not quarantined was stored instead (found by the tokens its bad parts hold)."""
    if path.is_symlink():
        return ""
    files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
    tokens = {token for file in files for token in TOKEN.findall(file.read_bytes().decode("latin-1"))}
    tokens -= {message.token for message in item.messages}
    found = [found for token in sorted(tokens) for found in stored.texts.get(token, [])]
    if not found:
        return ""
    issues = sorted({str(issue) for _, _, issue in found})
    return (
        f"; imported instead as {len(found)} interaction(s), e.g. {found[0][0][:60]!r}, "
        f"decode_issue: {' | '.join(issues)[:200]}"
    )


def _check_quarantine(corpus: Corpus, item: FuzzInput, stored: _Stored, findings: Findings) -> None:
    entries = stored.quarantine.get(str(corpus.path(item)), [])
    if not item.quarantined:
        for item_ref, reason, _ in entries:
            findings.false_quarantine.append(Finding(item.name, item.case, f"quarantined ({item_ref}): {reason}"))
        return
    if not entries:
        findings.unkept.append(
            Finding(
                item.name,
                item.case,
                "bad input has no quarantine entry" + _imported_instead(corpus.path(item), item, stored),
            )
        )
        return
    whole = _file_bytes(corpus.path(item))
    for item_ref, reason, kept in entries:
        where = f"quarantine entry ({item_ref or 'whole file'})"
        if not reason.strip():
            findings.unkept.append(Finding(item.name, item.case, f"{where} has an empty reason"))
        if item.link_target is not None:
            if item.link_target not in reason:
                findings.unkept.append(Finding(item.name, item.case, f"{where} lacks the link target: {reason}"))
        elif kept is None:
            findings.unkept.append(Finding(item.name, item.case, f"{where} kept no bytes: {reason}"))
        elif item_ref is None and whole is not None and kept != whole:
            findings.unkept.append(
                Finding(item.name, item.case, f"{where} kept {len(kept)} bytes, not the file's {len(whole)}")
            )


def check_import(corpus: Corpus, database_url: str, outcome: ImportOutcome | None = None) -> Findings:
    """Compare the database with what the corpus promises; ``outcome`` adds the escaped exceptions."""
    stored = _stored(database_url)
    findings = Findings(crashes=list(outcome.errors) if outcome else [])
    for item in corpus.inputs:
        _check_messages(item, stored, findings)
        _check_quarantine(corpus, item, stored, findings)
    by_path = {str(corpus.path(item)): item for item in corpus.inputs}
    for source_path, entries in stored.quarantine.items():
        for item_ref, reason, _ in entries:
            if PARSER_FAILED.search(reason):
                item = by_path.get(source_path)
                findings.crashes.append(
                    Finding(
                        item.name if item else source_path,
                        item.case if item else "?",
                        f"{CAUGHT} ({item_ref}): {reason}",
                    )
                )
    return findings


def database_counts(database_url: str) -> tuple[int, int]:
    """(interactions, quarantine rows) stored."""
    with session_scope(database_url) as session:
        interactions = session.query(Interaction).count()
        quarantined = session.query(QuarantineItem).count()
    return interactions, quarantined


__all__ = [
    "CAUGHT",
    "OUR_DOMAIN",
    "Corpus",
    "ExpectedMessage",
    "Finding",
    "Findings",
    "FuzzInput",
    "ImportOutcome",
    "check_import",
    "database_counts",
    "describe",
    "generate_corpus",
    "import_corpus",
]
