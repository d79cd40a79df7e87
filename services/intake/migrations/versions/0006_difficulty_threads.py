"""difficulty threads

A difficulty may be raised outside any report (no version); a thread holds the follow-up
messages of both sides and says since when it waits for Phòng Nội vụ. Answers given before
this revision become the thread's first office message.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03 10:00:00.000000

"""
import uuid
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
    with op.batch_alter_table('difficulties', schema=None) as batch_op:
        batch_op.alter_column('raised_in_version', existing_type=sa.Integer(), nullable=True)
        batch_op.add_column(
            sa.Column('open_since', shared.db.UtcDateTime(timezone=True), nullable=True)
        )
    messages = op.create_table(
        'difficulty_messages',
        sa.Column('id', _BIG_ID, autoincrement=True, nullable=False),
        sa.Column('message_id', sa.String(length=36), nullable=False),
        sa.Column('difficulty_id', sa.String(length=36), nullable=False),
        sa.Column('side', sa.String(length=10), nullable=False),
        sa.Column('author', sa.String(length=64), nullable=False),
        sa.Column('role', sa.String(length=20), nullable=False),
        sa.Column('text', sa.Text(), nullable=False),
        sa.Column('posted_at', shared.db.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['difficulty_id'], ['difficulties.difficulty_id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('message_id'),
    )
    op.create_index(
        'ix_difficulty_messages_thread', 'difficulty_messages', ['difficulty_id', 'id']
    )
    op.create_index('ix_difficulties_open_since', 'difficulties', ['open_since'])
    threads = sa.table(
        'difficulties',
        sa.column('difficulty_id', sa.String()),
        sa.column('raised_at', shared.db.UtcDateTime(timezone=True)),
        sa.column('answer', sa.Text()),
        sa.column('answered_by', sa.String()),
        sa.column('answered_at', shared.db.UtcDateTime(timezone=True)),
        sa.column('open_since', shared.db.UtcDateTime(timezone=True)),
    )
    connection = op.get_bind()
    # Unanswered threads wait for Phòng Nội vụ since they were raised.
    connection.execute(
        threads.update()
        .where(threads.c.answered_at.is_(None))
        .values(open_since=threads.c.raised_at)
    )
    answered = connection.execute(
        sa.select(
            threads.c.difficulty_id,
            threads.c.answer,
            threads.c.answered_by,
            threads.c.answered_at,
        ).where(threads.c.answered_at.is_not(None))
    ).all()
    if answered:
        op.bulk_insert(
            messages,
            [
                {
                    'message_id': str(uuid.uuid4()),
                    'difficulty_id': row.difficulty_id,
                    'side': 'office',
                    'author': row.answered_by or '',
                    'role': 'reviewer',
                    'text': row.answer or '',
                    'posted_at': row.answered_at,
                }
                for row in answered
            ],
        )


def downgrade() -> None:
    """Downgrade schema."""
    op.drop_index('ix_difficulties_open_since', table_name='difficulties')
    op.drop_index('ix_difficulty_messages_thread', table_name='difficulty_messages')
    op.drop_table('difficulty_messages')
    with op.batch_alter_table('difficulties', schema=None) as batch_op:
        batch_op.drop_column('open_since')
        batch_op.alter_column('raised_in_version', existing_type=sa.Integer(), nullable=False)
