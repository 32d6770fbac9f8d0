"""Corrections: the typed mark that makes a note a reader's correction of a summary, and the claim it corrects

Revision ID: 0011
Revises: 0010
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0011'
down_revision: str | None = '0010'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('corrections',
    sa.Column('interaction_id', sa.Integer(), nullable=False),
    sa.Column('client_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('claim_kind', sa.String(length=16), nullable=True),
    sa.Column('claim_topic', sa.Text(), nullable=True),
    sa.Column('claim_hash', sa.String(length=64), nullable=True),
    sa.Column('claim_sources', sa.JSON(), nullable=False),
    sa.Column('engine', sa.String(length=64), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['client_id'], ['clients.id'], name=op.f('fk_corrections_client_id_clients'),
                            ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['interaction_id'], ['interactions.id'],
                            name=op.f('fk_corrections_interaction_id_interactions'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_corrections_user_id_users'),
                            ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('interaction_id', name=op.f('pk_corrections'))
    )
    op.create_index(op.f('ix_corrections_client_id'), 'corrections', ['client_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_corrections_client_id'), table_name='corrections')
    op.drop_table('corrections')
