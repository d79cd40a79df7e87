"""Alembic environment of the registry."""

from alembic import context

from services.registry.db import metadata
from shared.migrations import run_env

run_env(context, metadata)
