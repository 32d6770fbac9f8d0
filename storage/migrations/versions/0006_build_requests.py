"""build requests: summaries readers asked for, queued by the web service for the batch to build

Revision ID: 0006
Revises: 0005
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0006'
down_revision: str | None = '0005'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('build_requests',
    sa.Column('client_id', sa.Integer(), nullable=False),
    sa.Column('scope_key', sa.String(length=255), nullable=False),
    sa.Column('language', sa.String(length=8), nullable=False),
    sa.Column('requested_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['client_id'], ['clients.id'], name=op.f('fk_build_requests_client_id_clients'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('client_id', 'scope_key', 'language', name=op.f('pk_build_requests'))
    )


def downgrade() -> None:
    op.drop_table('build_requests')
