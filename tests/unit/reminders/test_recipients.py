from services.reminders.recipients import (
    INVALID_ADDRESS,
    INVALID_URL,
    NO_CONTACT,
    Target,
    delivery_targets,
    is_valid_email,
)
from shared.contracts.registry import Contacts, Leader

LEADER = Leader(full_name="Nguyễn Văn B", email="lanhdao@bachong.test", phone="0912 345 678")


def test_unit_reminder_goes_to_the_leader_and_every_contact_once() -> None:
    contacts = Contacts(
        emails=("vanphong@bachong.test", "LANHDAO@bachong.test"),
        phone="0239 3836 000",
        webhook_url="https://zalo.example/hook?token=x",
    )

    targets = delivery_targets("unit", LEADER, contacts)

    assert targets == [
        Target("email", "lanhdao@bachong.test"),
        Target("email", "vanphong@bachong.test"),
        Target("webhook", "https://zalo.example/hook?token=x"),
    ]


def test_phones_go_through_the_town_gateway_only_when_one_is_configured() -> None:
    contacts = Contacts(phone="0239 3836 000")

    with_gateway = delivery_targets("unit", LEADER, contacts, gateway=True)

    assert Target("webhook", "0912 345 678") in with_gateway
    assert Target("webhook", "0239 3836 000") in with_gateway
    assert all(t.channel == "email" for t in delivery_targets("unit", LEADER, contacts))


def test_escalation_goes_to_the_leader_and_the_reviewers_not_the_unit_office() -> None:
    contacts = Contacts(emails=("vanphong@bachong.test",), webhook_url="https://x.test/h")

    targets = delivery_targets("escalation", LEADER, contacts, reviewer_emails=("pnv@hl.test",))

    assert targets == [Target("email", "lanhdao@bachong.test"), Target("email", "pnv@hl.test")]


def test_a_unit_without_any_contact_is_one_undeliverable_target() -> None:
    assert delivery_targets("unit", None, Contacts()) == [Target("none", "", NO_CONTACT)]
    assert delivery_targets("escalation", None, Contacts(emails=("a@b.test",))) == [
        Target("none", "", NO_CONTACT)
    ]


def test_malformed_addresses_are_targets_with_a_problem_not_errors() -> None:
    contacts = Contacts(emails=("khong-hop-le", "a@b.test\r\nBcc: x@y.test"), webhook_url="ftp://x")

    targets = delivery_targets("unit", None, contacts)

    assert [t.problem for t in targets] == [INVALID_ADDRESS, INVALID_ADDRESS, INVALID_URL]


def test_email_validation_accepts_plain_addresses_only() -> None:
    assert is_valid_email("van.phong+h1@bac-hong.hatinh.gov.vn")
    for bad in ("", "a@b", "a b@c.vn", "<a@c.vn>", "a@c.vn\n", "Tên <a@c.vn>"):
        assert not is_valid_email(bad), bad
