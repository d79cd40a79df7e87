"""drafts

A unit's draft of its report for a period (saved with its problems, never sent), and the
year of each period (a draft's head start reads the same year's six-month report).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03 09:00:00.000000

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import shared.db


# revision identifiers, used by Alembic.
revision: str = '0005'
down_revision: Union[str, Sequence[str], None] = '0004'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        'drafts',
        sa.Column('period_id', sa.String(length=32), nullable=False),
        sa.Column('unit_code', sa.String(length=32), nullable=False),
        sa.Column('content', sa.JSON(), nullable=False),
        sa.Column('saved_at', shared.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column('saved_by', sa.String(length=64), nullable=False),
        sa.Column('revision', sa.Integer(), nullable=False),
        sa.Column('prefilled_from', sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint('period_id', 'unit_code'),
    )
    with op.batch_alter_table('periods', schema=None) as batch_op:
        batch_op.add_column(sa.Column('year', sa.Integer(), nullable=True))


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('periods', schema=None) as batch_op:
        batch_op.drop_column('year')
    op.drop_table('drafts')
