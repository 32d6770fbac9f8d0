"""hardening: web sessions, large quarantined inputs, decode issues

Revision ID: 0005
Revises: 0004
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0005'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('quarantine_blobs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('quarantine_id', sa.Integer(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('data', sa.LargeBinary(), nullable=False),
    sa.ForeignKeyConstraint(['quarantine_id'], ['quarantine.id'], name=op.f('fk_quarantine_blobs_quarantine_id_quarantine'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_quarantine_blobs')),
    sa.UniqueConstraint('quarantine_id', 'seq', name=op.f('uq_quarantine_blobs_quarantine_id'))
    )
    with op.batch_alter_table('quarantine_blobs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_quarantine_blobs_quarantine_id'), ['quarantine_id'], unique=False)
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.add_column(sa.Column('kind', sa.String(length=16), nullable=False, server_default='api'))
        batch_op.add_column(sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table('interactions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('decode_issue', sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('interactions', schema=None) as batch_op:
        batch_op.drop_column('decode_issue')
    with op.batch_alter_table('api_tokens', schema=None) as batch_op:
        batch_op.drop_column('expires_at')
        batch_op.drop_column('kind')
    with op.batch_alter_table('quarantine_blobs', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_quarantine_blobs_quarantine_id'))
    op.drop_table('quarantine_blobs')
