import asyncio
import sys
import tempfile
from pathlib import Path

from alembic import command
from sqlalchemy.ext.asyncio import create_async_engine

from shared.migrations import alembic_config

service, message = sys.argv[1], sys.argv[2]
mdir = Path("services") / service / "migrations"


async def main():
    tmp = tempfile.mkdtemp()
    engine = create_async_engine(f"sqlite+aiosqlite:///{tmp}/x.db")
    cfg = alembic_config(mdir)
    async with engine.begin() as conn:

        def run(c):
            cfg.attributes["connection"] = c
            command.upgrade(cfg, "head")
            command.revision(cfg, message=message, autogenerate=True, rev_id=sys.argv[3])

        await conn.run_sync(run)


asyncio.run(main())
