"""Our users as the readers of digests and reports."""

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from storage.errors import DossierError
from storage.models import User


def find_user(session: Session, ref: str) -> User:
    """A user by login or e-mail; DossierError when there is none."""
    user = session.scalar(select(User).where(or_(User.login == ref, User.email == ref.lower())))
    if user is None:
        raise DossierError(f"no user {ref!r}: check the login or e-mail")
    return user
