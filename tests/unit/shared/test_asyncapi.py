"""The AsyncAPI documents describe every event each service publishes, and the committed
copies in docs/asyncapi are current."""

from __future__ import annotations

import json
from pathlib import Path

from shared.asyncapi import generate
from shared.contracts import consolidation, intake, registry, reminders

PUBLISHED = {
    "registry": {
        registry.UNIT_CHANGED,
        registry.PERIOD_CHANGED_V2,
        registry.PERIOD_EXPECTED_UNITS,
        registry.TOKENS_REVOKED,
    },
    "intake": {
        intake.REPORT_SUBMITTED,
        intake.REPORT_WITHDRAWN,
        intake.REPORT_REVIEWED,
        intake.DIFFICULTY_RAISED,
        intake.DIFFICULTY_ANSWERED,
        intake.DIFFICULTY_FOLLOWED_UP,
    },
    "reminders": {reminders.REMINDER_SENT, reminders.REMINDER_FAILED},
    "consolidation": {
        consolidation.CONSOLIDATION_UPDATED,
        consolidation.DRAFT_SAVED,
        consolidation.HIGHLIGHTS_CHANGED,
    },
}

DOCS = Path(__file__).resolve().parents[3] / "docs" / "asyncapi"


def test_each_service_documents_the_events_it_publishes_with_their_schema(tmp_path):
    written = {path.stem: json.loads(path.read_text()) for path in generate(tmp_path)}
    assert set(written) == set(PUBLISHED)
    for service, subjects in PUBLISHED.items():
        operations = written[service]["operations"]
        sends = {
            op["channel"]["$ref"].split("/")[-1].split(":", 1)[1]
            for op in operations.values()
            if op["action"] == "send"
        }
        assert sends == subjects, service
        schemas = json.dumps(written[service]["components"]["schemas"])
        assert "event_id" in schemas and "payload" in schemas


def test_committed_documents_are_current(tmp_path):
    for path in generate(tmp_path):
        committed = DOCS / path.name
        assert committed.exists(), f"run `make asyncapi` ({path.name} missing)"
        assert json.loads(committed.read_text()) == json.loads(path.read_text()), (
            f"docs/asyncapi/{path.name} is stale: run `make asyncapi`"
        )
