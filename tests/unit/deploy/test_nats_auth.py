"""One NATS permission table (shared/natsauth.py), rendered into every shipped configuration,
and every client given its own credentials (docs/SECURITY.md, "NATS")."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from shared.contracts.streams import DLQ_PREFIX, stream_for_subject
from shared.natsauth import (
    AUTHORIZATION_CONF,
    HELM_VALUES,
    NATS_SERVICES,
    OPERATOR,
    SECURITY_DOC,
    USERS,
    Permissions,
    built_buses,
    helm_authorization,
    helm_environment,
    inbox_prefix,
    key_variable,
    new_key_pair,
    permission_table,
    public_key_of,
    render_authorization,
    render_helm_block,
    replace_doc_table,
    replace_helm_block,
    secret_key,
    seed_variable,
    write_key_files,
)
from shared.settings import ServiceSettings
from tests.unit.deploy.support import (
    SECRET_EXAMPLE,
    compose,
    env_example,
    k8s_container,
    k8s_of_kind,
    load_yaml,
)


@pytest.fixture(scope="module")
def table() -> dict[str, Permissions]:
    return permission_table()


def test_the_committed_authorization_conf_is_rendered_from_the_table(
    table: dict[str, Permissions],
) -> None:
    committed = AUTHORIZATION_CONF.read_text(encoding="utf-8")
    assert committed == render_authorization(table), (
        "deploy/nats/authorization.conf is stale: run `python -m shared.natsauth render`"
    )


def test_the_helm_values_carry_the_same_users(table: dict[str, Permissions]) -> None:
    text = HELM_VALUES.read_text(encoding="utf-8")
    assert replace_helm_block(text, render_helm_block(table)) == text, (
        "deploy/k8s/nats-values.yaml is stale: run `python -m shared.natsauth render`"
    )
    values = load_yaml(HELM_VALUES)
    assert values["config"]["merge"]["authorization"] == helm_authorization(table)
    assert values["container"]["env"] == helm_environment()


def test_docs_security_shows_the_same_table(table: dict[str, Permissions]) -> None:
    doc = SECURITY_DOC.read_text(encoding="utf-8")
    assert replace_doc_table(doc, table) == doc, (
        "the NATS table of docs/SECURITY.md is stale: run `python -m shared.natsauth render`"
    )


def test_every_user_is_in_the_table_and_every_key_read_from_the_environment(
    table: dict[str, Permissions],
) -> None:
    assert tuple(table) == USERS
    conf = AUTHORIZATION_CONF.read_text(encoding="utf-8")
    assert re.findall(r"nkey: \$(\w+)", conf) == [key_variable(user) for user in USERS]


@pytest.mark.parametrize("service", sorted(NATS_SERVICES))
def test_a_service_publishes_only_its_own_events_and_dead_letters(
    table: dict[str, Permissions], service: str
) -> None:
    events = [s for s in table[service].publish if not s.startswith("$")]
    assert events[0] == f"danvan.{service}.>"
    for subject in events[1:]:
        assert subject.startswith(f"{DLQ_PREFIX}.{service}__"), subject
    api = [s for s in table[service].publish if s.startswith("$")]
    for subject in api:
        assert subject.startswith(("$JS.API.", "$JS.ACK.")), subject
        assert "DELETE" not in subject and "PURGE" not in subject and "MSG.GET" not in subject
        assert not subject.endswith(".>") or f".{service}__" in subject, subject
    assert table[service].subscribe == (f"{inbox_prefix(service)}.>",)


def test_the_table_follows_what_each_service_publishes_and_consumes(
    table: dict[str, Permissions],
) -> None:
    with built_buses() as buses:
        for service, bus in buses.items():
            published = {p.subject.broker_address for p in bus.broker._publishers}
            for subject in published:
                assert stream_for_subject(subject).subjects == (f"danvan.{service}.>",)
            for consumer in bus.consumers:
                pull = f"$JS.API.CONSUMER.MSG.NEXT.{consumer.stream.name}.{consumer.durable}"
                assert pull in table[service].publish
    consumed = [s for s in table["consolidation"].publish if "MSG.NEXT" in s]
    assert any("danvan_intake_report_submitted_v1" in s for s in consumed)
    assert not any("MSG.NEXT" in s for s in table["registry"].publish)


def test_the_operator_may_replay_and_rebuild_but_is_a_separate_user(
    table: dict[str, Permissions],
) -> None:
    assert "danvan.>" in table[OPERATOR].publish
    assert "$JS.API.>" in table[OPERATOR].publish
    assert all("danvan.>" not in table[s].publish for s in NATS_SERVICES)


def _compose_env(service: dict[str, Any]) -> dict[str, str]:
    return {str(k): str(v) for k, v in service.get("environment", {}).items()}


def test_compose_nats_nodes_get_every_public_key_and_services_their_own_seed() -> None:
    filled = env_example()
    filled.update({key_variable(user): f"key-of-{user}" for user in USERS})
    filled.update({seed_variable(user): f"seed-of-{user}" for user in USERS})
    services = compose(filled)["services"]
    for node in ("nats-1", "nats-2", "nats-3"):
        env = _compose_env(services[node])
        assert {key_variable(u): env[key_variable(u)] for u in USERS} == {
            key_variable(u): f"key-of-{u}" for u in USERS
        }
        assert not any("SEED" in name for name in env), "seeds stay with their services"
    for name, service in services.items():
        command = service.get("command", [])
        if command[:2] != ["python", "-m"]:
            continue
        module = command[2].removeprefix("services.")
        env = _compose_env(service)
        if module == "portal":
            assert "DANVAN_NATS_NKEY_SEED" not in env
        else:
            assert env["DANVAN_NATS_NKEY_SEED"] == f"seed-of-{module}", name


def test_compose_refuses_to_start_without_the_nats_keys() -> None:
    example = env_example()
    for user in USERS:
        assert example[key_variable(user)].startswith("CHANGE_ME")
        assert example[seed_variable(user)].startswith("CHANGE_ME")
    incomplete = {k: v for k, v in example.items() if k != key_variable("intake")}
    with pytest.raises(KeyError, match=key_variable("intake")):
        compose(incomplete)


def test_kubernetes_services_read_their_own_seed_from_the_secret() -> None:
    secret = load_yaml(SECRET_EXAMPLE)["stringData"]
    for user in USERS:
        assert secret_key(user, seed=False) in secret
        assert secret_key(user, seed=True) in secret
    for deployment in k8s_of_kind("Deployment"):
        container = k8s_container(deployment)
        module = container["command"][2].removeprefix("services.")
        refs = {
            var["name"]: var["valueFrom"]["secretKeyRef"]
            for var in container.get("env", [])
            if "secretKeyRef" in var.get("valueFrom", {})
        }
        if module == "portal":
            assert "DANVAN_NATS_NKEY_SEED" not in refs
            continue
        assert refs["DANVAN_NATS_NKEY_SEED"] == {
            "name": "danvan-secrets",
            "key": secret_key(module, seed=True),
        }, deployment["metadata"]["name"]


def test_production_settings_refuse_to_start_without_nats_credentials() -> None:
    base: dict[str, Any] = {"env": "production", "database_url": "postgresql://db/x"}
    with pytest.raises(ValidationError, match="DANVAN_NATS_NKEY_SEED"):
        ServiceSettings(**base)
    with pytest.raises(ValidationError, match="DANVAN_NATS_NKEY_SEED"):
        ServiceSettings(**base, nats_nkey_seed="CHANGE_ME_seed")
    ServiceSettings(**base, nats_nkey_seed=new_key_pair().seed)
    ServiceSettings(**base, nats_nkey_seed_file=Path("/run/secrets/intake.nk"))


def test_make_run_keys_are_private_and_kept_across_starts(tmp_path: Path) -> None:
    first = write_key_files(tmp_path / "nats-auth")
    assert (tmp_path / "nats-auth").stat().st_mode & 0o777 == 0o700
    for user in USERS:
        path = tmp_path / "nats-auth" / f"{user}.nk"
        assert path.stat().st_mode & 0o777 == 0o600
        assert public_key_of(path.read_text()) == first[user].public_key
    assert write_key_files(tmp_path / "nats-auth") == first
    assert len({pair.public_key for pair in first.values()}) == len(USERS)


def test_a_seed_that_is_not_a_user_nkey_is_refused() -> None:
    with pytest.raises(ValueError, match="nkey"):
        public_key_of("SUnot-a-seed")
