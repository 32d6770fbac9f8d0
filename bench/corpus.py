"""A large, varied e-mail corpus for the import benchmark, written as mbox files, fast.

Messages are assembled as raw RFC 822 text from templates (building 100k ``EmailMessage`` objects
would take minutes): plain text, multipart/alternative and HTML-only bodies, quoted replies with
attribution lines and signatures, Russian/Polish/German/English text, legacy charsets (windows-1251,
koi8-r, iso-8859-2) in 8bit, quoted-printable and base64, one domain per client and our agents at
``northwind-sales.example``. Every message has a unique Message-ID, so an import must store all of
them and a second import must find only duplicates. Deterministic for a seed.
"""

from __future__ import annotations

import base64
import binascii
import html
import random
import re
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from email.utils import format_datetime
from pathlib import Path

OUR_DOMAIN = "northwind-sales.example"
START = datetime(2025, 9, 1, tzinfo=UTC)
SPAN_SECONDS = int(timedelta(days=440).total_seconds())  # ~14 months, ending 2026-11
MESSAGES_PER_FILE = 2_000

FIRST = {
    "en": ["Emily", "James", "Oliver", "Sophie", "Harry", "Grace", "Jack", "Chloe", "Thomas", "Amelia"],
    "ru": ["Иван", "Ольга", "Дмитрий", "Анна", "Сергей", "Мария", "Алексей", "Елена", "Павел", "Наталья"],
    "pl": ["Katarzyna", "Tomasz", "Agnieszka", "Piotr", "Małgorzata", "Paweł", "Joanna", "Łukasz"],
    "de": ["Jan", "Sabine", "Jürgen", "Anna", "Stefan", "Katrin", "Matthias", "Julia"],
}
LAST = {
    "en": ["Clarke", "Baker", "Wright", "Hughes", "Turner", "Walsh", "Carter", "Morgan", "Price"],
    "ru": ["Петров", "Смирнова", "Кузнецов", "Орлова", "Волков", "Соколова", "Попов", "Лебедева"],
    "pl": ["Wiśniewska", "Zieliński", "Kowalczyk", "Nowak", "Wójcik", "Kamińska", "Lewandowski"],
    "de": ["Hoffmann", "Schäfer", "Müller", "Weber", "Becker", "Schröder", "Krüger", "Wolf"],
}
TRANSLIT = str.maketrans(
    {
        "а": "a",
        "б": "b",
        "в": "v",
        "г": "g",
        "д": "d",
        "е": "e",
        "ё": "e",
        "ж": "zh",
        "з": "z",
        "и": "i",
        "й": "y",
        "к": "k",
        "л": "l",
        "м": "m",
        "н": "n",
        "о": "o",
        "п": "p",
        "р": "r",
        "с": "s",
        "т": "t",
        "у": "u",
        "ф": "f",
        "х": "h",
        "ц": "ts",
        "ч": "ch",
        "ш": "sh",
        "щ": "sch",
        "ы": "y",
        "э": "e",
        "ю": "yu",
        "я": "ya",
        "ь": "",
        "ъ": "",
        "ą": "a",
        "ć": "c",
        "ę": "e",
        "ł": "l",
        "ń": "n",
        "ó": "o",
        "ś": "s",
        "ź": "z",
        "ż": "z",
        "ä": "ae",
        "ö": "oe",
        "ü": "ue",
        "ß": "ss",
    }
)
STEMS = [
    "alfa",
    "kordex",
    "baltic",
    "nord",
    "vega",
    "polar",
    "orion",
    "delta",
    "lumen",
    "terra",
    "astra",
    "rivne",
    "kama",
    "wisla",
    "harbor",
    "finch",
    "atlas",
    "sigma",
    "ural",
    "oder",
]
SUFFIXES = {
    "en": ["logistics", "foods", "retail", "supply"],
    "ru": ["grupp", "torg", "trans", "snab"],
    "pl": ["logistyka", "handel", "trans", "serwis"],
    "de": ["logistik", "handel", "technik"],
}
TLD = {"en": ".co.uk", "ru": ".ru", "pl": ".pl", "de": ".de"}
LANG_WEIGHTS = (("en", 40), ("ru", 25), ("pl", 25), ("de", 10))
CHARSETS = {
    "ru": ("utf-8", "utf-8", "windows-1251", "koi8-r"),
    "pl": ("utf-8", "utf-8", "iso-8859-2"),
    "en": ("utf-8", "us-ascii"),
    "de": ("utf-8", "iso-8859-1"),
}
PRODUCTS = ["NW-300 scanners", "LP-40 printers", "Care+ support", "RF-12 tags", "DockHub stations"]

GREETING = {"en": "Hi {name},", "ru": "Добрый день, {name}!", "pl": "Dzień dobry, {name},", "de": "Hallo {name},"}
SIGNOFF = {"en": "Best regards,", "ru": "С уважением,", "pl": "Pozdrawiam,", "de": "Viele Grüße"}
SUBJECTS = {
    "en": [
        "Quote for {product}",
        "Order {order}",
        "Delivery schedule",
        "Invoice {order}",
        "Question about {product}",
        "Meeting next week",
    ],
    "ru": [
        "КП на {product}",
        "Заказ {order}",
        "График поставки",
        "Счёт {order}",
        "Вопрос по {product}",
        "Встреча на следующей неделе",
    ],
    "pl": [
        "Oferta na {product}",
        "Zamówienie {order}",
        "Harmonogram dostaw",
        "Faktura {order}",
        "Pytanie o {product}",
        "Spotkanie w przyszłym tygodniu",
    ],
    "de": [
        "Angebot für {product}",
        "Bestellung {order}",
        "Lieferplan",
        "Rechnung {order}",
        "Frage zu {product}",
        "Termin nächste Woche",
    ],
}
SENTENCES = {
    "en": [
        "Please send the updated quote for {qty} {product}.",
        "The total is {amount} {currency} including delivery.",
        "We will confirm the order by {date}.",
        "Delivery to the warehouse is planned for {date}.",
        "Could you check why order {order} is delayed?",
        "Thanks, that works for us.",
        "Our finance team needs the invoice for order {order}.",
        "Let's have a short call on Tuesday to discuss the discount.",
    ],
    "ru": [
        "Пришлите, пожалуйста, обновлённое КП на {qty} шт. {product}.",
        "Итого {amount} {currency} с доставкой.",
        "Подтвердим заказ до {date}.",
        "Поставка на склад запланирована на {date}.",
        "Проверьте, пожалуйста, почему задерживается заказ {order}.",
        "Спасибо, нас устраивает.",
        "Бухгалтерии нужен счёт по заказу {order}.",
        "Давайте созвонимся во вторник и обсудим скидку.",
    ],
    "pl": [
        "Proszę o aktualną ofertę na {qty} szt. {product}.",
        "Razem {amount} {currency} z dostawą.",
        "Potwierdzimy zamówienie do {date}.",
        "Dostawa do magazynu planowana jest na {date}.",
        "Proszę sprawdzić, dlaczego zamówienie {order} jest opóźnione.",
        "Dziękuję, to nam odpowiada.",
        "Księgowość potrzebuje faktury do zamówienia {order}.",
        "Umówmy się na krótką rozmowę we wtorek w sprawie rabatu.",
    ],
    "de": [
        "Bitte senden Sie uns ein aktualisiertes Angebot für {qty} {product}.",
        "Gesamt {amount} {currency} inklusive Lieferung.",
        "Wir bestätigen die Bestellung bis {date}.",
        "Die Lieferung ins Lager ist für {date} geplant.",
        "Können Sie prüfen, warum Bestellung {order} verspätet ist?",
        "Danke, das passt für uns.",
        "Unsere Buchhaltung braucht die Rechnung zu {order}.",
        "Lassen Sie uns am Dienstag kurz wegen des Rabatts telefonieren.",
    ],
}
UTC_OFFSET = {"en": 0, "ru": 3, "pl": 1, "de": 2}
CURRENCY = {"en": "GBP", "ru": "RUB", "pl": "PLN", "de": "EUR"}
ATTRIBUTION = {
    "en": "On {when}, {name} <{addr}> wrote:",
    "ru": "{when}, {name} <{addr}> написал(а):",
    "pl": "W dniu {when}, {name} <{addr}> pisze:",
    "de": "Am {when} schrieb {name} <{addr}>:",
}
REPLY = {"en": "Re: ", "ru": "Re: ", "pl": "Odp: ", "de": "AW: "}
MBOX_FROM_LINE = re.compile(rb"^From ", re.MULTILINE)


@dataclass(frozen=True, slots=True)
class Person:
    name: str
    email: str


@dataclass(frozen=True, slots=True)
class CorpusClient:
    domain: str
    language: str
    contacts: tuple[Person, ...]


def make_agents(rng: random.Random, count: int = 40) -> list[Person]:
    agents = []
    for number in range(count):
        first, last = rng.choice(FIRST["en"] + FIRST["pl"]), rng.choice(LAST["en"] + LAST["pl"])
        login = f"{first}.{last}{number}".lower().translate(TRANSLIT)
        agents.append(Person(f"{first} {last}", f"{login}@{OUR_DOMAIN}"))
    return agents


def make_clients(rng: random.Random, count: int) -> list[CorpusClient]:
    languages = [lang for lang, weight in LANG_WEIGHTS for _ in range(weight)]
    clients = []
    for number in range(count):
        lang = rng.choice(languages)
        domain = f"{rng.choice(STEMS)}-{rng.choice(SUFFIXES[lang])}{number}{TLD[lang]}"
        contacts = []
        for _ in range(rng.randint(1, 4)):
            first, last = rng.choice(FIRST[lang]), rng.choice(LAST[lang])
            local = f"{first[0]}.{last}".lower().translate(TRANSLIT)
            contacts.append(Person(f"{first} {last}", f"{local}@{domain}"))
        clients.append(CorpusClient(domain, lang, tuple(contacts)))
    return clients


def encoded_word(text: str) -> str:
    if text.isascii():
        return text
    return "=?utf-8?b?" + base64.b64encode(text.encode("utf-8")).decode("ascii") + "?="


def mailbox_address(person: Person) -> str:
    return f"{encoded_word(person.name)} <{person.email}>"


@dataclass(slots=True)
class ThreadState:
    subject: str
    message_ids: list[str]
    last_text: str
    last_author: Person
    last_when: datetime


class CorpusWriter:
    """Renders the messages of one mbox file; all state derives from (seed, file number)."""

    def __init__(self, seed: int, file_number: int, clients: list[CorpusClient], agents: list[Person]):
        self.rng = random.Random(f"{seed}:{file_number}")
        self.file_number = file_number
        self.clients = clients
        self.agents = agents
        self.threads: dict[str, ThreadState] = {}

    def fill(self, template: str, lang: str) -> str:
        rng = self.rng
        return template.format(
            product=rng.choice(PRODUCTS),
            qty=rng.randint(2, 400),
            order=f"NW-{rng.randint(1000, 99999)}",
            amount=f"{rng.randint(300, 900_000):,}".replace(",", " "),
            currency=CURRENCY[lang],
            date=f"{rng.randint(1, 28):02d}.{rng.randint(1, 12):02d}.2026",
        )

    def own_text(self, lang: str, to: Person, author: Person) -> str:
        sentences = [self.fill(template, lang) for template in self.rng.sample(SENTENCES[lang], self.rng.randint(1, 4))]
        greeting = GREETING[lang].format(name=to.name.split()[0])
        sig = (
            f"-- \n{author.name}\nNorthwind Sales\n+48 22 555 {self.rng.randint(1000, 9999)}"
            if author.email.endswith(OUR_DOMAIN)
            else f"{SIGNOFF[lang]}\n{author.name}\n{author.email.split('@')[1]}"
        )
        return f"{greeting}\n\n{' '.join(sentences)}\n\n{sig}"

    def message(self, number: int) -> tuple[bytes, str, datetime]:
        """One raw message, its envelope sender and its date."""
        rng = self.rng
        client = self.clients[int(len(self.clients) * rng.random() ** 1.6)]  # some clients are busy
        lang = client.language
        contact, agent = rng.choice(client.contacts), rng.choice(self.agents)
        inbound = rng.random() < 0.55
        author, to = (contact, agent) if inbound else (agent, contact)
        thread = self.threads.get(client.domain) if rng.random() < 0.5 else None
        zone = timezone(timedelta(hours=UTC_OFFSET[lang]))
        when = (START + timedelta(seconds=rng.randrange(SPAN_SECONDS))).astimezone(zone)
        if thread is not None and thread.last_when < when:
            subject = thread.subject if thread.subject.startswith(REPLY[lang]) else REPLY[lang] + thread.subject
        else:
            thread = None
            subject = self.fill(rng.choice(SUBJECTS[lang]), lang)
        text = self.own_text(lang, to, author)
        body = text if thread is None else f"{text}\n\n{self.quote(thread, lang)}"
        message_id = f"<{self.file_number:03d}.{number:06d}.{rng.getrandbits(32):08x}@{author.email.split('@')[1]}>"
        headers = [
            f"From: {mailbox_address(author)}",
            f"To: {mailbox_address(to)}",
            f"Subject: {encoded_word(subject)}",
            f"Date: {format_datetime(when)}",
            f"Message-ID: {message_id}",
            "MIME-Version: 1.0",
        ]
        if thread is not None:
            headers.append(f"In-Reply-To: {thread.message_ids[-1]}")
            headers.append(f"References: {' '.join(thread.message_ids[-5:])}")
        raw = "\n".join(headers).encode("ascii") + b"\n" + self.render_body(body, lang)
        ids = (thread.message_ids if thread else []) + [message_id]
        self.threads[client.domain] = ThreadState(subject, ids, text, author, when)
        return raw, author.email, when

    def quote(self, thread: ThreadState, lang: str) -> str:
        stamp = thread.last_when.strftime("%d.%m.%Y %H:%M")
        header = ATTRIBUTION[lang].format(when=stamp, name=thread.last_author.name, addr=thread.last_author.email)
        return header + "\n" + "\n".join(f"> {line}" if line else ">" for line in thread.last_text.split("\n"))

    def render_body(self, body: str, lang: str) -> bytes:
        """Content headers and body: plain (various charsets/encodings), alternative or HTML-only."""
        roll = self.rng.random()
        if roll < 0.15:
            return self.alternative(body)
        if roll < 0.20:
            return text_part("html", to_html(body), "utf-8", "quoted-printable")
        charset = self.rng.choice(CHARSETS[lang])
        if not encodable(body, charset):  # a Polish agent's name in a koi8-r mail
            charset = "utf-8"
        cte = "8bit" if charset != "us-ascii" else "7bit"
        if charset != "us-ascii" and self.rng.random() < 0.4:
            cte = self.rng.choice(("quoted-printable", "base64"))
        return text_part("plain", body, charset, cte)

    def alternative(self, body: str) -> bytes:
        boundary = f"----=_Alt_{self.rng.getrandbits(48):012x}"
        plain = text_part("plain", body, "utf-8", "quoted-printable")
        rich = text_part("html", to_html(body), "utf-8", "quoted-printable")
        return (
            (f'Content-Type: multipart/alternative; boundary="{boundary}"\n\n--{boundary}\n').encode()
            + plain
            + f"\n--{boundary}\n".encode()
            + rich
            + f"\n--{boundary}--\n".encode()
        )

    def write_file(self, path: Path, count: int) -> Path:
        chunks = []
        for number in range(count):
            raw, sender, when = self.message(number)
            chunks.append(f"From {sender} {when:%a %b %d %H:%M:%S %Y}\n".encode("ascii"))
            chunks.append(MBOX_FROM_LINE.sub(b">From ", raw))
            chunks.append(b"\n")
        path.write_bytes(b"".join(chunks))
        return path


def encodable(text: str, charset: str) -> bool:
    try:
        text.encode(charset)
    except UnicodeEncodeError:
        return False
    return True


def text_part(subtype: str, text: str, charset: str, cte: str) -> bytes:
    data = text.encode(charset)
    if cte == "quoted-printable":
        payload = binascii.b2a_qp(data)
    elif cte == "base64":
        payload = base64.encodebytes(data)
    else:
        payload = data
    if not payload.endswith(b"\n"):
        payload += b"\n"
    head = (f'Content-Type: text/{subtype}; charset="{charset}"\nContent-Transfer-Encoding: {cte}\n\n').encode("ascii")
    return head + payload


def to_html(body: str) -> str:
    paragraphs = "".join(f"<p>{html.escape(chunk).replace(chr(10), '<br>')}</p>" for chunk in body.split("\n\n"))
    return f"<html><body>{paragraphs}</body></html>\n"


def _write_one(args: tuple[int, int, int, int, str]) -> str:
    seed, clients_count, file_number, count, path = args
    clients = make_clients(random.Random(seed), clients_count)
    agents = make_agents(random.Random(seed + 1))
    return str(CorpusWriter(seed, file_number, clients, agents).write_file(Path(path), count))


def generate_email_corpus(
    out_dir: Path, *, emails: int = 100_000, clients: int = 2_000, seed: int = 1, workers: int | None = None
) -> list[Path]:
    """Write ``emails`` messages across mbox files of up to 2,000 messages; return their paths."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    files = max(1, -(-emails // MESSAGES_PER_FILE))
    jobs = []
    for file_number in range(files):
        count = emails // files + (1 if file_number < emails % files else 0)
        jobs.append((seed, clients, file_number, count, str(out_dir / f"corpus-{file_number:03d}.mbox")))
    if workers == 1 or files == 1:
        return [Path(_write_one(job)) for job in jobs]
    with ProcessPoolExecutor(max_workers=workers) as pool:
        return [Path(path) for path in pool.map(_write_one, jobs)]
