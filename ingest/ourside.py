"""Our own side of the correspondence, inferred from who writes to whom when no internal domains are set.

Every e-mail message that is not bulk links the *units* among its parties: a company domain, or on a
freemail domain (where every address is someone else) the address itself. Our mailbox owners are the
hubs of that graph: a unit that corresponds with at least ``MIN_PARTNERS`` other units, and with more
of them than each of its partners does (a tie goes to the one in more messages), is ours. Its messages
are then explained and the search repeats over the rest, so a second rep with clients of their own is
found too, while an outsider copied on threads we are already in is not. Our users' addresses are
known to be ours from the start. The answer depends only on the messages, not on the order they are read.

The stored mail is read as a tally (``repository.correspondence_tally``: messages per set of addresses,
kept by the import), the mail of an import from its headers alone.
"""

import email.parser
import email.policy
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from ingest import mail
from ingest.normalize import email_domain, is_company_domain, normalize_party
from ingest.options import ImportOptions
from ingest.records import ParsedInteraction, Party
from ingest.resolve import MAX_IDENTIFYING_RECIPIENTS, is_bulk
from ingest.sources import SOURCE_KINDS, unreadable_reason
from storage import repository
from storage.models import ContactKind

#: A unit corresponding with fewer other units cannot be told from its correspondents.
MIN_PARTNERS = 2

Units = frozenset[str]


@dataclass(frozen=True, slots=True)
class OurSide:
    """Our company's e-mail domains and our people's addresses on public (freemail) domains."""

    domains: frozenset[str] = frozenset()
    addresses: frozenset[str] = frozenset()


def unit_of(address: str) -> str:
    """The party an address stands for: its company domain, or the address itself on a freemail domain."""
    domain = email_domain(address)
    return domain if is_company_domain(domain) else address


class Correspondence:
    """Who writes to whom, gathered message by message; ``our_side`` finds the hubs."""

    def __init__(self) -> None:
        self._messages: Counter[Units] = Counter()

    def add_addresses(self, addresses: Iterable[str], messages: int = 1) -> None:
        """``messages`` messages between these e-mail addresses (normalized)."""
        units = frozenset(unit_of(address) for address in addresses)
        if len(units) > 1:
            self._messages[units] += messages

    def add_item(self, item: ParsedInteraction) -> None:
        """One parsed message with normalized parties; bulk mail says nothing about who corresponds with whom."""
        if not is_bulk(item):
            self.add_addresses(filter(None, map(_address, (item.author, *item.recipients))))

    def our_side(self, known_addresses: Iterable[str] = ()) -> OurSide:
        """Our units beyond ``known_addresses`` (our users'), as company domains and freemail addresses."""
        known = {unit_of(address) for address in known_addresses}
        ours: set[str] = set()
        uncovered = {units: count for units, count in self._messages.items() if not units & known}
        while hubs := _hubs(uncovered):
            ours |= hubs
            uncovered = {units: count for units, count in uncovered.items() if not units & hubs}
        return OurSide(
            domains=frozenset(unit for unit in ours if "@" not in unit),
            addresses=frozenset(unit for unit in ours if "@" in unit),
        )


def _address(party: Party) -> str | None:
    return party.value if party.kind is ContactKind.EMAIL and party.value else None


def _hubs(messages: Mapping[Units, int]) -> set[str]:
    """Units with at least ``MIN_PARTNERS`` partners that outweigh every partner (partners, then messages)."""
    partners: defaultdict[str, set[str]] = defaultdict(set)
    counts: Counter[str] = Counter()
    for units, count in messages.items():
        for unit in units:
            partners[unit].update(units)
            counts[unit] += count

    def weight(unit: str) -> tuple[int, int]:
        return len(partners[unit]) - 1, counts[unit]  # a unit is among its own partners

    return {
        unit
        for unit, near in partners.items()
        if len(near) > MIN_PARTNERS and all(weight(unit) > weight(other) for other in near if other != unit)
    }


def correspondence_key(participants: Sequence[Mapping[str, Any]]) -> tuple[str, ...] | None:
    """The sorted e-mail addresses among stored participants ({kind, value}): a key of the tally."""
    addresses = {
        party["value"] for party in participants if party.get("kind") == ContactKind.EMAIL and party.get("value")
    }
    return tuple(sorted(addresses)) or None


def infer_our_side(session: Session, sources: Iterable[tuple[Path, str | None]], options: ImportOptions) -> OurSide:
    """Our side from the tally of the e-mail stored and the headers of the e-mail among ``sources`` (path, kind).

    A source that cannot be read or parsed adds nothing here: the import itself quarantines it.
    """
    correspondence = Correspondence()
    for addresses, messages in repository.correspondence_tally(session):
        correspondence.add_addresses(addresses, messages)
    for path, kind in sources:
        for addresses in message_addresses(path, kind, options):
            correspondence.add_addresses(addresses)
    known_addresses, _phones, _names = repository.load_internal_identities(session)
    return correspondence.our_side(known_addresses)


def message_addresses(path: Path, kind: str | None, options: ImportOptions) -> Iterator[list[str]]:
    """The normalized e-mail addresses of each message in a mail source that is not bulk mail.

    An mbox is read from its headers only; other mail sources (single messages, maildirs) are parsed.
    """
    if kind != mail.SOURCE_KIND or unreadable_reason(path) is not None:
        return
    try:
        if path.is_file() and mail.is_mbox_file(path):
            for message in mail.raw_mbox_messages(path):
                yield from _header_addresses(message.raw.partition(b"\n")[2], options.default_phone_region)
            return
        for item in _parsed_items(path, kind, options.zone):
            item.author = normalize_party(item.author, options.default_phone_region)
            item.recipients = [normalize_party(party, options.default_phone_region) for party in item.recipients]
            if not is_bulk(item):
                yield list(filter(None, map(_address, (item.author, *item.recipients))))
    except Exception:  # noqa: BLE001 - the import proper quarantines a source its parser fails on
        return


_HEADER_PARSER = email.parser.BytesParser(policy=email.policy.compat32)


def _header_addresses(raw: bytes, region: str) -> Iterator[list[str]]:
    """The addresses of one raw message, read from its headers as ``ingest.mail`` reads them, unless it is bulk."""
    headers = mail.wanted_headers(_HEADER_PARSER.parsebytes(raw, headersonly=True))
    if ("from" not in headers and "date" not in headers) or mail.is_list_mail(headers):
        return
    issues: list[str] = []
    author = mail.first_party(headers.get("from", []), "From", issues)
    recipients = mail.parties(headers.get("to", []), "To", issues) + mail.parties(headers.get("cc", []), "Cc", issues)
    if len(recipients) <= MAX_IDENTIFYING_RECIPIENTS:
        parties = (normalize_party(party, region) for party in (author, *recipients))
        yield list(filter(None, map(_address, parties)))


def _parsed_items(path: Path, kind: str, zone: ZoneInfo) -> Iterator[ParsedInteraction]:
    for result in SOURCE_KINDS[kind].parse(path, zone):
        if isinstance(result, ParsedInteraction):
            yield result
