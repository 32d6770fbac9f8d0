"""E-mail text that needs a guess is flagged; text that cannot be decoded is quarantined, never stored."""

import base64
import quopri
import random
from pathlib import Path

import pytest
from sqlalchemy import select

from ingest.decoding import decode_text
from ingest.records import ParsedInteraction, Party, Quarantined
from storage.models import ContactKind, Interaction, QuarantineItem
from tests.db import import_paths, session_scope
from tests.test_mail import (
    DATE,
    RUSSIAN_TEXT,
    make_message,
    parse_all,
    parse_one,
    quarantined_one,
    raw_message,
    write_eml,
    write_mbox,
)

SHORT_RUSSIAN_TEXT = "Счёт получили, оплатим в понедельник."


def noise(seed: int, size: int) -> bytes:
    """Random bytes that no charset turns into text (no mbox ``From `` lines)."""
    return random.Random(seed).randbytes(size).replace(b"\nFrom ", b"\nxxxx ")


def encoded_message(payload: bytes, transfer_encoding: str, charset: str = "utf-8") -> bytes:
    """A message whose body is ``payload`` as written, declared with the given transfer encoding."""
    headers = (
        f"From: Sender <sender@client.com>\nTo: bob@ours.com\nSubject: encoding test\nDate: {DATE}\n"
        f"Message-ID: <enc@client.com>\nMIME-Version: 1.0\nContent-Type: text/plain; charset={charset}\n"
        f"Content-Transfer-Encoding: {transfer_encoding}\n\n"
    )
    return headers.encode("ascii") + payload


# ---------------------------------------------------------------- bodies


def test_clean_body_has_no_decode_issue(tmp_path: Path) -> None:
    raw = raw_message(RUSSIAN_TEXT.encode("koi8-r"), 'text/plain; charset="koi8-r"')
    assert parse_one(write_eml(tmp_path, raw)).decode_issue is None


@pytest.mark.parametrize("text", [RUSSIAN_TEXT, SHORT_RUSSIAN_TEXT])
def test_unknown_declared_charset_is_detected_and_flagged(tmp_path: Path, text: str) -> None:
    raw = raw_message(text.encode("cp1251"), 'text/plain; charset="x-unknown"')
    item = parse_one(write_eml(tmp_path, raw))
    assert item.body == text
    assert "x-unknown" in item.decode_issue and "1251" in item.decode_issue


def test_short_body_in_another_charset_than_declared_is_not_mojibake(tmp_path: Path) -> None:
    raw = raw_message(SHORT_RUSSIAN_TEXT.encode("cp1251"), "text/plain; charset=utf-8")
    item = parse_one(write_eml(tmp_path, raw))
    assert item.body == SHORT_RUSSIAN_TEXT
    assert "utf-8" in item.decode_issue and "1251" in item.decode_issue


@pytest.mark.parametrize("label", ["windows-1250", "windows-1251", "koi8-r"])
def test_utf8_body_labelled_with_a_legacy_charset_is_read_as_utf8(tmp_path: Path, label: str) -> None:
    raw = raw_message(RUSSIAN_TEXT.encode(), f"text/plain; charset={label}")
    item = parse_one(write_eml(tmp_path, raw))
    assert item.body == RUSSIAN_TEXT
    assert label in item.decode_issue and "utf-8" in item.decode_issue


def test_one_damaged_byte_in_a_long_utf8_body_is_imported_and_flagged(tmp_path: Path) -> None:
    text = f"{RUSSIAN_TEXT}\n{RUSSIAN_TEXT}"
    data = text.encode()
    damaged = data.index("Счёт".encode()) + 1  # the second byte of "С"
    raw = raw_message(data[:damaged] + data[damaged + 1 :], "text/plain; charset=utf-8")
    item = parse_one(write_eml(tmp_path, raw))
    assert item.body == text.replace("Счёт", "\ufffdчёт", 1)
    assert "U+FFFD" in item.decode_issue


def test_noise_in_unknown_charset_is_quarantined_with_its_bytes(tmp_path: Path) -> None:
    garbage = noise(11, 2000)
    path = write_mbox(tmp_path, [raw_message(garbage, 'text/plain; charset="x-unknown"'), bytes(make_message("Fine."))])
    quarantined, item = parse_all(path)
    assert isinstance(quarantined, Quarantined) and "x-unknown" in quarantined.reason
    assert quarantined.raw is not None and garbage[:200] in quarantined.raw
    assert isinstance(item, ParsedInteraction) and item.body == "Fine."


@pytest.mark.parametrize(
    "payload",
    [
        base64.b64encode("Счёт на оплату во вложении.".encode())[:-3],  # length 1 mod 4: undecodable
        b"Hello Bob, this text was never base64, whatever the header says!\n" * 20,  # decodes to noise
    ],
    ids=["impossible-length", "not-base64-at-all"],
)
def test_invalid_base64_body_is_quarantined_with_its_bytes(tmp_path: Path, payload: bytes) -> None:
    path = write_mbox(tmp_path, [encoded_message(payload, "base64"), bytes(make_message("Fine."))])
    quarantined, item = parse_all(path)
    assert isinstance(quarantined, Quarantined), quarantined
    assert "base64" in quarantined.reason and quarantined.item_ref == "message 1"
    assert quarantined.raw is not None and payload[:40] in quarantined.raw
    assert isinstance(item, ParsedInteraction)


def test_base64_body_cut_off_inside_a_group_is_quarantined(tmp_path: Path) -> None:
    encoded = base64.b64encode(RUSSIAN_TEXT.encode())
    path = write_mbox(tmp_path, [encoded_message(encoded[:-6], "base64"), bytes(make_message("Fine."))])
    quarantined, item = parse_all(path)
    assert isinstance(quarantined, Quarantined) and "cut off" in quarantined.reason
    assert isinstance(item, ParsedInteraction)


def test_base64_with_stray_characters_that_still_decodes_is_flagged(tmp_path: Path) -> None:
    encoded = base64.b64encode(RUSSIAN_TEXT.encode())
    payload = encoded[:40] + b"*" + encoded[40:]
    item = parse_one(write_eml(tmp_path, encoded_message(payload, "base64")))
    assert item.body == RUSSIAN_TEXT
    assert "base64" in item.decode_issue


def test_quoted_printable_with_lost_bytes_is_quarantined_not_stored_as_mojibake(tmp_path: Path) -> None:
    encoded = quopri.encodestring(RUSSIAN_TEXT.encode())
    escapes = encoded.split(b"=")
    broken = b"=".join(escape for number, escape in enumerate(escapes) if number % 7 != 3)
    quarantined = quarantined_one(write_eml(tmp_path, encoded_message(broken, "quoted-printable")))
    assert "body" in quarantined.reason and "utf-8" in quarantined.reason


def test_quoted_printable_with_invalid_escapes_is_kept_as_written_and_flagged(tmp_path: Path) -> None:
    payload = b"Total =ZZ 100 EUR, caf=C3=A9 included.\n"
    item = parse_one(write_eml(tmp_path, encoded_message(payload, "quoted-printable")))
    assert item.body == "Total =ZZ 100 EUR, café included."
    assert "quoted-printable" in item.decode_issue


def test_quoted_printable_with_invalid_escapes_inside_utf8_text_is_quarantined(tmp_path: Path) -> None:
    encoded = quopri.encodestring(RUSSIAN_TEXT.encode())
    broken = encoded.replace(b"=D0=", b"=G0=", 2)  # two characters lose their first byte
    quarantined = quarantined_one(write_eml(tmp_path, encoded_message(broken, "quoted-printable")))
    assert "quoted-printable" in quarantined.reason and "utf-8" in quarantined.reason.lower()


@pytest.mark.parametrize("cut_at", ["Content-Transfe", "Message-"])
def test_message_cut_off_inside_its_headers_is_quarantined(tmp_path: Path, cut_at: str) -> None:
    whole = bytes(make_message("Fine.", message_id="<cut@client.com>"))
    path = write_mbox(tmp_path, [bytes(make_message("First."))])
    cut = whole[: whole.index(cut_at.encode()) + len(cut_at)]
    with path.open("ab") as mbox:  # the file ends where the copy was cut off
        mbox.write(b"From sender@client.com Mon Mar  3 10:00:00 2025\n" + cut)
    item, quarantined = parse_all(path)
    assert isinstance(item, ParsedInteraction) and item.body == "First."
    assert isinstance(quarantined, Quarantined) and "cut off inside its headers" in quarantined.reason


# ---------------------------------------------------------------- headers


@pytest.mark.parametrize(
    ("codec", "subject", "name"),
    [
        ("cp1251", "Счёт на оплату №7", "Иван Петров"),
        ("koi8-r", "Счёт на оплату", "Иван Петров"),
        ("iso-8859-2", "Zamówienie 7", "Łukasz Wójcik"),
    ],
)
def test_raw_8bit_headers_in_a_legacy_charset_are_decoded_and_flagged(
    tmp_path: Path, codec: str, subject: str, name: str
) -> None:
    raw = f"From: {name} <sender@client.com>\nTo: bob@ours.com\nSubject: {subject}\n".encode(
        codec
    ) + f"Date: {DATE}\n\nPlain body.\n".encode("ascii")
    item = parse_one(write_eml(tmp_path, raw))
    assert item.subject == subject
    assert item.author == Party(name, ContactKind.EMAIL, "sender@client.com")
    assert "Subject" in item.decode_issue and "From" in item.decode_issue


def test_raw_8bit_header_noise_quarantines_the_message(tmp_path: Path) -> None:
    rng = random.Random(5)
    garbage = bytes(rng.randrange(0x80, 0x100) for _ in range(40))
    raw = b"From: sender@client.com\nSubject: " + garbage + f"\nDate: {DATE}\n\nPlain body.\n".encode()
    quarantined = quarantined_one(write_eml(tmp_path, raw))
    assert "Subject" in quarantined.reason


# ---------------------------------------------------------------- stored


def test_decode_issue_is_stored_with_the_interaction(database_url: str, tmp_path: Path) -> None:
    guessed = raw_message(SHORT_RUSSIAN_TEXT.encode("cp1251"), 'text/plain; charset="x-unknown"')
    clean = bytes(make_message("Clean text.", message_id="<clean@client.com>"))
    undecodable = encoded_message(b"QUJD" * 10 + b"Q", "base64")
    import_paths([write_mbox(tmp_path, [guessed, clean, undecodable])])
    with session_scope(database_url) as session:
        stored = dict(session.execute(select(Interaction.body, Interaction.decode_issue)).all())
        reasons = session.scalars(select(QuarantineItem.reason)).all()
    assert stored.keys() == {SHORT_RUSSIAN_TEXT, "Clean text."}
    assert "x-unknown" in stored[SHORT_RUSSIAN_TEXT]
    assert stored["Clean text."] is None
    assert len(reasons) == 1 and "base64" in reasons[0]


# ---------------------------------------------------------------- declared charsets against detection


@pytest.mark.parametrize("text", ["A÷", "Aц≈", "Счёт ÷ 2"])
def test_a_declared_charset_that_fits_the_bytes_wins_over_detection(tmp_path: Path, text: str) -> None:
    """Symbols next to letters are no proof of mojibake: koi8-r bytes declared koi8-r read as koi8-r."""
    raw = raw_message(f"Note {text} end.".encode("koi8-r"), 'text/plain; charset="koi8-r"')
    item = parse_one(write_eml(tmp_path, raw))
    assert (item.body, item.decode_issue) == (f"Note {text} end.", None)


def test_utf8_with_one_lost_byte_is_read_as_utf8_not_as_a_legacy_charset() -> None:
    text = "Zażółć gęślą jaźń, faktura jest w porządku. Dziękujemy za współpracę."
    data = text.encode()
    lost = data.index("ę".encode()) + 1
    decoded = decode_text(data[:lost] + data[lost + 1 :])
    assert (decoded.text, decoded.encoding) == (text.replace("ę", "\ufffd", 1), "utf-8")
    assert "U+FFFD" in decoded.suspect_reason


def test_raw_8bit_subject_is_read_in_the_charset_the_body_declares(tmp_path: Path) -> None:
    subject = "Übersicht für Müller"
    raw = (
        f"From: Sender <sender@client.com>\nTo: bob@ours.com\nSubject: {subject}\nDate: {DATE}\n"
        "MIME-Version: 1.0\nContent-Type: text/plain; charset=windows-1252\n\n"
    ).encode("cp1252")
    item = parse_one(write_eml(tmp_path, raw + "Größe passt.\n".encode("cp1252")))
    assert item.subject == subject
    assert "Subject: undeclared 8-bit bytes" in item.decode_issue


def test_base64_of_which_only_a_scrap_decodes_is_quarantined(tmp_path: Path) -> None:
    encoded = base64.encodebytes(RUSSIAN_TEXT.encode())
    payload = encoded[:6] + b"==" + encoded[6:]  # padding mid-group: the decoder stops after four bytes
    quarantined = quarantined_one(write_eml(tmp_path, encoded_message(payload, "base64")))
    assert "base64" in quarantined.reason and "bytes decode" in quarantined.reason


def test_quoted_printable_with_a_damaged_escape_inside_a_word_is_quarantined(tmp_path: Path) -> None:
    payload = b"Modu=C5=82 bud=C5=BCet, pr=G3=G3bka umowa.\n"  # "próbka" lost its "ó"; the rest is valid UTF-8
    quarantined = quarantined_one(write_eml(tmp_path, encoded_message(payload, "quoted-printable")))
    assert "quoted-printable" in quarantined.reason and "inside a word" in quarantined.reason
