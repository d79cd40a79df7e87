"""Log lines carry the request and event ids, as JSON in production."""

from __future__ import annotations

import json
import logging

from shared import logs
from shared.natsauth import new_key_pair
from shared.settings import ServiceSettings


def record(message: str) -> logging.LogRecord:
    return logging.LogRecord("danvan.test", logging.INFO, __file__, 1, message, (), None)


def test_json_lines_carry_the_ids_of_the_request_and_event_being_handled():
    request_token = logs.request_id.set("req-1")
    event_token = logs.event_id.set("evt-9")
    try:
        line = logs.JsonFormatter("intake").format(record("báo cáo %s đã nhận"))
    finally:
        logs.request_id.reset(request_token)
        logs.event_id.reset(event_token)
    entry = json.loads(line)
    assert entry["service"] == "intake"
    assert entry["request_id"] == "req-1" and entry["event_id"] == "evt-9"
    assert entry["message"] == "báo cáo %s đã nhận"
    assert "báo cáo" in line  # UTF-8 kept readable, not \\u-escaped


def test_text_lines_name_the_ids_only_when_there_are_some():
    formatter = logs.TextFormatter()
    assert "[" not in formatter.format(record("khởi động"))
    token = logs.request_id.set("req-2")
    try:
        assert formatter.format(record("x")).endswith("[request=req-2]")
    finally:
        logs.request_id.reset(token)


def test_production_logs_json_and_development_text_unless_told():
    seed = new_key_pair().seed
    assert ServiceSettings(env="production", database_url="sqlite://", nats_nkey_seed=seed).log_json
    assert not ServiceSettings(env="development").log_json
    assert ServiceSettings(env="development", log_format="json").log_json
