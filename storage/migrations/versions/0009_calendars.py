"""calendar sources (no passwords, only where to read them) and the meetings their last sync read

Revision ID: 0009
Revises: 0008
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0009'
down_revision: str | None = '0008'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('calendar_sources',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=128), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('location', sa.Text(), nullable=False),
    sa.Column('username', sa.String(length=320), nullable=True),
    sa.Column('password_env', sa.String(length=255), nullable=True),
    sa.Column('password_file', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_synced_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_calendar_sources')),
    sa.UniqueConstraint('name', name=op.f('uq_calendar_sources_name'))
    )
    op.create_table('meetings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('source_id', sa.Integer(), nullable=False),
    sa.Column('uid', sa.String(length=512), nullable=False),
    sa.Column('starts_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ends_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('timezone', sa.String(length=64), nullable=False),
    sa.Column('title', sa.Text(), nullable=False),
    sa.Column('organizer', sa.String(length=320), nullable=True),
    sa.Column('attendees', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['source_id'], ['calendar_sources.id'], name=op.f('fk_meetings_source_id_calendar_sources'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_meetings')),
    sa.UniqueConstraint('source_id', 'uid', 'starts_at', name=op.f('uq_meetings_source_id'))
    )
    op.create_index(op.f('ix_meetings_starts_at'), 'meetings', ['starts_at'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_meetings_starts_at'), table_name='meetings')
    op.drop_table('meetings')
    op.drop_table('calendar_sources')
