"""Synthetic client histories with known facts, inserted straight into the database (bench only).

Each client gets routine e-mail and chat traffic in English, Russian or Polish, plus planted facts
whose recall the quality benchmark measures: a purchase, a promise with a due date, a contact
preference, a person with a role, and a rare critical mention.
"""

import hashlib
import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from storage import repository
from storage.db import session_scope
from storage.models import Channel

START = datetime(2025, 9, 1, 9, 0, tzinfo=UTC)
SPAN_DAYS = 420

ROUTINE = {
    "en": [
        "Thanks for the update, we will review it internally.",
        "Can we move our call to Thursday?",
        "The delivery arrived, all good.",
        "Please find the updated price list attached.",
        "We are still comparing offers, nothing decided yet.",
        "Could you resend the invoice?",
    ],
    "ru": [
        "Спасибо, посмотрим внутри и вернёмся.",
        "Можно перенести звонок на четверг?",
        "Поставка пришла, всё в порядке.",
        "Во вложении обновлённый прайс.",
        "Пока сравниваем предложения, решения нет.",
        "Пришлите, пожалуйста, счёт ещё раз.",
    ],
    "pl": [
        "Dziękuję, przeanalizujemy to wewnętrznie.",
        "Czy możemy przesunąć rozmowę na czwartek?",
        "Dostawa dotarła, wszystko w porządku.",
        "W załączniku zaktualizowany cennik.",
        "Wciąż porównujemy oferty, nic nie zdecydowano.",
        "Proszę o ponowne przesłanie faktury.",
    ],
}

FACTS = {
    "en": {
        "purchase": "We bought {qty} units of {product} for {amount} EUR.",
        "promise": "I will send the signed contract by {due:%d %B %Y}.",
        "preference": "Please call me only after 16:00, I prefer phone calls.",
        "person": "{person}, Head of Procurement",
        "risk": "By the way, our director {boss} retires in January.",
    },
    "ru": {
        "purchase": "Купили {product}, {qty} шт., на сумму {amount} EUR.",
        "promise": "Пришлю подписанный договор до {due:%d.%m.%Y}.",
        "preference": "Звоните только после 16:00, мне удобнее по телефону.",
        "person": "{person}, руководитель отдела закупок",
        "risk": "Кстати, наш директор {boss} в январе уходит на пенсию.",
    },
    "pl": {
        "purchase": "Kupiliśmy {product}, {qty} szt., za {amount} EUR.",
        "promise": "Podpisaną umowę wyślę do {due:%d.%m.%Y}.",
        "preference": "Proszę dzwonić tylko po 16:00, wolę telefon.",
        "person": "{person}, kierownik działu zakupów",
        "risk": "Przy okazji, nasz dyrektor {boss} w styczniu przechodzi na emeryturę.",
    },
}
PEOPLE = {
    "en": ["Emily Clarke", "Tom Baker", "Sarah Lindqvist"],
    "ru": ["Иван Петров", "Ольга Смирнова"],
    "pl": ["Katarzyna Wiśniewska", "Tomasz Zieliński"],
}
PRODUCTS = ["NW-300 scanners", "LP-40 printers", "Care+ support"]


@dataclass(slots=True)
class PlantedFacts:
    """The facts planted in one client's history, as strings a correct summary must contain."""

    client: str
    language: str
    facts: dict[str, list[str]] = field(default_factory=dict)  # kind -> identifying fragments


def _row(
    client_id: int,
    n: int,
    when: datetime,
    channel: Channel,
    direction: str,
    author: str,
    body: str,
    signature: str = "",
) -> dict[str, Any]:
    digest = hashlib.sha256(f"bench|{client_id}|{n}|{body}".encode()).hexdigest()
    return {
        "client_id": client_id,
        "channel": channel.value,
        "direction": direction,
        "author": author,
        "author_contact": None,
        "participants": [],
        "occurred_at": when,
        "language": None,
        "subject": None,
        "body": body,
        "quoted_text": "",
        "signature": signature,
        "attachments": [],
        "source_kind": "bench",
        "source_ref": f"bench:{client_id}:{n}",
        "external_id": None,
        "thread_ref": None,
        "content_hash": digest,
        "scope": "all",
        "privileged": False,
        "deal_id": None,
        "meta": {},
        "import_run_id": None,
        "imported_at": when,
    }


def history_rows(client_id: int, name: str, count: int, rng: random.Random) -> tuple[list[dict], PlantedFacts]:
    """``count`` interactions over ~14 months for one client, with planted facts."""
    language = rng.choice(sorted(ROUTINE))
    person, boss = rng.sample(PEOPLE[language], 2) if len(PEOPLE[language]) > 1 else (PEOPLE[language][0],) * 2
    product, qty, amount = rng.choice(PRODUCTS), rng.randint(5, 120), rng.randint(2, 90) * 500
    times = sorted(START + timedelta(minutes=rng.randint(0, SPAN_DAYS * 24 * 60)) for _ in range(count))
    due = times[-1].date() + timedelta(days=20)
    templates = FACTS[language]
    planted = {
        "purchase": templates["purchase"].format(qty=qty, product=product, amount=amount),
        "promise": templates["promise"].format(due=due),
        "preference": templates["preference"],
        "risk": templates["risk"].format(boss=boss),
    }
    slots = dict(zip(planted, sorted(rng.sample(range(count), len(planted))), strict=True))
    rows = []
    for n, when in enumerate(times):
        inbound = rng.random() < 0.55
        channel = Channel.EMAIL if rng.random() < 0.7 else Channel.CHAT
        fact = next((kind for kind, slot in slots.items() if slot == n), None)
        body = planted[fact] if fact else rng.choice(ROUTINE[language])
        author = person if inbound else "Agent Smith"
        signature = templates["person"].format(person=person) if inbound and channel is Channel.EMAIL else ""
        if fact == "promise":
            author, inbound = person, True
        rows.append(_row(client_id, n, when, channel, "inbound" if inbound else "outbound", author, body, signature))
    facts = PlantedFacts(
        name,
        language,
        {
            "purchase": [str(qty), product.split()[0]],
            "promise": [due.isoformat()],
            "preference": ["16:00"],
            "person": [person.split()[-1]],
            "risk": [boss.split()[-1]],
        },
    )
    return rows, facts


def create_histories(database_url: str, *, clients: int, per_client: int, seed: int = 3) -> list[PlantedFacts]:
    """Insert ``clients`` synthetic clients of ``per_client`` interactions each; return their facts."""
    rng = random.Random(seed)
    planted = []
    with session_scope(database_url) as session:
        for index in range(clients):
            name = f"Bench Client {index:05d}"
            client_id = repository.get_or_create_client(session, name)
            rows, facts = history_rows(client_id, name, per_client, rng)
            repository.insert_interactions(session, rows)
            planted.append(facts)
            if index % 100 == 99:
                session.commit()
    return planted


def add_messages(database_url: str, client_ids: list[int], per_client: int, *, seed: int = 4) -> None:
    """Append ``per_client`` new inbound messages (newest day) to each client and queue refreshes."""
    from storage.changes import Change, ChangeKind, record_change

    rng = random.Random(seed)
    when = START + timedelta(days=SPAN_DAYS + 1)
    with session_scope(database_url) as session:
        rows = [
            _row(
                cid,
                10_000 + k,
                when + timedelta(minutes=k),
                Channel.EMAIL,
                "inbound",
                "Client",
                f"New message {k}: quote approved, please send the invoice. {rng.random():.6f}",
            )
            for cid in client_ids
            for k in range(per_client)
        ]
        repository.insert_interactions(session, rows)
        record_change(session, [Change(client_id, ChangeKind.INTERACTION) for client_id in client_ids])
