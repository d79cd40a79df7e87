"""the answers' stamp of each period (period_progress.stamp); difficulties by unit

Existing rows get one value drawn at the upgrade (random like every later stamp, so it
matches no answer cached before).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 18:30:00.000000

"""
import secrets
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '0008'
down_revision: Union[str, Sequence[str], None] = '0007'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table('period_progress', schema=None) as batch_op:
        batch_op.add_column(sa.Column('stamp', sa.String(length=32), nullable=True))
    op.execute(
        sa.text("UPDATE period_progress SET stamp = :stamp").bindparams(stamp=secrets.token_hex(16))
    )
    with op.batch_alter_table('period_progress', schema=None) as batch_op:
        batch_op.alter_column('stamp', existing_type=sa.String(length=32), nullable=False)
    with op.batch_alter_table('difficulties', schema=None) as batch_op:
        batch_op.create_index('ix_difficulties_unit_period', ['unit_code', 'period_id'], unique=False)


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('difficulties', schema=None) as batch_op:
        batch_op.drop_index('ix_difficulties_unit_period')
    with op.batch_alter_table('period_progress', schema=None) as batch_op:
        batch_op.drop_column('stamp')
