"""A batch consumer in its own process that dies (os._exit, as a SIGKILL would) right after
its first batch of several events has committed, before any of them is acknowledged.

`python -m tests.integration.messaging.batch_crash_worker DATABASE_URL NATS_URL`"""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Sequence

from sqlalchemy import event
from sqlalchemy.orm import Session

from shared.contracts.intake import ReportSubmitted
from tests.integration.messaging.harness import Harness, running, settings_for

CRASH_EXIT_CODE = 17


async def main(database_url: str, nats_url: str) -> None:
    harness = Harness(settings_for(database_url, nats_url), batch=True)
    armed = {"batch": False}

    def arm(events: Sequence[ReportSubmitted]) -> None:
        armed["batch"] = len(events) > 1

    harness.after_batch = arm

    @event.listens_for(Session, "after_commit")
    def die(_session: Session) -> None:
        if armed["batch"]:
            os._exit(CRASH_EXIT_CODE)

    async with running(harness):
        await asyncio.sleep(120)  # it dies long before; the test bounds its own wait


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2]))
