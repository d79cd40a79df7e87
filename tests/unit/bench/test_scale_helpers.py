"""The scale run's generated registry, its request split and its metrics reading."""

from __future__ import annotations

import unicodedata

import pytest

from bench.scale import counter, generated_units, seed_document, split
from services.registry.seed_files import load_seed
from services.registry.unit_rules import CODE_PATTERN


def test_generated_units_are_a_third_communes_with_unique_codes_and_names():
    units = generated_units(3000)
    assert len(units) == 3000
    kinds = [u.kind for u in units]
    assert kinds.count("commune") == 1000
    assert kinds.count("department") == 2000
    assert len({u.code for u in units}) == 3000
    assert len({u.name for u in units}) == 3000
    assert all(CODE_PATTERN.match(u.code) for u in units)
    assert all(unicodedata.is_normalized("NFC", u.name) for u in units)
    assert len({u.order for u in units}) == 3000


def test_some_generated_departments_report_on_communication():
    units = generated_units(300)
    tagged = [u for u in units if "communication" in u.tags]
    assert tagged and all(u.kind == "department" for u in tagged)
    assert all(u.as_seed()["tags"] == ["communication"] for u in tagged)
    assert "tags" not in units[0].as_seed()


def test_seed_document_keeps_the_packaged_units_and_reaches_the_total(tmp_path):
    import yaml

    document = seed_document(500)
    path = tmp_path / "seed.yaml"
    path.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    loaded = load_seed(path)  # the registry's own reader accepts it
    packaged = load_seed(None)
    assert [u.code for u in loaded[: len(packaged)]] == [u.code for u in packaged]
    assert sum(1 for u in loaded if u.must_report) == 500
    assert len(loaded) == 500 + sum(1 for u in packaged if not u.must_report)


def test_seed_document_refuses_fewer_units_than_the_seed():
    with pytest.raises(ValueError):
        seed_document(5)


def test_split_shares_requests_evenly():
    assert split(10, 3) == [4, 3, 3]
    assert split(10_000, 20) == [500] * 20
    assert sum(split(10_007, 20)) == 10_007
    assert split(2, 4) == [1, 1, 0, 0]


METRICS = """# HELP danvan_events_processed_total Events handled by outcome
# TYPE danvan_events_processed_total counter
danvan_events_processed_total{outcome="processed",service="consolidation",subject="a.v1"} 7.0
danvan_events_processed_total{outcome="duplicate",service="consolidation",subject="a.v1"} 2.0
danvan_events_processed_total{outcome="processed",service="consolidation",subject="b.v1"} 5.0
# HELP danvan_outbox_publish_errors_total Failed outbox publish attempts
# TYPE danvan_outbox_publish_errors_total counter
danvan_outbox_publish_errors_total{service="registry"} 3.0
"""


def test_counter_sums_the_samples_with_the_given_labels():
    name = "danvan_events_processed_total"
    assert counter(METRICS, name, subject="a.v1", outcome="processed") == 7.0
    assert counter(METRICS, name, outcome="processed") == 12.0
    assert counter(METRICS, name) == 14.0
    assert counter(METRICS, name, subject="c.v1") == 0.0
    assert counter(METRICS, "danvan_outbox_publish_errors_total", service="registry") == 3.0
