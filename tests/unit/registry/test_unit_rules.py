"""Unit records: what is refused, what counts as a change, and how a merger is planned."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

from services.registry.unit_rules import (
    Closure,
    HistoryEntry,
    Merger,
    UnitDraft,
    UnitIndex,
    batch_problems,
    leader_timeline,
    merge_contacts,
    merge_leader,
    pending_parts,
    plan_reorganisation,
    unit_changes,
    unit_problems,
)
from shared.contracts.registry import Contacts, Leader, UnitState

START = date(2019, 1, 1)


def ward(code: str, name: str = "UBND phường", **extra: object) -> UnitState:
    return UnitState(
        unit_id=f"{code}@{START.isoformat()}",
        code=code,
        name=name,
        kind="ward",
        valid_from=START,
        version=1,
        **extra,  # type: ignore[arg-type]
    )


def codes(problems) -> list[tuple[str, str]]:
    return [(p.field, p.code) for p in problems]


HONG_LINH = [ward(c, f"Phường {c}") for c in ("18115", "18118", "18121", "18124", "18127")] + [
    ward("18130", "Xã Thuận Lộc").model_copy(update={"kind": "commune"})
]


def test_a_valid_new_unit_has_no_problems():
    draft = UnitDraft(code="PNV2", name="Phòng mới", kind="department", valid_from=START)
    assert unit_problems(draft, UnitIndex([*HONG_LINH, draft])) == []


def test_a_code_already_valid_on_the_same_days_is_a_duplicate():
    draft = UnitDraft(code="18115", name="Trùng", kind="ward", valid_from=date(2020, 1, 1))
    assert codes(unit_problems(draft, UnitIndex([*HONG_LINH, draft]))) == [
        ("code", "duplicate_code")
    ]


def test_a_code_reused_after_the_old_record_ended_is_not_a_duplicate():
    closed = HONG_LINH[0].model_copy(update={"valid_to": date(2025, 6, 30)})
    draft = UnitDraft(code="18115", name="Bắc Hồng Lĩnh", kind="ward", valid_from=date(2025, 7, 1))
    assert unit_problems(draft, UnitIndex([closed, *HONG_LINH[1:], draft])) == []


def test_unknown_kind_parent_and_successor_and_reversed_dates_are_named_by_field():
    draft = UnitDraft(
        code="X1",
        name="Đơn vị",
        kind="province",
        valid_from=date(2024, 1, 1),
        valid_to=date(2023, 1, 1),
        parent_code="NOPE",
        successor_codes=("GONE",),
    )
    found = codes(unit_problems(draft, UnitIndex([*HONG_LINH, draft])))
    assert ("kind", "unknown_kind") in found
    assert ("valid_to", "valid_to_before_valid_from") in found
    assert ("parent_code", "unknown_parent") in found
    assert ("successor_codes", "unknown_successor") in found


def test_a_successor_must_be_valid_the_day_after_the_unit_ends():
    draft = replace(
        UnitDraft.from_state(HONG_LINH[2]), valid_to=date(2025, 6, 30), successor_codes=("18115",)
    )
    # 18115 of 2019 is still valid on 01/07/2025 here: acceptable successor.
    assert unit_problems(draft, UnitIndex([*HONG_LINH, draft])) == []
    ended = HONG_LINH[0].model_copy(update={"valid_to": date(2025, 6, 30)})
    assert codes(unit_problems(draft, UnitIndex([ended, *HONG_LINH[1:], draft]))) == [
        ("successor_codes", "unknown_successor")
    ]


def test_leader_and_contact_formats_are_checked():
    draft = UnitDraft(
        code="X2",
        name="Đơn vị",
        kind="centre",
        valid_from=START,
        leader=Leader(full_name=" ", phone="abc", email="no-at-sign"),
        contacts=Contacts(emails=("ok@example.vn", "bad"), webhook_url="ftp://x"),
    )
    assert codes(unit_problems(draft, UnitIndex([draft]))) == [
        ("leader.full_name", "leader_name_required"),
        ("leader.email", "invalid_email"),
        ("leader.phone", "invalid_phone"),
        ("contacts.emails", "invalid_email"),
        ("contacts.webhook_url", "invalid_webhook_url"),
    ]


def test_the_same_record_twice_in_a_batch_is_reported_on_the_second():
    draft = UnitDraft(code="N1", name="Mới", kind="agency", valid_from=START)
    found = batch_problems([draft, draft], HONG_LINH)
    assert list(found) == [1]
    assert found[1][0].code == "duplicate_row"


def test_changes_list_only_what_differs_with_before_and_after():
    old = ward("18115", leader=Leader(full_name="Nguyễn Văn A", phone="0912345678"))
    new = old.model_copy(
        update={"leader": Leader(full_name="Trần Thị B", phone="0987654321"), "version": 2}
    )
    changes = unit_changes(old, new)
    assert list(changes) == ["leader"]
    assert changes["leader"]["from"]["full_name"] == "Nguyễn Văn A"
    assert changes["leader"]["to"]["full_name"] == "Trần Thị B"


def test_partial_leader_and_contact_updates_keep_the_other_fields():
    leader = Leader(full_name="Nguyễn Văn A", title="Phó Chủ tịch", phone="0912345678")
    assert merge_leader(leader, {"phone": "0900000000"}) == leader.model_copy(
        update={"phone": "0900000000"}
    )
    assert merge_leader(leader, None) is None
    contacts = Contacts(emails=("a@x.vn",), phone="0239000000")
    assert merge_contacts(contacts, {"phone": "0239111111"}).emails == ("a@x.vn",)


def test_the_leader_timeline_keeps_the_previous_leader_with_both_dates():
    t0 = datetime(2024, 1, 1, tzinfo=UTC)
    first = {"full_name": "Nguyễn Văn A"}
    second = {"full_name": "Trần Thị B"}
    entries = [
        HistoryEntry(
            "18115@2019-01-01",
            "18115",
            2,
            "updated",
            "admin",
            t0,
            {"leader": {"from": None, "to": first}},
        ),
        HistoryEntry(
            "18115@2019-01-01",
            "18115",
            3,
            "updated",
            "admin",
            t0 + timedelta(days=30),
            {"leader": {"from": first, "to": second}},
        ),
    ]
    timeline = leader_timeline(entries)
    assert [r["leader"]["full_name"] for r in timeline] == ["Nguyễn Văn A", "Trần Thị B"]
    assert timeline[0]["until"] == t0 + timedelta(days=30)
    assert timeline[1]["until"] is None


MERGER_2025 = (
    Merger(
        UnitDraft(code="18115", name="Bắc Hồng Lĩnh", kind="ward", valid_from=date(2025, 7, 1)),
        ("18115", "18121", "18124"),
    ),
    Merger(
        UnitDraft(code="18118", name="Nam Hồng Lĩnh", kind="ward", valid_from=date(2025, 7, 1)),
        ("18118", "18127", "18130"),
    ),
)


def test_the_2025_merger_closes_six_units_on_30_6_and_creates_two_reusing_codes():
    plan, problems = plan_reorganisation(date(2025, 7, 1), MERGER_2025, HONG_LINH)
    assert problems == [] and plan is not None
    assert {d.valid_to for _, d in plan.closed} == {date(2025, 6, 30)}
    assert {d.code: d.successor_codes for _, d in plan.closed}["18127"] == ("18118",)
    assert [d.unit_id for d in plan.created] == ["18115@2025-07-01", "18118@2025-07-01"]


def test_a_merger_naming_an_unknown_or_repeated_predecessor_is_refused():
    bad = (
        Merger(MERGER_2025[0].successor, ("18115", "99999")),
        Merger(MERGER_2025[1].successor, ("18118", "18115")),
    )
    plan, problems = plan_reorganisation(date(2025, 7, 1), bad, HONG_LINH)
    assert plan is None
    assert {p.code for p in problems} == {"unknown_predecessor", "predecessor_repeated"}


def test_applying_the_merger_twice_is_refused_as_already_applied():
    plan, _ = plan_reorganisation(date(2025, 7, 1), MERGER_2025, HONG_LINH)
    assert plan is not None
    after = [d.to_state(2) for _, d in plan.closed] + [d.to_state(1) for d in plan.created]
    _, problems = plan_reorganisation(date(2025, 7, 1), MERGER_2025, after)
    assert {p.code for p in problems} == {"reorganisation_already_applied"}


def department(code: str) -> UnitState:
    return ward(code, f"Phòng {code}").model_copy(update={"kind": "department"})


TOWN_2025 = [*HONG_LINH, department("PNV"), department("PTP")]
END_OF_DISTRICT = (Closure("PNV"), Closure("PTP", successor_codes=("18115",)))


def test_the_town_departments_close_with_the_district_level_with_or_without_successor():
    plan, problems = plan_reorganisation(date(2025, 7, 1), MERGER_2025, TOWN_2025, END_OF_DISTRICT)
    assert problems == [] and plan is not None
    closed = {d.code: (d.valid_to, d.successor_codes) for _, d in plan.closed}
    assert closed["PNV"] == (date(2025, 6, 30), ())
    assert closed["PTP"] == (date(2025, 6, 30), ("18115",))  # the new ward, created alongside
    assert len(plan.closed) == 8 and len(plan.created) == 2


def test_a_closure_of_an_unknown_closed_or_merged_unit_is_refused():
    already = department("PTP").model_copy(update={"valid_to": date(2024, 12, 31)})
    units = [*HONG_LINH, department("PNV"), already]
    closures = (Closure("KHONGCO"), Closure("PTP"), Closure("18121"), Closure("PNV", ("ZZZ",)))
    plan, problems = plan_reorganisation(date(2025, 7, 1), MERGER_2025, units, closures)
    assert plan is None
    assert codes(problems) == [
        ("closures.0.code", "unknown_closed_unit"),
        ("closures.1.code", "unknown_closed_unit"),
        ("closures.2.code", "predecessor_repeated"),
    ]
    _, problems = plan_reorganisation(date(2025, 7, 1), MERGER_2025, units, closures[3:])
    assert codes(problems) == [("closures.0.successor_codes", "unknown_successor")]


def test_only_the_parts_not_applied_yet_are_pending():
    plan, _ = plan_reorganisation(date(2025, 7, 1), MERGER_2025, TOWN_2025[:-2])
    assert plan is not None
    # The merger was applied before the file listed the departments' closures.
    merged = [d.to_state(2) for _, d in plan.closed] + [d.to_state(1) for d in plan.created]
    after_merger = [*merged, department("PNV"), department("PTP")]
    mergers, closures = pending_parts(date(2025, 7, 1), MERGER_2025, END_OF_DISTRICT, after_merger)
    assert (mergers, closures) == ([], list(END_OF_DISTRICT))
    full, _ = plan_reorganisation(date(2025, 7, 1), [], after_merger, closures)
    assert full is not None
    done = [*merged, *(d.to_state(2) for _, d in full.closed)]
    assert pending_parts(date(2025, 7, 1), MERGER_2025, END_OF_DISTRICT, done) == ([], [])
