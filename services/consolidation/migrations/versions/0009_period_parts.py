"""period versions staged while their expected set arrives in parts

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 18:30:00.000000

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import shared.db


# revision identifiers, used by Alembic.
revision: str = '0009'
down_revision: Union[str, Sequence[str], None] = '0008'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        'period_parts',
        sa.Column('period_id', sa.String(length=32), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('part', sa.Integer(), nullable=False),
        sa.Column('payload', sa.Text(), nullable=True),
        sa.Column('event_id', sa.String(length=36), nullable=True),
        sa.Column('occurred_at', shared.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column('producer', sa.String(length=64), nullable=True),
        sa.Column('applied_at', shared.db.UtcDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint('period_id', 'version', 'part'),
    )


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_table('period_parts')
