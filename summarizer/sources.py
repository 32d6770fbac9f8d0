"""Interactions as the engines see them: redacted, without text that addresses the summarizer, formatted
with their ids, split when too long."""

import re
from collections.abc import Callable, Iterator
from datetime import timedelta

from storage.meta import CallMeta
from storage.models import Channel, Interaction
from summarizer.notes import SourceItem
from summarizer.redact import redact
from summarizer.steering import is_steering, remove_steering

SENTENCE_END = re.compile(r"(?<=[.!?…])\s+|\n+")


def to_source_item(interaction: Interaction) -> SourceItem:
    """The engine's view of an interaction: personal data redacted, quoted text and steering left out."""
    return without_steering(
        SourceItem(
            interaction_id=interaction.id,
            occurred_at=interaction.occurred_at,
            channel=interaction.channel,
            direction=interaction.direction,
            author=interaction.author,
            subject=redact(interaction.subject) if interaction.subject else None,
            text=redact(interaction.body),
            signature=redact(interaction.signature),
            language=interaction.language,
            segment_starts=segment_starts(interaction),
        )
    )


def segment_starts(interaction: Interaction) -> list[float]:
    """A call's start second of each line of its body (empty for other channels)."""
    return CallMeta.model_validate(interaction.meta).segment_starts if interaction.channel == Channel.CALL else []


def without_steering(item: SourceItem) -> SourceItem:
    """``item`` with every passage that addresses the summarizer cut out of its subject, text and signature
    (an author name that does loses the name), marked ``steering`` when there was one: no engine reads it."""
    subject, text, signature = (remove_steering(part) for part in (item.subject or "", item.text, item.signature))
    author_steers = item.author is not None and is_steering(item.author)
    if not (subject.spans or text.spans or signature.spans or author_steers):
        return item
    return item.model_copy(
        update={
            "subject": subject.text or None,
            "text": text.text,
            "signature": signature.text,
            "author": None if author_steers else item.author,
            "steering": True,
        }
    )


def format_source(item: SourceItem) -> str:
    """One source as it is shown to a model: a header with its id, then its text."""
    header = f"[#{item.interaction_id}] {item.occurred_at:%Y-%m-%d %H:%M} {item.channel} {item.direction}"
    header += f" from {item.author}" if item.author else ""
    subject = f"\nSubject: {item.subject}" if item.subject else ""
    return f"{header}{subject}\n{item.text}"


def split_item(item: SourceItem, budget: int, count_tokens: Callable[[str], int]) -> Iterator[SourceItem]:
    """The item whole when it fits ``budget``, else consecutive parts at sentence boundaries."""
    if count_tokens(format_source(item)) <= budget:
        yield item
        return
    overhead = count_tokens(format_source(item.model_copy(update={"text": ""})))
    part: list[str] = []
    used = 0
    for sentence in filter(None, SENTENCE_END.split(item.text)):
        cost = count_tokens(sentence) + 1
        if part and used + cost > budget - overhead:
            yield item.model_copy(update={"text": " ".join(part)})
            part, used = [], 0
        part.append(sentence)
        used += cost
    if part:
        yield item.model_copy(update={"text": " ".join(part)})


COPY_WINDOW = timedelta(hours=36)  # mail clients store a sent message again, hours later, in another folder
COPY_MIN_WORDS = 12  # shorter bodies ("Thanks!") repeat by chance; they count as copies only from the same author


def drop_copies(items: list[SourceItem]) -> list[SourceItem]:
    """``items`` without second copies of one message: the same subject and body (up to case and spacing)
    within ``COPY_WINDOW`` of the first copy, from the same author, or any author when the body is long
    (the sent-mail and sent-items copies of one e-mail carry another sender address and Message-ID)."""
    copies: set[int] = set()
    first_seen: dict[tuple[str, str], list[SourceItem]] = {}
    for item in sorted(items, key=lambda item: (item.occurred_at, item.interaction_id)):
        key = (_normalized(item.subject or ""), _normalized(item.text))
        earlier = first_seen.setdefault(key, [])
        if key[1] and any(_is_copy(first, item) for first in earlier):
            copies.add(item.interaction_id)
        else:
            earlier.append(item)
    return [item for item in items if item.interaction_id not in copies]


def _normalized(text: str) -> str:
    return " ".join(text.casefold().split())


def _is_copy(first: SourceItem, later: SourceItem) -> bool:
    if first.channel != later.channel or later.occurred_at - first.occurred_at > COPY_WINDOW:
        return False
    return first.author == later.author or len(first.text.split()) >= COPY_MIN_WORDS
