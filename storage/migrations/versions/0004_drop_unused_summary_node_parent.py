"""drop unused summary node parent

Revision ID: 0004
Revises: 0003
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0004'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('summary_nodes', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_summary_nodes_parent_id_summary_nodes'), type_='foreignkey')
        batch_op.drop_column('parent_id')



def downgrade() -> None:
    with op.batch_alter_table('summary_nodes', schema=None) as batch_op:
        batch_op.add_column(sa.Column('parent_id', sa.INTEGER(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_summary_nodes_parent_id_summary_nodes'), 'summary_nodes', ['parent_id'], ['id'], ondelete='SET NULL')

