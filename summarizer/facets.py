"""What a claim's sentence names, as fields free of its language: so that a claim from a source in one
language can be worded in another (an English brief of a Russian history) from the labels, with the source's
own words one click away through its citation. Figures and codes are kept as written, so the worded claim
names nothing its source does not."""

import re
from collections.abc import Iterable
from typing import NamedTuple

from summarizer.dates import is_date_word
from summarizer.extract import (
    AMOUNT,
    CLOCK_TIME,
    COMPETITOR,
    COMPLAINT,
    CONCEPT,
    DONE,
    NEGATED,
    RESOLVED_STRONG,
    SIGNED,
)
from summarizer.lexicon import grounded as lex

CODE = re.compile(lex.CODE)
COUNT = re.compile(lex.COUNT, re.IGNORECASE)
SHARE = re.compile(lex.SHARE, re.IGNORECASE)
PENDING = re.compile(lex.PENDING, re.IGNORECASE)
LEAVING = re.compile(lex.LEAVING, re.IGNORECASE)
APPROVED = re.compile(lex.APPROVED, re.IGNORECASE)
SETTLED_STATES = ("signed", "approved", "resolved", "done")  # negated ("не утвердили"): pending
NAME = re.compile(lex.NAME)
CURRENCY_WORD = re.compile(
    "|".join(rf"(?P<{code}>(?<![\w])(?:{pattern})(?![\w]))" for code, pattern in lex.CURRENCY_CODES), re.IGNORECASE
)
CHANNEL = re.compile("|".join(f"(?P<{name}>{pattern})" for name, pattern in lex.CHANNELS), re.IGNORECASE)
ROLE = re.compile("|".join(f"(?P<{name}>{pattern})" for name, pattern in lex.ROLES), re.IGNORECASE)


class Facets(NamedTuple):
    """What one sentence names: each field in order of mention, without repeats."""

    subjects: tuple[str, ...]  # concepts of the lexicon: "contract", "quote", "delivery", ...
    states: tuple[str, ...]  # "signed", "approved", "complaint", "competitor", "resolved", "done", "pending", ...
    codes: tuple[str, ...]  # product codes and document numbers, as written
    amounts: tuple[str, ...]  # money, a currency spelled as a word given by its code ("4 296 600 RUB")
    shares: tuple[str, ...]  # "7%"
    counts: tuple[str, ...]  # figures of things ("120" of "120 шт.")
    times: tuple[str, ...]  # clock times ("12:00")
    channels: tuple[str, ...]  # "telegram", "whatsapp", "phone", "email"
    roles: tuple[str, ...]  # "decides", "cfo", "director", ...
    names: tuple[str, ...]  # people named by two capitalized words, as written

    @property
    def figures(self) -> bool:
        """Whether the sentence names a code, an amount, a share or a count."""
        return bool(self.codes or self.amounts or self.shares or self.counts)


def facets(text: str) -> Facets:
    """The facets of ``text``."""
    lower = text.lower()
    money = [(match.start(), match.end()) for match in AMOUNT.finditer(text)]
    shares = list(SHARE.finditer(text))
    taken = money + [(match.start(), match.end()) for match in shares]
    return Facets(
        subjects=_unique(match.lastgroup or "" for match in CONCEPT.finditer(lower)),
        states=_states(lower),
        codes=_unique(match.group() for match in CODE.finditer(text) if not _inside(match.start(), taken)),
        amounts=_unique(_with_currency_code(text[start:end].strip()) for start, end in money),
        shares=_unique(f"{match.group(1)}%" for match in shares),
        counts=_unique(
            match.group(1)
            for match in COUNT.finditer(text)
            if not _inside(match.start(), taken) and not _is_date(match.group(1), match.group(2))
        ),
        times=_unique(match.group().strip() for match in CLOCK_TIME.finditer(text)),
        channels=_unique(match.lastgroup or "" for match in CHANNEL.finditer(text)),
        roles=_unique(match.lastgroup or "" for match in ROLE.finditer(text)),
        names=_unique(match.group() for match in NAME.finditer(text) if not _is_dated(match)),
    )


def _states(lower: str) -> tuple[str, ...]:
    """What the sentence says happened: a settled state that is negated ("not approved", "не подписан") is
    still pending; "signed" or "resolved" say more than "done" of the same news."""
    found = [
        ("signed", SIGNED.search(lower)),
        ("approved", APPROVED.search(lower)),
        ("complaint", COMPLAINT.search(lower)),
        ("competitor", COMPETITOR.search(lower)),
        ("resolved", RESOLVED_STRONG.search(lower)),
        ("done", DONE.search(lower)),
        ("pending", PENDING.search(lower)),
        ("leaving", LEAVING.search(lower)),
    ]
    states = []
    for name, match in found:
        if match is None:
            continue
        negated = name in SETTLED_STATES and NEGATED.search(lower[: match.start()]) is not None
        states.append("pending" if negated else name)
    if "pending" in states:
        states = [state for state in states if state not in SETTLED_STATES]
    if "signed" in states or "resolved" in states:
        states = [state for state in states if state != "done"]
    return tuple(dict.fromkeys(states))


def _is_date(figure: str, word: str) -> bool:
    """Whether a figure and the word after it are a date ("30 апреля") or a year ("2025 года")."""
    return is_date_word(word.rstrip(".")) or (len(figure) == 4 and figure.startswith(("19", "20")))


def _is_dated(name: re.Match[str]) -> bool:
    return any(is_date_word(word) for word in name.group().split())


def _with_currency_code(amount: str) -> str:
    """``amount`` with a currency spelled as a word ("руб.", "złotych") given by its code instead."""
    return CURRENCY_WORD.sub(lambda match: match.lastgroup or match.group(), amount)


def _inside(position: int, spans: list[tuple[int, int]]) -> bool:
    return any(start <= position < end for start, end in spans)


def _unique(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(value for value in values if value))
