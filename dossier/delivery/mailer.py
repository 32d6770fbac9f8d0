"""Sending the ``Delivery`` outbox over SMTP, with retries; what cannot be sent now stays for the next run.

A transient failure (server down, timeout, 4xx reply) is retried with exponential backoff; when the
tries run out the message stays ``pending`` with ``attempts`` and ``last_error`` and the next send run
tries again. A permanent refusal (5xx, e.g. an unknown recipient) marks it ``failed`` with the reason:
kept, never lost, and not retried until someone fixes it and sets it back to ``pending``.
"""

import smtplib
import ssl
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from sqlalchemy import select
from sqlalchemy.orm import Session
from tenacity import Retrying, retry_if_exception, stop_after_attempt, wait_exponential

from dossier.settings import Settings, get_settings
from storage.models import Delivery, utcnow


@dataclass(slots=True)
class SendReport:
    """What one send run did, by delivery id."""

    sent: list[int] = field(default_factory=list)
    pending: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)

    def summary(self) -> str:
        return f"{len(self.sent)} sent, {len(self.pending)} still pending, {len(self.failed)} failed"


def build_message(delivery: Delivery, sender: str) -> EmailMessage:
    """The delivery as a MIME message: plain text, and HTML as the alternative when there is one.

    Its Message-ID is derived from the delivery, so a re-send after a lost acknowledgement can be
    recognised as the same message.
    """
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = sender, delivery.recipient, delivery.subject
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(
        idstring=f"{delivery.kind}.{delivery.period_key}.{delivery.id}", domain="dossier"
    )
    message.set_content(delivery.text_body)
    if delivery.html_body:
        message.add_alternative(delivery.html_body, subtype="html")
    return message


def is_transient(error: BaseException) -> bool:
    """True for failures worth retrying: connection problems and 4xx replies; False for 5xx refusals."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return all(code < 500 for code, _reply in error.recipients.values())
    if isinstance(error, smtplib.SMTPResponseException):
        return error.smtp_code < 500
    return isinstance(error, (OSError, smtplib.SMTPException))


def send_message(message: EmailMessage, settings: Settings) -> None:
    """One SMTP session: connect (TLS or STARTTLS as configured), log in when configured, send."""
    context = ssl.create_default_context()
    smtp_class = smtplib.SMTP_SSL if settings.smtp_tls else smtplib.SMTP
    extra = {"context": context} if settings.smtp_tls else {}
    with smtp_class(settings.smtp_host, settings.smtp_port, timeout=settings.smtp_timeout_seconds, **extra) as smtp:
        if settings.smtp_starttls and not settings.smtp_tls:
            smtp.starttls(context=context)
        if settings.smtp_user:
            password = settings.smtp_password.get_secret_value() if settings.smtp_password else ""
            smtp.login(settings.smtp_user, password)
        smtp.send_message(message)


def deliver(session: Session, delivery: Delivery, settings: Settings) -> None:
    """Try to send one delivery (with retries) and record the outcome on it."""
    message = build_message(delivery, settings.smtp_sender)
    retrying = Retrying(
        stop=stop_after_attempt(settings.smtp_attempts),
        wait=wait_exponential(multiplier=settings.smtp_backoff_seconds),
        retry=retry_if_exception(is_transient),
        reraise=True,
    )
    try:
        for attempt in retrying:
            with attempt:
                delivery.attempts += 1
                send_message(message, settings)
    except Exception as error:  # noqa: BLE001 - every failure is recorded on the delivery, none is lost
        delivery.last_error = f"{type(error).__name__}: {error}"
        delivery.status = "pending" if is_transient(error) else "failed"
    else:
        delivery.status, delivery.sent_at, delivery.last_error = "sent", utcnow(), None
    session.add(delivery)


def send_pending(
    session: Session, *, kind: str | None = None, user_ids: list[int] | None = None, settings: Settings | None = None
) -> SendReport:
    """Send every pending delivery (of ``kind``, to ``user_ids`` when given), oldest first.

    Each outcome is committed at once: a crash can at worst re-send the one message in flight, under
    the same Message-ID.
    """
    settings = settings or get_settings()
    query = select(Delivery).where(Delivery.status == "pending").order_by(Delivery.created_at, Delivery.id)
    if kind is not None:
        query = query.where(Delivery.kind == kind)
    if user_ids is not None:
        query = query.where(Delivery.user_id.in_(user_ids))
    report = SendReport()
    for delivery in session.scalars(query).all():
        deliver(session, delivery, settings)
        session.commit()
        getattr(report, delivery.status).append(delivery.id)
    return report
