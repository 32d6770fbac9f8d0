"""Normalize identifiers (e-mail, phone), detect language and hash content for idempotent imports."""

import hashlib
import json
from collections.abc import Sequence
from datetime import UTC
from functools import cache, lru_cache
from typing import TypeGuard

import phonenumbers
from py3langid.langid import MODEL_FILE, LanguageIdentifier

from ingest.records import ParsedInteraction, Party
from storage.models import ContactKind

#: Public mail providers: their domain says nothing about which company a person works for.
FREEMAIL_DOMAINS = frozenset(
    """gmail.com googlemail.com yahoo.com yahoo.co.uk outlook.com hotmail.com live.com msn.com
    icloud.com me.com aol.com proton.me protonmail.com gmx.com gmx.de gmx.net web.de zoho.com
    mail.com yandex.ru yandex.com ya.ru mail.ru bk.ru list.ru inbox.ru rambler.ru
    wp.pl o2.pl onet.pl op.pl interia.pl tlen.pl gazeta.pl poczta.fm""".split()
)

#: Shorter texts are too short for a reliable language guess.
MIN_LANGUAGE_TEXT = 20
#: Characters read for a language guess: the opening of a message decides it.
LANGUAGE_SAMPLE = 500


def normalize_email(address: str) -> str:
    """Lower-case, trimmed e-mail address."""
    return address.strip().strip("<>").lower()


def email_domain(address: str) -> str | None:
    """The domain of a normalized address, or None."""
    _, at, domain = address.rpartition("@")
    return domain if at and domain else None


def is_company_domain(domain: str | None) -> TypeGuard[str]:
    """True for a domain that identifies an organisation (not a public mail provider)."""
    return bool(domain) and domain not in FREEMAIL_DOMAINS


@lru_cache(maxsize=65536)
def normalize_phone(raw: str, region: str) -> str | None:
    """E.164 form of a phone number however it is written (``region``, any case, for numbers without a
    +country code), or None when it is not a valid number."""
    try:
        number = phonenumbers.parse(raw.strip(), region.upper())
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalize_party(party: Party, region: str) -> Party:
    """The party with its identifier normalized; an unusable identifier is dropped."""
    if party.kind is None or not party.value:
        return Party(name=party.name)
    if party.kind is ContactKind.EMAIL:
        value: str | None = normalize_email(party.value)
    elif party.kind is ContactKind.PHONE:
        value = normalize_phone(party.value, region)
    else:
        value = party.value.strip()
    return Party(name=party.name, kind=party.kind if value else None, value=value)


@cache
def _language_identifier(languages: tuple[str, ...]) -> LanguageIdentifier:
    """py3langid's identifier for ``languages``, built once per process (loading its model takes a second)."""
    identifier = LanguageIdentifier.from_model_file(MODEL_FILE)
    identifier.set_languages(list(languages))
    return identifier


class LanguageDetector:
    """Language identification restricted to the configured languages (py3langid)."""

    def __init__(self, languages: Sequence[str]):
        self._identifier = _language_identifier(tuple(languages))

    def detect(self, text: str) -> str | None:
        """ISO 639-1 code of ``text``, or None when the text is too short to tell."""
        sample = text[:LANGUAGE_SAMPLE]
        if sum(ch.isalpha() for ch in sample) < MIN_LANGUAGE_TEXT:
            return None
        language: str = self._identifier.classify(sample)[0]  # py3langid has no type hints
        return language


def content_hash(item: ParsedInteraction, occurrence: int) -> str:
    """Identity of an interaction: the same message imported from any export hashes the same.

    E-mails with a Message-ID are identified by it; everything else by its content. ``occurrence``
    tells apart identical records inside one source (two "ok" in the same minute).
    """
    if item.external_id and item.source_kind == "email":
        return email_id_hash(item.external_id)
    identity: list[object] = [
        item.channel.value,
        item.occurred_at.astimezone(UTC).isoformat(),
        item.author.value or item.author.name,
        item.subject,
        item.body,
        item.quoted_text,
        item.external_id,
        occurrence,
    ]
    return _identity_hash(identity)


def email_id_hash(message_id: str) -> str:
    """The content hash of an e-mail with this Message-ID, whichever export it comes from."""
    return _identity_hash(["email-id", message_id.strip()])


def _identity_hash(identity: list[object]) -> str:
    return hashlib.sha256(json.dumps(identity, ensure_ascii=False).encode()).hexdigest()
