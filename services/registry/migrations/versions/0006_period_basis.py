"""period basis

Ad-hoc requests record the document that asked for them (`RequestBasis`: document type,
number, date, issuer, subject); periodic reports and requests made before this revision have
none.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 14:20:00

"""

from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision: str = "0006"
down_revision: Union[str, Sequence[str], None] = "0005"
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table("periods") as batch:
        batch.add_column(sa.Column("basis", sa.JSON(), nullable=True))


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table("periods") as batch:
        batch.drop_column("basis")
