"""activation codes

Accounts an admin creates (and accounts an admin resets) get a one-time activation code with
which their holder sets their own password; only its SHA-256 is stored. An account whose
password is not set yet has an empty password hash, which no password matches.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 14:45:00

"""

from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

import shared.db

# revision identifiers, used by Alembic.
revision: str = "0007"
down_revision: Union[str, Sequence[str], None] = "0006"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    op.create_table(
        "activation_codes",
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("issued_by", sa.String(length=100), nullable=False),
        sa.Column("issued_at", shared.db.UtcDateTime(), nullable=False),
        sa.Column("expires_at", shared.db.UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("username"),
    )


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_table("activation_codes")
