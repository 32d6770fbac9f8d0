"""E-mail parsing: .eml, mbox, maildir; charsets, HTML, attachments, quotes, signatures, bad input."""

import json
import mailbox
import random
import time
from datetime import UTC, datetime
from email.header import Header
from email.message import EmailMessage, Message
from email.utils import format_datetime, getaddresses
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from ingest import mail
from ingest.records import ParsedInteraction, Party, Quarantined
from storage.models import Channel, Contact, ContactKind, Interaction
from tests.db import import_paths, session_scope

BC3_THREADS = (
    Path(__file__).resolve().parents[1].parent / "shared/data/bc3_email_threads/dev/bc3_email_threads_dev.jsonl"
)
DATE = "Mon, 03 Mar 2025 10:15:00 +0100"
RUSSIAN_TEXT = (
    "Добрый день! Счёт на оплату получили, бухгалтерия оплатит его в понедельник. "
    "Пожалуйста, пришлите акт выполненных работ и договор поставки оборудования."
)
POLISH_TEXT = "Dzień dobry, faktura jest w porządku. Zapłacimy w poniedziałek. Łódź, Gdańsk, źdźbło."


# ---------------------------------------------------------------- fixture builders


def make_message(
    body: str = "Hello, the invoice is attached.",
    *,
    subject: str = "Invoice 42",
    sender: str = "Anna Smith <anna@client.com>",
    to: str = "Bob Rep <bob@ours.com>",
    date: str | None = DATE,
    message_id: str | None = "<m1@client.com>",
    **headers: str,
) -> EmailMessage:
    """A plain-text message with the usual headers (extra headers given as Header_Name=value)."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    if date is not None:
        message["Date"] = date
    if message_id is not None:
        message["Message-ID"] = message_id
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    message.set_content(body)
    return message


def raw_message(body: bytes, content_type: str, extra_headers: str = "") -> bytes:
    """Raw message bytes with an 8-bit body, for charset labels exactly as mail clients write them."""
    headers = (
        "From: Sender <sender@client.com>\n"
        "To: bob@ours.com\n"
        "Subject: charset test\n"
        f"Date: {DATE}\n"
        "Message-ID: <raw@client.com>\n"
        "MIME-Version: 1.0\n"
        f"Content-Type: {content_type}\n"
        "Content-Transfer-Encoding: 8bit\n"
        f"{extra_headers}\n"
    )
    return headers.encode("ascii") + body


def write_eml(tmp_path: Path, content: bytes | EmailMessage, name: str = "message.eml") -> Path:
    path = tmp_path / name
    path.write_bytes(content if isinstance(content, bytes) else bytes(content))
    return path


def write_mbox(tmp_path: Path, messages: list[bytes], from_line_dates: list[str] | None = None) -> Path:
    """An mbox file; each message gets a ``From `` line with the given asctime date."""
    dates = from_line_dates or ["Mon Mar  3 10:00:00 2025"] * len(messages)
    path = tmp_path / "archive.mbox"
    with path.open("wb") as handle:
        for message, date in zip(messages, dates, strict=True):
            handle.write(f"From sender@client.com {date}\n".encode("ascii"))
            handle.write(message.rstrip(b"\n") + b"\n\n")
    return path


def parse_all(path: Path) -> list[ParsedInteraction | Quarantined]:
    return list(mail.parse(path))


def parse_one(path: Path) -> ParsedInteraction:
    results = parse_all(path)
    assert len(results) == 1
    assert isinstance(results[0], ParsedInteraction), results[0]
    return results[0]


def quarantined_one(path: Path) -> Quarantined:
    results = parse_all(path)
    assert len(results) == 1
    assert isinstance(results[0], Quarantined), results[0]
    return results[0]


# ---------------------------------------------------------------- sniff


def test_sniff_recognises_mail_files_and_maildir(tmp_path: Path) -> None:
    maildir = tmp_path / "Maildir"
    (maildir / "cur").mkdir(parents=True)
    (maildir / "new").mkdir()
    headers_only = b"Received: from mx.example.com\nFrom: a@b.com\nSubject: x\n\nbody"
    assert mail.sniff(tmp_path / "x.eml", b"")
    assert mail.sniff(tmp_path / "x.MBOX", b"")
    assert mail.sniff(tmp_path / "export", b"From a@b.com Mon Mar  3 10:00:00 2025\nFrom: a@b.com\n")
    assert mail.sniff(tmp_path / "saved.txt", headers_only)
    assert mail.sniff(tmp_path / "x", b"From: a@b.com\r\nDate: " + DATE.encode() + b"\r\n\r\nhi")
    assert mail.sniff(maildir, b"")


def test_sniff_rejects_chats_tables_and_plain_directories(tmp_path: Path) -> None:
    whatsapp = "12/03/2025, 10:00 - Anna: From: the warehouse\n[12.03.25, 10:01:00] Bob: Date: Monday\n"
    assert not mail.sniff(tmp_path / "chat.txt", whatsapp.encode())
    assert not mail.sniff(tmp_path / "notes.csv", b"From,Date,Subject\na@b.com,2025-03-03,hi\n")
    assert not mail.sniff(tmp_path / "result.json", b'{"name": "Chat", "messages": [{"from": "a"}]}')
    assert not mail.sniff(tmp_path / "notes.txt", b"Subject: meeting notes\nwe agreed on price\n")
    assert not mail.sniff(tmp_path, b"")


# ---------------------------------------------------------------- headers and plain text


def test_plain_message_fields(tmp_path: Path) -> None:
    message = make_message(
        "Hello Bob,\nplease confirm the delivery date.",
        to="Bob Rep <bob@ours.com>, carol@ours.com",
        Cc="Dan <dan@client.com>",
        References="<root@client.com> <m0@ours.com>",
        In_Reply_To="<m0@ours.com>",
    )
    item = parse_one(write_eml(tmp_path, message))
    assert item.channel is Channel.EMAIL
    assert item.source_kind == "email"
    assert item.occurred_at == datetime(2025, 3, 3, 9, 15, tzinfo=UTC)
    assert item.occurred_at.utcoffset() is not None
    assert item.author == Party("Anna Smith", ContactKind.EMAIL, "anna@client.com")
    assert item.recipients == [
        Party("Bob Rep", ContactKind.EMAIL, "bob@ours.com"),
        Party(None, ContactKind.EMAIL, "carol@ours.com"),
        Party("Dan", ContactKind.EMAIL, "dan@client.com"),
    ]
    assert item.subject == "Invoice 42"
    assert item.external_id == item.source_ref == "<m1@client.com>"
    assert item.thread_ref == "<root@client.com>"
    assert item.body == "Hello Bob,\nplease confirm the delivery date."
    assert item.quoted_text == item.signature == ""
    assert item.attachments == []
    assert item.language is None
    assert "html" not in item.meta and "defects" not in item.meta


def test_in_reply_to_is_thread_ref_without_references_and_path_is_source_ref_without_id(
    tmp_path: Path,
) -> None:
    path = write_eml(tmp_path, make_message(message_id=None, In_Reply_To="<parent@ours.com>"))
    item = parse_one(path)
    assert item.thread_ref == "<parent@ours.com>"
    assert item.external_id is None
    assert item.source_ref == f"{path}#message 1"


def test_naive_date_uses_source_timezone(tmp_path: Path) -> None:
    [item] = mail.parse(
        write_eml(tmp_path, make_message(date="Mon, 03 Mar 2025 10:15:00 -0000")), ZoneInfo("Europe/Warsaw")
    )
    assert item.occurred_at == datetime(2025, 3, 3, 10, 15, tzinfo=ZoneInfo("Europe/Warsaw"))


def test_rfc2047_subject_and_names_are_decoded(tmp_path: Path) -> None:
    message = make_message(
        subject="Счёт за март — zażółć",
        sender="Иван Петров <ivan@client.ru>",
        to="Łukasz Wójcik <lukasz@ours.pl>",
    )
    raw = bytes(message)
    assert b"=?utf-8?" in raw  # the generator really encoded the headers
    item = parse_one(write_eml(tmp_path, raw))
    assert item.subject == "Счёт за март — zażółć"
    assert item.author == Party("Иван Петров", ContactKind.EMAIL, "ivan@client.ru")
    assert item.recipients == [Party("Łukasz Wójcik", ContactKind.EMAIL, "lukasz@ours.pl")]


def test_encoded_word_in_koi8r_subject_and_comma_in_encoded_name(tmp_path: Path) -> None:
    subject = Header("Договор поставки", "koi8-r").encode()
    name = Header("Petrov, Ivan", "utf-8").encode()  # the comma must not split the address
    raw = (f"From: {name} <ivan@client.ru>\nTo: a@b.com\nSubject: {subject}\nDate: {DATE}\n\nhi\n").encode("ascii")
    item = parse_one(write_eml(tmp_path, raw))
    assert item.subject == "Договор поставки"
    assert item.author == Party("Petrov, Ivan", ContactKind.EMAIL, "ivan@client.ru")


def test_the_space_folded_after_an_encoded_word_is_kept(tmp_path: Path) -> None:
    # decode_header drops the folding white space between an encoded word and the plain word after it
    name = Header("Иван", "utf-8").encode()
    raw = f"From: {name}\n Petrov <ivan@client.ru>\nSubject: {name}\n report\nDate: {DATE}\n\nhi\n".encode()
    item = parse_one(write_eml(tmp_path, raw))
    assert item.author.name == "Иван Petrov" and item.subject == "Иван report"


@pytest.mark.parametrize(
    "value",
    [
        "Anna Smith <anna@client.com>",
        "anna@client.com",
        '"Smith, Anna" <a@b.com>',
        '"Anna Smith" <a@b.com>, bob@x.org, Carl <c@d.com>',
        "=?utf-8?b?0JjQstCw0L0=?= <ivan@x.ru>",
        "Anna O'Neil <a@b.com>",
        "<a@b.com>",
        "a@b.com (Anna)",
        "undisclosed-recipients:;",
    ],
)
def test_fast_address_split_agrees_with_getaddresses(value: str) -> None:
    assert mail.split_addresses(value) == getaddresses([value])


def test_unquoted_last_first_names_are_repaired(tmp_path: Path) -> None:
    message = make_message(to="bob@ours.com")
    del message["From"], message["To"]
    message["From"] = "Kowalski, Jan <jan@client.pl>"
    message["To"] = "Doe, John <john@ours.com>, Roe, Jane <jane@ours.com>"
    item = parse_one(write_eml(tmp_path, message))
    assert item.author == Party("Kowalski, Jan", ContactKind.EMAIL, "jan@client.pl")
    assert [party.name for party in item.recipients] == ["Doe, John", "Roe, Jane"]


def test_raw_8bit_utf8_headers_are_decoded(tmp_path: Path) -> None:
    raw = (
        f"From: Łukasz Wójcik <lukasz@client.pl>\nTo: Иван <ivan@ours.ru>\nSubject: Zamówienie №7\n"
        f"Date: {DATE}\n\nTreść.\n"
    ).encode()
    item = parse_one(write_eml(tmp_path, raw))
    assert item.subject == "Zamówienie №7"
    assert item.author == Party("Łukasz Wójcik", ContactKind.EMAIL, "lukasz@client.pl")
    assert item.recipients == [Party("Иван", ContactKind.EMAIL, "ivan@ours.ru")]
    assert item.body == "Treść."


# ---------------------------------------------------------------- charsets


@pytest.mark.parametrize(
    ("label", "codec", "text"),
    [
        ("iso-8859-2", "iso-8859-2", POLISH_TEXT),
        ("windows-1250", "cp1250", POLISH_TEXT),
        ("windows-1251", "cp1251", RUSSIAN_TEXT),
        ("koi8-r", "koi8-r", RUSSIAN_TEXT),
    ],
)
def test_declared_charsets_decode(tmp_path: Path, label: str, codec: str, text: str) -> None:
    raw = raw_message(text.encode(codec), f'text/plain; charset="{label}"')
    item = parse_one(write_eml(tmp_path, raw))
    assert item.body == text
    assert item.decode_issue is None


def test_charset_from_email_message_set_content(tmp_path: Path) -> None:
    message = make_message()
    message.set_content(RUSSIAN_TEXT, charset="koi8-r")
    assert b"koi8-r" in bytes(message)
    assert parse_one(write_eml(tmp_path, message)).body == RUSSIAN_TEXT


def test_wrong_declared_charset_falls_back_to_detection(tmp_path: Path) -> None:
    raw = raw_message(RUSSIAN_TEXT.encode("cp1251"), "text/plain; charset=us-ascii")
    item = parse_one(write_eml(tmp_path, raw))
    assert item.body == RUSSIAN_TEXT
    assert "us-ascii" in item.decode_issue


def test_utf8_body_declared_as_latin1_is_read_as_utf8(tmp_path: Path) -> None:
    raw = raw_message(POLISH_TEXT.encode("utf-8"), "text/plain; charset=iso-8859-1")
    item = parse_one(write_eml(tmp_path, raw))
    assert item.body == POLISH_TEXT
    assert "iso-8859-1" in item.decode_issue and "utf-8" in item.decode_issue


def test_undeclared_charset_is_detected(tmp_path: Path) -> None:
    raw = raw_message(RUSSIAN_TEXT.encode("cp1251"), "text/plain")
    item = parse_one(write_eml(tmp_path, raw))
    assert item.body == RUSSIAN_TEXT
    assert "1251" in item.decode_issue


def test_garbage_body_with_declared_charset_is_quarantined_with_raw_bytes(tmp_path: Path) -> None:
    garbage = random.Random(7).randbytes(3000)
    bad = raw_message(garbage, "text/plain; charset=utf-8")
    good = bytes(make_message("Fine message."))
    path = write_mbox(tmp_path, [bad, good])
    quarantined, item = parse_all(path)
    assert isinstance(quarantined, Quarantined)
    assert quarantined.item_ref == "message 1"
    assert quarantined.source_path == str(path)
    assert "body" in quarantined.reason and "utf-8" in quarantined.reason
    assert quarantined.raw is not None and garbage[:200] in quarantined.raw
    assert isinstance(item, ParsedInteraction) and item.body == "Fine message."


# ---------------------------------------------------------------- HTML, alternatives, attachments


def test_html_only_body_becomes_clean_text(tmp_path: Path) -> None:
    html = (
        "<html><head><title>T</title><style>p {color: red}</style></head><body>"
        "<script>alert('x')</script><p>Hello <b>Bob</b>,</p>\n<p>the   order\n is ready.</p>"
        "<div>Line one<br>Line two</div></body></html>"
    )
    message = make_message()
    message.set_content(html, subtype="html")
    item = parse_one(write_eml(tmp_path, message))
    assert item.body == "Hello Bob,\nthe order is ready.\nLine one\nLine two"
    assert item.meta["html"] is True


def test_multipart_alternative_prefers_plain_text(tmp_path: Path) -> None:
    message = make_message("Plain version.")
    message.add_alternative("<p>HTML version.</p>", subtype="html")
    item = parse_one(write_eml(tmp_path, message))
    assert item.body == "Plain version."
    assert "html" not in item.meta


def test_attachments_are_named_not_imported(tmp_path: Path) -> None:
    message = make_message("See the files.")
    pdf = b"%PDF-1.4 secret numbers"
    message.add_attachment(pdf, maintype="application", subtype="pdf", filename="Счёт №5 za luty.pdf")
    message.add_attachment("attached text body", filename="notatka.txt")
    raw = bytes(message)
    assert b"filename*=" in raw  # RFC 2231 encoding of the non-ASCII name
    item = parse_one(write_eml(tmp_path, raw))
    assert item.attachments == ["Счёт №5 za luty.pdf", "notatka.txt"]
    assert item.body == "See the files."
    assert "secret" not in item.body and "attached text body" not in item.body


def test_rfc2047_encoded_attachment_name(tmp_path: Path) -> None:
    encoded = Header("Umowa żółta.docx", "utf-8").encode()
    raw = raw_message(
        b"--b\nContent-Type: text/plain\n\nsee attachment\n--b\n"
        b"Content-Type: application/octet-stream\n"
        b'Content-Disposition: attachment; filename="' + encoded.encode() + b'"\n\nxx\n--b--\n',
        'multipart/mixed; boundary="b"',
    )
    item = parse_one(write_eml(tmp_path, raw))
    assert item.attachments == ["Umowa żółta.docx"]
    assert item.body == "see attachment"


def test_message_with_only_an_attachment_is_imported(tmp_path: Path) -> None:
    message = make_message()
    message.clear_content()
    message.add_attachment(b"data", maintype="application", subtype="pdf", filename="a.pdf")
    item = parse_one(write_eml(tmp_path, message))
    assert item.body == ""
    assert item.attachments == ["a.pdf"]


# ---------------------------------------------------------------- quotes and signatures

REPLIES = {
    "en": (
        "Hi John,\n\nThe invoice is fine, we pay on Monday.\n\nBest regards,\nAnna Smith\n"
        "Sales Manager\n+1 555 123 4567\n\n"
        "On Mon, 3 Mar 2025 at 10:00, John Doe <john@ours.com> wrote:\n"
        "> Please check the invoice.\n> Thanks\n",
        "Hi John,\n\nThe invoice is fine, we pay on Monday.",
        "Best regards,\nAnna Smith\nSales Manager\n+1 555 123 4567",
        "Please check the invoice.",
    ),
    "pl": (
        "Dzień dobry,\n\nfaktura jest w porządku.\n\nPozdrawiam,\nJan Kowalski\ntel. 500 600 700\n\n"
        "W dniu 3.03.2025 o 10:00, Anna Nowak <anna@ours.pl> pisze:\n> Proszę sprawdzić fakturę.\n",
        "Dzień dobry,\n\nfaktura jest w porządku.",
        "Pozdrawiam,\nJan Kowalski\ntel. 500 600 700",
        "Proszę sprawdzić fakturę.",
    ),
    "pl-gmail": (
        "Zgoda.\n\nZ poważaniem,\nAnna\n\n"
        "W dniu pon., 3 mar 2025 o 10:00 Jan Kowalski <jan@ours.pl> napisał(a):\n\n> Czy cena jest OK?\n",
        "Zgoda.",
        "Z poważaniem,\nAnna",
        "Czy cena jest OK?",
    ),
    "en-wrapped-attribution": (
        "Yes, confirmed.\n\nOn Mon, 3 Mar 2025 at 10:00, John Doe from the warehouse team <\n"
        "john@ours.com> wrote:\n> Is the order confirmed?\n",
        "Yes, confirmed.",
        "",
        "Is the order confirmed?",
    ),
    "ru": (
        "Добрый день,\n\nсчёт получили, оплатим в понедельник.\n\nС уважением,\nИван Петров\n"
        "+7 900 123 45 67\n\n3 марта 2025 г., 10:00 пользователь Анна <anna@ours.ru> написал:\n"
        "> Пожалуйста, проверьте счёт.\n",
        "Добрый день,\n\nсчёт получили, оплатим в понедельник.",
        "С уважением,\nИван Петров\n+7 900 123 45 67",
        "Пожалуйста, проверьте счёт.",
    ),
    "ru-gmail": (
        "Документы во вложении.\n\nСпасибо!\nОльга\nменеджер\n\n"
        "пн, 3 мар. 2025 г. в 10:00, Анна <anna@ours.ru>:\n> Нужны документы.\n",
        "Документы во вложении.",
        "Спасибо!\nОльга\nменеджер",
        "Нужны документы.",
    ),
    "outlook-en": (
        "Thanks, will do.\n\nKind regards,\nBob\n\n-----Original Message-----\n"
        "From: Alice <alice@client.com>\nSent: Monday, March 3, 2025 10:00 AM\nTo: Bob\n"
        "Subject: report\n\nCan you send the report?\n",
        "Thanks, will do.",
        "Kind regards,\nBob",
        "Can you send the report?",
    ),
    "outlook-pl": (
        "Wyślę jutro.\n\nZ poważaniem\nPiotr Zieliński\n\n________________________________\n"
        "Od: Anna <anna@client.pl>\nWysłano: poniedziałek, 3 marca 2025 10:00\nDo: Piotr\n"
        "Temat: raport\n\nProszę o raport.\n",
        "Wyślę jutro.",
        "Z poważaniem\nPiotr Zieliński",
        "Proszę o raport.",
    ),
    "outlook-ru": (
        "Договор подписан.\n\nС уважением,\nСергей\n\nОт: Анна <anna@client.ru>\n"
        "Отправлено: 3 марта 2025 г. 10:00\nКому: Сергей\nТема: договор\n\nКогда подпишете договор?\n",
        "Договор подписан.",
        "С уважением,\nСергей",
        "Когда подпишете договор?",
    ),
    "de": (
        "Hallo Tomasz,\n\nwir bestätigen die Bestellung.\n\nViele Grüße\nJulia Schröder\natlas-logistik.de\n\n"
        "Am 31.01.2026 um 15:15 schrieb Emily Carter:\n> Bitte bestätigen Sie die Bestellung.\n",
        "Hallo Tomasz,\n\nwir bestätigen die Bestellung.",
        "Viele Grüße\nJulia Schröder\natlas-logistik.de",
        "Bitte bestätigen Sie die Bestellung.",
    ),
    "mobile-signature": (
        "Sure, see you at 10.\n\nSent from my iPhone\n",
        "Sure, see you at 10.",
        "Sent from my iPhone",
        "",
    ),
    "bottom-posted-with-dash-signature": (
        "On Mon, 3 Mar 2025, John <john@ours.com> wrote:\n> Can you ship on Friday?\n\n"
        "Yes, Friday works.\n\n-- \nMark Lee\nACME Ltd\n",
        "Yes, Friday works.",
        "Mark Lee\nACME Ltd",
        "Can you ship on Friday?",
    ),
}


@pytest.mark.parametrize("case", REPLIES)
def test_quoted_reply_and_signature_are_separated(tmp_path: Path, case: str) -> None:
    text, body, signature, quoted_sentence = REPLIES[case]
    item = parse_one(write_eml(tmp_path, make_message(text)))
    assert item.body == body
    assert item.signature == signature
    if quoted_sentence:
        assert quoted_sentence in item.quoted_text
        assert quoted_sentence not in item.body
    else:
        assert item.quoted_text == ""
    assert not signature or signature not in item.body


def test_html_reply_quote_is_separated(tmp_path: Path) -> None:
    html = (
        '<div dir="ltr">Agreed, send the contract.</div><br><div class="gmail_quote">'
        '<div class="gmail_attr">On Mon, 3 Mar 2025 at 10:00, John &lt;<a href="mailto:j@ours.com">'
        "j@ours.com</a>&gt; wrote:<br></div><blockquote>Shall I send the contract?</blockquote></div>"
    )
    message = make_message()
    message.set_content(html, subtype="html")
    item = parse_one(write_eml(tmp_path, message))
    assert item.body == "Agreed, send the contract."
    assert "Shall I send the contract?" in item.quoted_text


def test_blank_plain_alternative_falls_back_to_html(tmp_path: Path) -> None:
    message = make_message(" \n")
    message.add_alternative("<p>Only the HTML has text.</p>", subtype="html")
    item = parse_one(write_eml(tmp_path, message))
    assert item.body == "Only the HTML has text."
    assert item.meta["html"] is True


def test_thanks_alone_stays_in_body(tmp_path: Path) -> None:
    item = parse_one(write_eml(tmp_path, make_message("Thanks!\n")))
    assert item.body == "Thanks!"
    assert item.signature == ""


def test_long_text_after_a_thanks_line_is_not_a_signature(tmp_path: Path) -> None:
    text = "Hi,\nThanks\n" + "We need a long explanation of the delivery terms here. " * 3
    item = parse_one(write_eml(tmp_path, make_message(text)))
    assert item.signature == ""
    assert "delivery terms" in item.body


# ---------------------------------------------------------------- mbox and maildir


def test_mbox_with_several_messages(tmp_path: Path) -> None:
    messages = [
        bytes(make_message(f"Message number {n}.", subject=f"S{n}", message_id=f"<m{n}@c.com>")) for n in range(1, 4)
    ]
    results = parse_all(write_mbox(tmp_path, messages))
    assert [item.subject for item in results] == ["S1", "S2", "S3"]
    assert [item.body for item in results] == [f"Message number {n}." for n in range(1, 4)]
    assert [item.source_ref for item in results] == ["<m1@c.com>", "<m2@c.com>", "<m3@c.com>"]


def test_mbox_from_line_date_when_date_header_missing(tmp_path: Path) -> None:
    messages = [bytes(make_message(date=None)), bytes(make_message(date="not a date"))]
    path = write_mbox(tmp_path, messages, ["Tue Mar  4 08:30:00 2025", "Wed Mar  5 09:00:00 2025"])
    first, second = parse_all(path)
    assert first.occurred_at == datetime(2025, 3, 4, 8, 30, tzinfo=UTC)
    assert second.occurred_at == datetime(2025, 3, 5, 9, 0, tzinfo=UTC)
    assert first.meta["date_source"] == second.meta["date_source"] == "mbox From line"


def test_mbox_message_ids_missing_use_path_and_index(tmp_path: Path) -> None:
    path = write_mbox(tmp_path, [bytes(make_message(message_id=None))] * 2)
    assert [item.source_ref for item in parse_all(path)] == [f"{path}#message 1", f"{path}#message 2"]


def test_mbox_without_extension_is_read_as_mbox(tmp_path: Path) -> None:
    path = write_mbox(tmp_path, [bytes(make_message(subject="A")), bytes(make_message(subject="B"))])
    renamed = path.rename(tmp_path / "export")
    assert [item.subject for item in parse_all(renamed)] == ["A", "B"]


def test_maildir(tmp_path: Path) -> None:
    box = mailbox.Maildir(tmp_path / "Maildir", create=True)
    box.add(bytes(make_message("First.", subject="One", message_id="<one@c.com>")))
    key = box.add(bytes(make_message("Second.", subject="Two", date=None, message_id="<two@c.com>")))
    box.close()
    path = tmp_path / "Maildir"
    assert mail.sniff(path, b"")
    results = {item.subject: item for item in parse_all(path)}
    assert results["One"].body == "First."
    undated = results["Two"]
    assert undated.meta["date_source"] == "maildir file time"
    file_time = (path / "new" / key).stat().st_mtime
    assert undated.occurred_at == datetime.fromtimestamp(file_time, UTC)


# ---------------------------------------------------------------- bad input


def test_empty_file_is_quarantined_whole(tmp_path: Path) -> None:
    path = write_eml(tmp_path, b"")
    assert quarantined_one(path) == Quarantined(source_path=str(path), reason="empty file")


def test_binary_garbage_is_quarantined_whole(tmp_path: Path) -> None:
    path = write_eml(tmp_path, random.Random(1).randbytes(5000), name="garbage.eml")
    quarantined = quarantined_one(path)
    assert quarantined.item_ref is None and quarantined.raw is None
    assert "not an e-mail message" in quarantined.reason


def test_truncated_multipart_is_quarantined_and_next_message_parsed(tmp_path: Path) -> None:
    message = make_message("Body text.")
    message.add_attachment(b"x" * 3000, maintype="application", subtype="pdf", filename="big.pdf")
    truncated = bytes(message)[: len(bytes(message)) // 2]
    path = write_mbox(tmp_path, [truncated, bytes(make_message("Next one."))])
    quarantined, item = parse_all(path)
    assert isinstance(quarantined, Quarantined)
    assert quarantined.reason == "truncated MIME message: closing boundary not found"
    assert quarantined.item_ref == "message 1"
    assert quarantined.raw is not None and quarantined.raw.rstrip(b"\n") == truncated.rstrip(b"\n")
    assert isinstance(item, ParsedInteraction) and item.body == "Next one."


def test_garbage_message_inside_mbox_is_quarantined_alone(tmp_path: Path) -> None:
    garbage = random.Random(3).randbytes(2000).replace(b"\nFrom ", b"\nxxxx ")
    path = write_mbox(tmp_path, [bytes(make_message("First.")), garbage, bytes(make_message("Third."))])
    first, quarantined, third = parse_all(path)
    assert isinstance(quarantined, Quarantined)
    assert quarantined.item_ref == "message 2"
    assert quarantined.raw is not None and garbage[:100] in quarantined.raw
    assert (first.body, third.body) == ("First.", "Third.")


def test_unexpected_error_in_one_message_is_quarantined(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real_conversion = mail.message_to_interaction

    def failing_on_second(message: Message, origin: mail.MessageOrigin) -> ParsedInteraction:
        if origin.index == 2:
            raise RuntimeError("boom")
        return real_conversion(message, origin)

    monkeypatch.setattr(mail, "message_to_interaction", failing_on_second)
    path = write_mbox(tmp_path, [bytes(make_message("One.")), bytes(make_message("Two."))])
    first, second = parse_all(path)
    assert isinstance(first, ParsedInteraction)
    assert isinstance(second, Quarantined)
    assert second.reason == "message failed to parse: RuntimeError: boom"
    assert second.item_ref == "message 2" and b"Two." in (second.raw or b"")


def test_multipart_without_any_boundary_is_quarantined(tmp_path: Path) -> None:
    raw = raw_message(b"no parts here at all\n", 'multipart/mixed; boundary="zzz"')
    assert "start boundary not found" in quarantined_one(write_eml(tmp_path, raw)).reason


def test_message_without_body_or_attachments_is_quarantined(tmp_path: Path) -> None:
    path = write_eml(tmp_path, make_message("   \n"))
    assert quarantined_one(path).reason == "message has no body text and no attachments"


def test_eml_without_usable_date_is_quarantined(tmp_path: Path) -> None:
    path = write_eml(tmp_path, make_message(date="someday soon"))
    assert "no usable date" in quarantined_one(path).reason


def test_minor_defect_is_imported_and_listed(tmp_path: Path) -> None:
    raw = f"From: a@client.com\nDate: {DATE}\nSubject: hi\nthis header line is broken\nBody.\n".encode()
    item = parse_one(write_eml(tmp_path, raw))
    assert "Body." in item.body
    assert item.meta["defects"] == ["MissingHeaderBodySeparatorDefect"]


def test_unreadable_path_is_quarantined(tmp_path: Path) -> None:
    quarantined = quarantined_one(tmp_path / "missing.eml")
    assert quarantined.item_ref is None and "cannot read" in quarantined.reason


# ---------------------------------------------------------------- bulk mail


@pytest.mark.parametrize(
    "headers",
    [
        {"List_Id": "Vendor news <news.vendor.example>"},
        {"List_Unsubscribe": "<mailto:leave@vendor.example>"},
        {"Precedence": "bulk"},
        {"Precedence": " List "},
        {"Precedence": "junk"},
    ],
)
def test_mailing_list_headers_mark_bulk_mail(tmp_path: Path, headers: dict[str, str]) -> None:
    assert parse_one(write_eml(tmp_path, make_message(**headers))).bulk


def test_personal_mail_is_not_bulk(tmp_path: Path) -> None:
    assert not parse_one(write_eml(tmp_path, make_message(Precedence="first-class"))).bulk


def test_mailing_list_message_adds_no_contacts_for_its_recipients(database_url: str, tmp_path: Path) -> None:
    message = make_message(
        sender="Vendor News <news@vendor.example>",
        to="ivan@alpha-group.ru, olga@beta.example",
        List_Id="<news.vendor.example>",
    )
    assert import_paths([write_eml(tmp_path, message)]).imported == 1
    with session_scope(database_url) as session:
        emails = session.scalars(select(Contact.value).where(Contact.kind == ContactKind.EMAIL)).all()
        participants = session.scalar(select(Interaction.participants))
    assert emails == ["news@vendor.example"]
    assert [party["value"] for party in participants] == [
        "news@vendor.example",
        "ivan@alpha-group.ru",
        "olga@beta.example",
    ]


def test_mail_to_20000_recipients_adds_only_its_sender_as_contact(database_url: str, tmp_path: Path) -> None:
    recipients = [f"person{number}@company{number % 997}.example" for number in range(20_000)]
    to_header = ",\n ".join(recipients)
    raw = (
        f"From: Ivan <ivan@alpha-group.ru>\nTo: {to_header}\nSubject: Offer\n"
        f"Date: {DATE}\nMessage-ID: <offer@alpha-group.ru>\n\nOur new offer.\n"
    ).encode("ascii")
    started = time.monotonic()
    report = import_paths([write_mbox(tmp_path, [raw])])
    elapsed = time.monotonic() - started
    assert report.imported == 1
    with session_scope(database_url) as session:
        emails = session.scalars(select(Contact.value).where(Contact.kind == ContactKind.EMAIL)).all()
        contact_count = session.scalar(select(func.count()).select_from(Contact))
        participants = session.scalar(select(Interaction.participants))
    assert emails == ["ivan@alpha-group.ru"] and contact_count <= 2  # the sender and its company domain
    assert len(participants) == 20_001 and participants[-1]["value"] == recipients[-1]
    assert elapsed < 30, f"import took {elapsed:.1f} s"


# ---------------------------------------------------------------- real threads


def bc3_threads() -> list[dict]:
    if not BC3_THREADS.exists():
        pytest.skip(f"{BC3_THREADS} not present")
    with BC3_THREADS.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle]


def bc3_email_date(received: str) -> datetime:
    return datetime.strptime(received, "%a %b %d %H:%M:%S %z %Y")


def test_bc3_threads_parse_with_author_date_and_subject(tmp_path: Path) -> None:
    expected = []
    box = mailbox.mbox(tmp_path / "bc3.mbox")
    for thread in bc3_threads():
        for number, mail_record in enumerate(thread["emails"]):
            message = EmailMessage()
            message["From"] = mail_record["from"]
            message["To"] = mail_record["to"]
            message["Subject"] = mail_record["subject"]
            message["Date"] = format_datetime(bc3_email_date(mail_record["received"]))
            message["Message-ID"] = f"<{thread['id']}.{number}@bc3>"
            message.set_content(mail_record["body"])
            box.add(bytes(message))
            expected.append(mail_record)
    box.close()
    results = parse_all(tmp_path / "bc3.mbox")
    assert len(results) == len(expected) > 0
    for item, mail_record in zip(results, expected, strict=True):
        assert isinstance(item, ParsedInteraction), item
        name, _, address = mail_record["from"].rpartition("<")
        assert item.author.value == address.rstrip(">").strip()
        display_name = name.strip().strip('"') or None
        if display_name is None or "@" not in display_name:  # "a@b.com <a@b.com>" has no real name
            assert item.author.name == display_name
        assert item.occurred_at == bc3_email_date(mail_record["received"])
        assert item.subject == " ".join(mail_record["subject"].split())
        assert item.body or item.quoted_text  # bc3 bodies are flattened: a leading ">" quotes all
