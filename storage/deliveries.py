"""The outbox of outgoing messages (Monday digests, event notifications): each one is stored once.

A message is identified by its :class:`DeliveryKey` (kind, user, what it is for): the unique constraint of
``deliveries`` holds one row per key, and :func:`queue_once` is the one writer of those rows.
"""

from collections.abc import Callable
from typing import NamedTuple

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from storage.models import Delivery

PENDING = "pending"


class DeliveryKey(NamedTuple):
    """What makes two messages the same message: one ``Delivery`` row per key."""

    kind: str  # digest, notification
    user_id: int
    period_key: str  # what it is for: an ISO week (2026-W47), an event (event:123)


class Message(NamedTuple):
    """What an outgoing message says and to whom."""

    recipient: str
    subject: str
    text_body: str
    html_body: str | None = None
    client_id: int | None = None  # the client it is about, if one


def find_delivery(session: Session, key: DeliveryKey) -> Delivery | None:
    """The message stored for ``key``, or None."""
    return session.scalar(
        select(Delivery).where(
            Delivery.kind == key.kind, Delivery.user_id == key.user_id, Delivery.period_key == key.period_key
        )
    )


def queue_once(session: Session, key: DeliveryKey, compose: Callable[[], Message]) -> tuple[Delivery, bool]:
    """The message for ``key`` in the outbox, pending; True when stored now, False when it was there already.

    ``compose`` is called only when nothing is stored for ``key`` yet. A message stored meanwhile by another
    run (the unique constraint tells) is returned as it is, so re-runs or two runs at once never duplicate it.
    """
    if (existing := find_delivery(session, key)) is not None:
        return existing, False
    delivery = Delivery(**key._asdict(), **compose()._asdict(), status=PENDING, attempts=0)
    try:
        with session.begin_nested():
            session.add(delivery)
    except IntegrityError:
        concurrent = find_delivery(session, key)
        if concurrent is None:  # not stored by another run: a real failure
            raise
        return concurrent, False
    return delivery, True
