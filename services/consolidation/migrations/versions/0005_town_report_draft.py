"""the town report's draft, the picked excerpts, and the ad-hoc request's basis

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 11:00:00.000000

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
    op.create_table('drafts',
    sa.Column('period_id', sa.String(length=32), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('saved_at', shared.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('saved_by', sa.String(length=64), nullable=False),
    sa.Column('saved_by_name', sa.String(length=200), nullable=False),
    sa.Column('parts', sa.JSON(), nullable=False),
    sa.Column('reports', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('period_id')
    )
    op.create_table('draft_saves',
    sa.Column('period_id', sa.String(length=32), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('saved_at', shared.db.UtcDateTime(timezone=True), nullable=False),
    sa.Column('saved_by', sa.String(length=64), nullable=False),
    sa.Column('saved_by_name', sa.String(length=200), nullable=False),
    sa.PrimaryKeyConstraint('period_id', 'version')
    )
    op.create_table('highlights',
    sa.Column('period_id', sa.String(length=32), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('highlights', sa.JSON(), nullable=False),
    sa.Column('changed_by', sa.String(length=64), nullable=False),
    sa.Column('changed_at', shared.db.UtcDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('period_id')
    )
    with op.batch_alter_table('periods', schema=None) as batch_op:
        batch_op.add_column(sa.Column('basis', sa.JSON(), nullable=True))


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('periods', schema=None) as batch_op:
        batch_op.drop_column('basis')
    op.drop_table('highlights')
    op.drop_table('draft_saves')
    op.drop_table('drafts')
