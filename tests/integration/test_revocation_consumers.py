"""Every consuming service refuses a revoked token within 5 seconds: a TokensRevoked written to
the registry's outbox goes out through its real relay and real NATS, and each service's
durable consumer and revocation table pick it up (two intake replicas on one database, a
replica restarted while revocations were published)."""

from __future__ import annotations

import time
from datetime import UTC, datetime

from services.intake.app import create_app as create_intake
from tests.integration.revocation_town import (
    PROBES,
    REVOKED_WITHIN,
    accepted,
    refused,
    town,
)
from tests.support.http import eventually, serve_app

CONSUMERS = [name for name in PROBES if name != "registry"]


async def test_a_revoked_subject_is_refused_by_every_service_and_a_new_token_works(
    nats_server, databases, tmp_path
):
    async with town(nats_server, databases, tmp_path) as city:
        old = await city.token("18115")
        assert accepted(await city.answers(old, CONSUMERS))

        started = time.monotonic()
        await city.revoke_through_outbox("18115", "deactivated", valid_after=datetime.now(UTC))

        async def all_refuse() -> bool:
            return refused(await city.answers(old, CONSUMERS))

        await eventually(all_refuse, timeout=REVOKED_WITHIN)
        assert time.monotonic() - started < REVOKED_WITHIN
        # A token issued after the revocation is accepted everywhere, and another account's
        # token was never touched.
        assert accepted(await city.answers(await city.token("18115"), CONSUMERS))
        assert accepted(await city.answers(await city.token("18118"), CONSUMERS))


async def test_a_signed_out_token_is_refused_and_the_same_users_other_token_is_not(
    nats_server, databases, tmp_path
):
    async with town(nats_server, databases, tmp_path) as city:
        import jwt

        signed_out, other = await city.token("pnv"), await city.token("pnv")
        token_id = jwt.decode(signed_out, options={"verify_signature": False})["jti"]
        await city.revoke_through_outbox("pnv", "logout", token_id=token_id)

        async def refused_everywhere() -> bool:
            return refused(await city.answers(signed_out, CONSUMERS))

        await eventually(refused_everywhere, timeout=REVOKED_WITHIN)
        assert accepted(await city.answers(other, CONSUMERS))


async def test_a_restarted_replica_knows_earlier_revocations_and_learns_missed_ones(
    nats_server, databases, tmp_path
):
    async with town(nats_server, databases, tmp_path) as city:
        first, second = await city.token("18115"), await city.token("18121")
        replica = create_intake(city.intake_settings)
        async with serve_app(replica) as url:
            city.urls["intake-3"], city.probes["intake-3"] = url, "/v1/reports"
            await city.revoke_through_outbox("18115", "password_reset")

            async def replica_refuses() -> bool:
                return refused(await city.answers(first, ["intake-3"]))

            await eventually(replica_refuses, timeout=REVOKED_WITHIN)
        # While the replica is stopped, another revocation is published (the other replicas
        # get it; the replica's durable consumer is shared with them).
        await city.revoke_through_outbox("18121", "role_changed")

        async def others_refuse() -> bool:
            return refused(await city.answers(second, ["intake", "intake-2"]))

        await eventually(others_refuse, timeout=REVOKED_WITHIN)

        restarted = create_intake(city.intake_settings)
        async with serve_app(restarted) as url:
            city.urls["intake-3"] = url
            # From the first request on, both are refused: read from its table at start.
            assert refused(await city.answers(first, ["intake-3"]))
            assert refused(await city.answers(second, ["intake-3"]))
