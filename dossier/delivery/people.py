"""People in digests and reports: our users as their readers, and who a client's history names."""

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from storage.errors import DossierError
from storage.models import Contact, Interaction, User
from summarizer.notes import ClaimKind, Notes


def find_user(session: Session, ref: str) -> User:
    """A user by login or e-mail; DossierError when there is none."""
    user = session.scalar(select(User).where(or_(User.login == ref, User.email == ref.lower())))
    if user is None:
        raise DossierError(f"no user {ref!r}: check the login or e-mail")
    return user


@dataclass(frozen=True, slots=True)
class People:
    """The people a client's history names (casefolded): our users, the client's contacts, the authors and
    participants of its interactions, the people its summary describes."""

    names: frozenset[str] = frozenset()

    @classmethod
    def of(cls, names: Iterable[str | None]) -> "People":
        return cls(frozenset(" ".join(name.split()).casefold() for name in names if name and name.strip()))

    def named(self, owner: str | None) -> str | None:
        """``owner`` when it is one of these people; None for anything else, such as a call's raw speaker
        label (``agent``, ``Speaker 1``), which a reader should see as a side."""
        if owner and " ".join(owner.split()).casefold() in self.names:
            return owner.strip()
        return None


#: No one known: every owner is named by their side.
NOBODY = People()


def people_of(session: Session, client_id: int, notes: Notes) -> People:
    """Everyone named in ``client_id``'s history or its summary ``notes``, and our users."""
    users = session.scalars(select(User.name))
    contacts = session.scalars(select(Contact.display_name).where(Contact.client_id == client_id))
    authors = session.scalars(select(Interaction.author).where(Interaction.client_id == client_id).distinct())
    participants: Iterable[list[Any]] = session.scalars(
        select(Interaction.participants).where(Interaction.client_id == client_id)
    )
    described = (claim.owner for claim in notes.claims if claim.kind == ClaimKind.PERSON)
    return People.of(
        [
            *users,
            *contacts,
            *authors,
            *(entry.get("name") for entry_list in participants for entry in entry_list if isinstance(entry, dict)),
            *described,
        ]
    )
