"""The demo's sample: a generated multi-channel history (``sample``), synthesized calls (``calls``) and the
sample's own team."""

from dossier.demo.sample import Sample
from dossier.settings import get_settings
from ingest.normalize import normalize_phone
from storage import repository
from storage.db import session_scope


def register_team(sample: Sample) -> None:
    """Our own users from the sample: their addresses, phones and names mark our side."""
    region = get_settings().default_phone_region
    with session_scope(get_settings().database_url) as session:
        for user in sample.users:
            repository.upsert_user(
                session,
                login=user.login,
                name=user.name,
                email=user.email,
                phone=normalize_phone(user.phone, region),
                role=user.role,
                team=user.team,
                language=user.language,
            )
