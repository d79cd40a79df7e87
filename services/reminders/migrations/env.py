"""Alembic environment of the reminders service."""

from alembic import context

from services.reminders.db import metadata
from shared.migrations import run_env

run_env(context, metadata)
