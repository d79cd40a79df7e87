"""Alembic environment of the intake."""

from alembic import context

from services.intake.db import metadata
from shared.migrations import run_env

run_env(context, metadata)
