"""Decide which client an interaction belongs to, from its parties' contacts, hints and domains."""

import re
from collections.abc import Collection
from dataclasses import dataclass

import tldextract
from sqlalchemy.orm import Session

from ingest.normalize import (
    email_domain,
    is_company_domain,
    normalize_email,
    normalize_party,
    normalize_phone,
)
from ingest.records import ParsedClient, ParsedInteraction, ParseError, Party
from storage import repository
from storage.models import Channel, ContactKind, Direction

#: Contact kinds that identify one person or company for certain.
STRONG_KINDS = (ContactKind.EMAIL, ContactKind.PHONE, ContactKind.TELEGRAM, ContactKind.WHATSAPP)
#: Channels written by our own staff: their parties are never the client.
INTERNAL_CHANNELS = (Channel.NOTE, Channel.DEAL_EVENT)
#: A message to more recipients than this is bulk mail: only its author (or the hint) identifies the client.
MAX_IDENTIFYING_RECIPIENTS = 20
DOMAIN_LIKE = re.compile(r"(?:[a-z0-9-]+\.)+[a-z]{2,}", re.IGNORECASE)
#: Public-suffix aware domain splitting from the bundled list (never fetched at run time).
_DOMAIN_PARTS = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)


def is_bulk(item: ParsedInteraction) -> bool:
    """True for mailing-list or mass mail, whose recipients say nothing about which client it concerns."""
    return item.bulk or len(item.recipients) > MAX_IDENTIFYING_RECIPIENTS


def company_name(domain: str) -> str:
    """A readable company name from its domain: "kowalski-logistics.pl" -> "Kowalski Logistics"."""
    label = _DOMAIN_PARTS(domain).domain or domain
    return " ".join(part.capitalize() for part in label.replace("_", "-").split("-") if part)


@dataclass(frozen=True, slots=True)
class Resolution:
    client_id: int
    direction: Direction


class ClientResolver:
    """Resolves clients for one import run, caching contacts and names in memory.

    New clients and contacts are decided in memory and written in bulk by ``store_new``: until then a
    new client has a provisional (negative) id, which ``store_new`` maps to its stored id.

    Order: a forced client; a known contact of a counterpart; the source's client hint (chat title,
    CSV client column); a known company domain; else a new client named after the hint, the company
    domain or the person. Our own side (internal domains and addresses, users' addresses, phones
    and names; a user's freemail address is ours, not its whole domain) is never a counterpart.
    Bulk mail (see ``is_bulk``) is identified by its author alone: its other parties stay
    participants and never become contacts.
    """

    def __init__(
        self,
        session: Session,
        *,
        internal_domains: Collection[str],
        internal_addresses: Collection[str] = (),
        phone_region: str,
        forced_client: str | None = None,
    ):
        self._session = session
        self._region = phone_region
        self._contacts = repository.load_contacts(session)
        self._domains_of: dict[int, set[str]] = {}
        for (kind, value), client_id in self._contacts.items():
            if kind == ContactKind.DOMAIN:
                self._domains_of.setdefault(client_id, set()).add(value)
        self._names = repository.load_client_names(session)
        self._our_emails, self._our_phones, self._our_names = repository.load_internal_identities(session)
        self._our_emails.update(a.lower() for a in internal_addresses)
        self._our_domains = {d.lower() for d in internal_domains}
        self._our_domains.update(filter(is_company_domain, (email_domain(e) for e in self._our_emails)))
        self._new_clients: dict[int, str] = {}  # provisional id -> name, not stored yet
        self._stored_ids: dict[int, int] = {}  # provisional id -> stored id, for every client this run stored
        self._new_contacts: list[repository.NewContact] = []  # not stored yet
        self._forced_id = self._client_by_name(forced_client) if forced_client else None
        self.merged: set[int] = set()  # clients that absorbed another one in this run

    def store_new(self) -> dict[int, int]:
        """Write the clients and contacts decided since the last call; return {provisional id: stored id} of
        every client this resolver created (a provisional id is never used twice)."""
        self._store_new_clients()
        contacts = [c._replace(client_id=self._stored_ids.get(c.client_id, c.client_id)) for c in self._new_contacts]
        self._new_contacts.clear()
        for (kind, value), owner in repository.add_contacts(self._session, contacts).items():
            self._remember_owner(kind, value, owner)
        return self._stored_ids

    def stored_id(self, client_id: int) -> int:
        """The stored id of ``client_id`` (writing what is pending when it is provisional)."""
        return self.store_new().get(client_id, client_id) if client_id < 0 else client_id

    def _store_new_clients(self) -> None:
        if not self._new_clients:
            return
        ids = repository.create_clients(self._session, list(self._new_clients.values()))
        for temp, name in self._new_clients.items():
            stored = self._stored_ids[temp] = self._names[repository.name_key(name)] = ids[repository.name_key(name)]
            self._domains_of.setdefault(stored, set()).update(self._domains_of.pop(temp, set()))
        self._new_clients.clear()
        if self._forced_id is not None:
            self._forced_id = self._stored_ids.get(self._forced_id, self._forced_id)

    def _remember_owner(self, kind: str, value: str, owner: int) -> None:
        self._contacts[(kind, value)] = owner
        if kind == ContactKind.DOMAIN:
            self._domains_of.setdefault(owner, set()).add(value)

    def is_ours(self, party: Party) -> bool:
        """True when the party is on our side (an agent, not the client)."""
        if party.kind is ContactKind.EMAIL and party.value:
            return party.value in self._our_emails or email_domain(party.value) in self._our_domains
        if party.kind is ContactKind.PHONE and party.value in self._our_phones:
            return True
        return bool(party.name and repository.name_key(party.name) in self._our_names)

    def resolve(self, item: ParsedInteraction) -> Resolution:
        """The client and direction of ``item``; raises ParseError when no client can be told."""
        author_ours = self.is_ours(item.author)
        counterparts = (
            []
            if item.channel in INTERNAL_CHANNELS
            else [p for p in (item.author, *item.recipients) if not self.is_ours(p)]
        )
        bulk = is_bulk(item)
        identifying = ([] if author_ours else counterparts[:1]) if bulk else counterparts
        client_id = self._forced_id or self._known_client(identifying, item.client_hint)
        if client_id is None:
            client_id = self._new_client(identifying, item.client_hint, bulk=bulk)
        self._remember_contacts(client_id, identifying)
        return Resolution(client_id, self._direction(item, author_ours, counterparts))

    def _known_client(self, counterparts: list[Party], hint: str | None) -> int | None:
        for party in counterparts:
            if party.kind in STRONG_KINDS and party.value and (found := self._contacts.get((party.kind, party.value))):
                return found
        if hint and (found := self._client_by_hint(hint)):
            return found
        for domain in self._company_domains(counterparts):
            if found := self._contacts.get((ContactKind.DOMAIN, domain)):
                return found
        return None

    def _client_by_hint(self, hint: str) -> int | None:
        if found := self._names.get(repository.name_key(hint)):
            return found
        value = hint.strip()
        if "@" in value:
            return self._contacts.get((ContactKind.EMAIL, normalize_email(value)))
        if phone := normalize_phone(value, self._region):
            return self._contacts.get((ContactKind.PHONE, phone))
        return self._contacts.get((ContactKind.DOMAIN, value.lower()))

    def _new_client(self, counterparts: list[Party], hint: str | None, *, bulk: bool) -> int:
        domains = self._company_domains(counterparts)
        if hint:
            return self._client_for_hint(hint)
        if domains:
            return self._client_for_domain(domains[0])
        if label := next(filter(None, (p.name or p.value for p in counterparts)), None):
            return self._client_by_name(label)
        if bulk:
            raise ParseError(
                "cannot tell which client this belongs to: bulk mail is identified only by its "
                "sender, which is in our company or missing, and there is no client hint "
                "(use --client NAME)"
            )
        raise ParseError(
            "cannot tell which client this belongs to: no counterpart outside our "
            "company and no client hint (use --client NAME)"
        )

    def _client_for_hint(self, hint: str) -> int:
        """A new client from a hint; a hint that is an address, domain or phone becomes its contact."""
        value = hint.strip()
        if "@" in value:
            address = normalize_email(value)
            domain = email_domain(address)
            client_id = self._client_for_domain(domain) if is_company_domain(domain) else self._client_by_name(value)
            self._add_contact(client_id, ContactKind.EMAIL, address, None)
            return client_id
        if phone := normalize_phone(value, self._region):
            client_id = self._client_by_name(value)
            self._add_contact(client_id, ContactKind.PHONE, phone, None)
            return client_id
        if DOMAIN_LIKE.fullmatch(value):
            return self._client_for_domain(value.lower())
        return self._client_by_name(value)

    def register(self, entry: ParsedClient) -> int:
        """Apply a client directory entry: its contacts (and their history) belong to this client."""
        client_id = self.stored_id(self._client_by_name(entry.name))
        for party in entry.contacts:
            key = self._contact_key(party)
            if key is None:
                continue
            owner = self._contacts.get(key)
            if owner is None:
                self._add_contact(client_id, key[0], key[1], None)
            elif owner != client_id:
                self._merge(keep=client_id, drop=self.stored_id(owner))
        if entry.owner and not repository.set_client_owner(self._session, client_id, entry.owner):
            raise ParseError(f"owner {entry.owner!r} is not a known user (create the user first)")
        return client_id

    def _contact_key(self, party: Party) -> tuple[ContactKind, str] | None:
        if party.kind is ContactKind.DOMAIN and party.value is not None:
            domain = party.value.strip().lower().lstrip("@").removeprefix("www.")
            return (ContactKind.DOMAIN, domain) if domain else None
        normalized = normalize_party(party, self._region)
        return (normalized.kind, normalized.value) if normalized.kind and normalized.value else None

    def _merge(self, *, keep: int, drop: int) -> None:
        self.store_new()
        repository.merge_clients(self._session, keep=keep, drop=drop)
        for key, owner in self._contacts.items():
            if owner == drop:
                self._contacts[key] = keep
        for name, owner in self._names.items():
            if owner == drop:
                self._names[name] = keep
        self._domains_of.setdefault(keep, set()).update(self._domains_of.pop(drop, set()))
        self.merged.add(keep)

    def _remember_contacts(self, client_id: int, counterparts: list[Party]) -> None:
        for party in counterparts:
            if party.kind in STRONG_KINDS and party.value and (party.kind, party.value) not in self._contacts:
                self._add_contact(client_id, party.kind, party.value, party.name)

    def _add_contact(self, client_id: int, kind: ContactKind, value: str, name: str | None) -> None:
        self._new_contacts.append(repository.NewContact(client_id, kind, value, name))
        self._remember_owner(kind, value, client_id)

    def _client_for_domain(self, domain: str) -> int:
        """The client named after ``domain`` (with it as a contact); the full domain names it when a
        namesake owns another domain."""
        if owner := self._contacts.get((ContactKind.DOMAIN, domain)):
            return owner
        client_id = self._client_by_name(company_name(domain))
        owned = self._domains_of.get(client_id, set())
        if owned and domain not in owned:
            client_id = self._client_by_name(domain)
        self._add_contact(client_id, ContactKind.DOMAIN, domain, None)
        return client_id

    def _client_by_name(self, name: str) -> int:
        key = repository.name_key(name)
        if key not in self._names:
            provisional = -1 - len(self._new_clients) - len(self._stored_ids)
            self._new_clients[provisional] = name
            self._names[key] = provisional
        return self._names[key]

    def _company_domains(self, counterparts: list[Party]) -> list[str]:
        domains = (email_domain(p.value) for p in counterparts if p.kind is ContactKind.EMAIL and p.value)
        return list(dict.fromkeys(d for d in domains if is_company_domain(d)))

    @staticmethod
    def _direction(item: ParsedInteraction, author_ours: bool, counterparts: list[Party]) -> Direction:
        if item.channel in INTERNAL_CHANNELS:
            return Direction.INTERNAL
        if item.outbound is not None:
            return Direction.OUTBOUND if item.outbound else Direction.INBOUND
        if author_ours:
            with_client = counterparts or item.channel in (Channel.CHAT, Channel.CALL)
            return Direction.OUTBOUND if with_client else Direction.INTERNAL
        return Direction.INBOUND if item.author.name or item.author.value else Direction.UNKNOWN
