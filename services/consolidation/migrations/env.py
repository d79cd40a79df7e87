"""Alembic environment of consolidation."""

from alembic import context

from services.consolidation.db import metadata
from shared.migrations import run_env

run_env(context, metadata)
