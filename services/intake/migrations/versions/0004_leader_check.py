"""leader check (plan II.5)

Units keep the leader the registry holds for them; each version keeps the leader it was
checked against and whether the unit reported a change.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03 08:00:00.000000

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '0004'
down_revision: Union[str, Sequence[str], None] = '0003'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table('units', schema=None) as batch_op:
        batch_op.add_column(sa.Column('leader', sa.JSON(), nullable=True))
    with op.batch_alter_table('report_versions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('leader_on_record', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('leader_changed', sa.Boolean(), nullable=True))


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('report_versions', schema=None) as batch_op:
        batch_op.drop_column('leader_changed')
        batch_op.drop_column('leader_on_record')
    with op.batch_alter_table('units', schema=None) as batch_op:
        batch_op.drop_column('leader')
