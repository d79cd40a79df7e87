"""the withdrawn report of a missing unit's standing

A unit without a current report whose last report was withdrawn keeps that report's id in
its standing, so the completeness read (from the counters) can show it. Existing rows start
without it and get it from the unit's next event; nothing is recounted.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02 09:00:00.000000

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
    with op.batch_alter_table('unit_progress', schema=None) as batch_op:
        batch_op.add_column(sa.Column('withdrawn_report_id', sa.String(length=64), nullable=True))


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('unit_progress', schema=None) as batch_op:
        batch_op.drop_column('withdrawn_report_id')
