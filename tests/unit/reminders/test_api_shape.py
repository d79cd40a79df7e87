"""The reminders service has the shape of every service: described answers, one store."""

from __future__ import annotations

import re
from pathlib import Path

from services.reminders.app import create_app
from services.reminders.settings import RemindersSettings
from shared.contracts.api.reminders import DOCX_MEDIA_TYPE
from tests.support.openapi import undescribed_answers

SERVICE = Path(__file__).resolve().parents[3] / "services" / "reminders"
# Opening a session or a transaction, or a raw connection: only the store does that.
OPENS_A_SESSION = re.compile(r"sessions\(\)|\.begin\(\)|\.connect\(\)|async_sessionmaker")


def openapi() -> dict[str, object]:
    app = create_app(RemindersSettings(env="test", scheduler_enabled=False))
    return app.openapi()


def test_every_json_answer_of_the_reminders_api_is_described() -> None:
    document = openapi()

    # The shell's /healthz, /readyz and /metrics (shared/http.py) are the shared core's.
    assert [a for a in undescribed_answers(document) if " /v1/" in a] == []
    paths = document["paths"]
    assert isinstance(paths, dict)
    letter = paths["/v1/periods/{period_id}/urging-letter.docx"]["get"]["responses"]["200"]
    assert list(letter["content"]) == [DOCX_MEDIA_TYPE]


def test_only_the_store_opens_sessions() -> None:
    offenders = [
        f"{path.relative_to(SERVICE)}:{number}"
        for path in sorted(SERVICE.rglob("*.py"))
        if path.name != "store.py" and "migrations" not in path.parts
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if OPENS_A_SESSION.search(line)
    ]

    assert offenders == []


def test_no_module_is_called_handlers() -> None:
    assert not (SERVICE / "handlers.py").exists()
    assert not (SERVICE / "handlers").exists()
