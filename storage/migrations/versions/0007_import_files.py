"""import files and the e-mail correspondence tally: re-imports skip unchanged files, our-side inference reads a tally

Revision ID: 0007
Revises: 0006
"""

import hashlib
import json
from collections import Counter
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = '0007'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('import_files',
    sa.Column('path', sa.Text(), nullable=False),
    sa.Column('size', sa.BigInteger(), nullable=False),
    sa.Column('mtime_ns', sa.BigInteger(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('imported_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('path', name=op.f('pk_import_files'))
    )
    correspondence = op.create_table('email_correspondence',
    sa.Column('addresses_key', sa.String(length=64), nullable=False),
    sa.Column('addresses', sa.JSON(), nullable=False),
    sa.Column('messages', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('addresses_key', name=op.f('pk_email_correspondence'))
    )
    op.bulk_insert(correspondence, _stored_correspondence())


def _stored_correspondence() -> list[dict[str, object]]:
    """The tally of the e-mail already stored: how many messages each set of e-mail addresses exchanged."""
    interactions = sa.table('interactions', sa.column('channel', sa.String()), sa.column('participants', sa.JSON()))
    rows = op.get_bind().execute(sa.select(interactions.c.participants).where(interactions.c.channel == 'email'))
    tally: Counter[tuple[str, ...]] = Counter()
    stored: Any
    for stored in rows.scalars():
        parties: list[dict[str, str]] = json.loads(stored) if isinstance(stored, str) else stored or []
        addresses = sorted({p['value'] for p in parties if p.get('kind') == 'email' and p.get('value')})
        if addresses:
            tally[tuple(addresses)] += 1
    return [
        {'addresses_key': hashlib.sha256('\n'.join(key).encode()).hexdigest(), 'addresses': list(key), 'messages': n}
        for key, n in tally.items()
    ]


def downgrade() -> None:
    op.drop_table('email_correspondence')
    op.drop_table('import_files')
