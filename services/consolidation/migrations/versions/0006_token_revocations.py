"""token revocations

The tokens the registry revoked (shared/revocation.py), kept until they would have expired.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 14:00:00.000000

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa
import shared.db


# revision identifiers, used by Alembic.
revision: str = '0006'
down_revision: Union[str, Sequence[str], None] = '0005'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

_BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        'token_revocations',
        sa.Column('id', _BIG_ID, autoincrement=True, nullable=False),
        sa.Column('subject', sa.String(length=100), nullable=False),
        sa.Column('token_id', sa.String(length=64), nullable=True),
        sa.Column('valid_after', shared.db.UtcDateTime(timezone=True), nullable=True),
        sa.Column('forget_after', shared.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column('reason', sa.String(length=30), nullable=False),
        sa.Column('recorded_at', shared.db.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index(
        'ix_token_revocations_recorded_at', 'token_revocations', ['recorded_at']
    )
    op.create_index(
        'ix_token_revocations_forget_after', 'token_revocations', ['forget_after']
    )


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_index('ix_token_revocations_forget_after', table_name='token_revocations')
    op.drop_index('ix_token_revocations_recorded_at', table_name='token_revocations')
    op.drop_table('token_revocations')
