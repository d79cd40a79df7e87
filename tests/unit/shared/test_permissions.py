"""The one table of who may do what, pinned whole: a change to it is a decision, made here."""

from __future__ import annotations

import pytest

from services.portal.session import anonymous_session
from shared.auth import ROLE_PERMISSIONS, ROLES, Permission, Principal, role_may
from shared.errors import Forbidden

P = Permission

TABLE = {
    "unit": {P.SUBMIT, P.READ_ATTACHMENTS},
    "reviewer": {
        P.READ_REPORTS,
        P.REVIEW,
        P.MANAGE_PERIODS,
        P.URGE,
        P.READ_CONTACTS,
        P.READ_ATTACHMENTS,
    },
    "leader": {P.READ_REPORTS},
    "admin": {
        P.READ_REPORTS,
        P.REVIEW,
        P.MANAGE_PERIODS,
        P.URGE,
        P.READ_CONTACTS,
        P.READ_ATTACHMENTS,
        P.ADMINISTER,
    },
    # Machine readers read what leaders read, in intake as in consolidation, reminders and
    # the portal (docs/ARCHITECTURE.md, "Permissions").
    "service": {P.READ_REPORTS},
}


def test_the_table_is_exactly_this() -> None:
    assert set(ROLE_PERMISSIONS) == set(ROLES)
    assert {role: set(granted) for role, granted in ROLE_PERMISSIONS.items()} == TABLE


def test_every_permission_is_somebodys_and_only_units_submit() -> None:
    granted = set().union(*ROLE_PERMISSIONS.values())
    assert granted == set(Permission)
    assert [role for role in ROLES if role_may(role, P.SUBMIT)] == ["unit"]
    assert [role for role in ROLES if role_may(role, P.ADMINISTER)] == ["admin"]


@pytest.mark.parametrize("role", ROLES)
def test_tokens_and_portal_sessions_read_the_same_table(role) -> None:
    principal = Principal(username="x", role=role, unit_code="18115" if role == "unit" else None)
    session = anonymous_session(0).sign_in(
        token="t",
        username="x",
        role=role,
        unit_code=principal.unit_code,
        display_name="",
        now=0,
        expires_at=3600,
    )
    for permission in Permission:
        expected = permission in TABLE[role]
        assert principal.may(permission) is expected, (role, permission)
        assert session.may(permission) is expected, (role, permission)
        if expected:
            principal.require(permission)
        else:
            with pytest.raises(Forbidden):
                principal.require(permission)


def test_unknown_roles_and_anonymous_sessions_have_no_permission() -> None:
    assert not any(role_may(role, p) for role in (None, "", "root") for p in Permission)
    assert not any(anonymous_session(0).may(p) for p in Permission)
