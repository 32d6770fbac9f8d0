"""IMAP sources: mailboxes to sync (no passwords, only where to read them) and each folder's UIDVALIDITY and last UID

Revision ID: 0008
Revises: 0007
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0008'
down_revision: str | None = '0007'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('imap_sources',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=128), nullable=False),
    sa.Column('host', sa.String(length=255), nullable=False),
    sa.Column('port', sa.Integer(), nullable=False),
    sa.Column('username', sa.String(length=320), nullable=False),
    sa.Column('security', sa.String(length=16), nullable=False),
    sa.Column('folders', sa.JSON(), nullable=False),
    sa.Column('address', sa.String(length=320), nullable=False),
    sa.Column('password_env', sa.String(length=255), nullable=True),
    sa.Column('password_file', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('last_synced_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_imap_sources')),
    sa.UniqueConstraint('name', name=op.f('uq_imap_sources_name'))
    )
    op.create_table('imap_folders',
    sa.Column('source_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=512), nullable=False),
    sa.Column('uidvalidity', sa.BigInteger(), nullable=False),
    sa.Column('last_uid', sa.BigInteger(), nullable=False),
    sa.Column('synced_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['source_id'], ['imap_sources.id'], name=op.f('fk_imap_folders_source_id_imap_sources'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('source_id', 'name', name=op.f('pk_imap_folders'))
    )


def downgrade() -> None:
    op.drop_table('imap_folders')
    op.drop_table('imap_sources')
