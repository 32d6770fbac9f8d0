"""Posting the JSON deliveries of the outbox (pre-meeting briefs for chat tools) to their webhook URL.

A delivery whose ``recipient`` is the URL and whose ``text_body`` is the JSON is POSTed once per run: a 2xx
answer marks it sent; a refusal (4xx other than 408 and 429) marks it failed with the reason, kept; anything
else (server down, timeout, 5xx) leaves it pending for the next run.
"""

import urllib.request
from http import HTTPStatus
from urllib.error import HTTPError, URLError

from sqlalchemy import select
from sqlalchemy.orm import Session

from dossier.delivery.mailer import SendReport
from storage.models import Delivery, utcnow

TIMEOUT_SECONDS = 10.0
RETRIED = frozenset({HTTPStatus.REQUEST_TIMEOUT, HTTPStatus.TOO_MANY_REQUESTS})


def post(url: str, body: str, *, timeout: float = TIMEOUT_SECONDS) -> None:
    """POST ``body`` as JSON to ``url``; raises ``HTTPError`` or ``URLError`` when it is not taken."""
    request = urllib.request.Request(
        url, data=body.encode(), method="POST", headers={"Content-Type": "application/json; charset=utf-8"}
    )
    with urllib.request.urlopen(request, timeout=timeout):
        pass


def post_pending(session: Session, *, kind: str, timeout: float = TIMEOUT_SECONDS) -> SendReport:
    """POST every pending delivery of ``kind``, oldest first, each outcome committed at once."""
    query = select(Delivery).where(Delivery.status == "pending", Delivery.kind == kind)
    report = SendReport()
    for delivery in session.scalars(query.order_by(Delivery.created_at, Delivery.id)).all():
        delivery.attempts += 1
        try:
            post(delivery.recipient, delivery.text_body, timeout=timeout)
        except HTTPError as error:
            delivery.last_error = f"HTTP {error.code}: {error.reason}"
            delivery.status = "pending" if error.code >= 500 or error.code in RETRIED else "failed"
        except (URLError, OSError) as error:
            delivery.last_error = f"{type(error).__name__}: {getattr(error, 'reason', error)}"
        else:
            delivery.status, delivery.sent_at, delivery.last_error = "sent", utcnow(), None
        session.commit()
        getattr(report, delivery.status).append(delivery.id)
    return report
