"""Claiming reminders and delivering them: the part shared by the scheduler and "urge now".

A claim is one short transaction that writes the reminder's unique dedupe key first, then
re-reads the unit's state and drops the claim if the reminder is no longer due (the unit
reported meanwhile, the period closed). Sending happens after the commit, outside any
transaction; each outcome is written with its event in a transaction of its own.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Coroutine, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.reminders import deliveries, projection
from services.reminders.channels import (
    Channel,
    Outcome,
    OutgoingMessage,
    RetryPolicy,
    deliver_with_retries,
)
from services.reminders.domain import (
    MessageContext,
    PlannedReminder,
    ReminderPolicy,
    TemplateRenderer,
    dedupe_key,
    due_reminders,
    manual_rule_id,
)
from services.reminders.metrics import RemindersMetrics
from services.reminders.recipients import delivery_targets
from shared.clock import Clock
from shared.contracts.registry import Contacts
from shared.errors import Conflict, Unprocessable

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class DeliveryOptions:
    """What the dispatcher needs from the settings."""

    portal_url: str
    reviewer_emails: tuple[str, ...] = ()
    gateway: bool = False
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    concurrency: int = 8
    lease_seconds: float = 900.0


@dataclass(frozen=True, slots=True)
class Claim:
    """Whether this process claimed a reminder, and the deliveries it must now send."""

    claimed: bool
    pending: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class UrgeResult:
    """What an "urge now" request did per unit."""

    request_id: str
    queued: tuple[str, ...]
    skipped: tuple[tuple[str, str], ...]


class _NoLongerDue(Exception):
    """Raised inside a claim transaction to roll it back."""


class Dispatcher:
    """Claims reminders under their dedupe key and delivers them through the channels."""

    def __init__(
        self,
        *,
        sessions: async_sessionmaker[AsyncSession],
        policy: ReminderPolicy,
        renderer: TemplateRenderer,
        channels: Mapping[str, Channel],
        options: DeliveryOptions,
        clock: Clock,
        metrics: RemindersMetrics,
    ) -> None:
        self._sessions = sessions
        self._policy = policy
        self._renderer = renderer
        self._channels = dict(channels)
        self._options = options
        self._clock = clock
        self._metrics = metrics
        self._slots = asyncio.Semaphore(options.concurrency)
        self._background: set[asyncio.Task[None]] = set()

    async def claim(
        self, planned: PlannedReminder, *, trigger: str, requested_by: str | None = None
    ) -> Claim:
        """Claim one reminder if it is still due; its deliveries are then this process's job."""
        now = self._clock.now()
        lease_until = datetime.now(UTC) + timedelta(seconds=self._options.lease_seconds)
        try:
            async with self._sessions() as session, session.begin():
                reminder_id = await deliveries.claim_reminder(
                    session, planned, trigger=trigger, requested_by=requested_by, now=now
                )
                if reminder_id is None:
                    return Claim(False)
                row = await projection.period_row(session, planned.period_id)
                plan = await projection.load_plan(session, row, only=[planned.unit_code])
                unit = self._recipient_unit(plan, planned, trigger)
                if unit is None or not self._still_due(plan, planned, trigger, now):
                    raise _NoLongerDue
                state = plan.states[planned.unit_code]
                expected_name = {u.code: u.name for u in plan.expected}.get(unit.code, unit.name)
                message = self._renderer.render(
                    planned,
                    MessageContext(
                        period=plan.period,
                        unit_code=unit.code,
                        unit_name=expected_name,
                        portal_url=self._options.portal_url,
                        as_of=now,
                        returned_reason=state.returned.reason if state.returned else None,
                    ),
                )
                await deliveries.set_message(session, reminder_id, message.subject, message.body)
                targets = delivery_targets(
                    planned.audience,
                    unit.leader,
                    unit.contacts,
                    reviewer_emails=self._options.reviewer_emails,
                    gateway=self._options.gateway,
                )
                pending, finished = await deliveries.add_deliveries(
                    session, reminder_id, planned, targets, now=now, lease_until=lease_until
                )
        except _NoLongerDue:
            return Claim(False)
        for done in finished:
            self._metrics.delivered(done.channel, done.outcome)
            log.warning(
                "reminder %s not delivered over %s: %s",
                planned.dedupe_key,
                done.channel,
                done.outcome,
            )
        return Claim(True, tuple(pending))

    def _recipient_unit(
        self, plan: projection.PeriodPlan, planned: PlannedReminder, trigger: str
    ) -> projection.KnownUnit | None:
        unit = plan.units.get(planned.unit_code)
        if unit is not None or trigger == "schedule":
            # The schedule waits for the registry's unit event rather than guessing.
            return unit
        name = {u.code: u.name for u in plan.expected}.get(planned.unit_code, planned.unit_code)
        return projection.KnownUnit(planned.unit_code, name, None, Contacts())

    def _still_due(
        self, plan: projection.PeriodPlan, planned: PlannedReminder, trigger: str, now: datetime
    ) -> bool:
        state = plan.states.get(planned.unit_code)
        if state is None or state.reported or plan.period.status != "open":
            return False
        if trigger != "schedule":
            return True
        already_sent = plan.sent - {planned.dedupe_key}
        due = due_reminders(self._policy, plan.period, state, now, already_sent)
        return any(p.dedupe_key == planned.dedupe_key for p in due)

    async def deliver(self, delivery_id: int) -> None:
        """Send one pending delivery with retries and record its outcome; never raises."""
        try:
            async with self._slots:
                await self._deliver(delivery_id)
        except Exception:
            # The row stays pending under its lease and is resumed once the lease runs out.
            log.exception("recording delivery %s failed", delivery_id)

    async def _deliver(self, delivery_id: int) -> None:
        async with self._sessions() as session:
            job = await deliveries.load_delivery(session, delivery_id)
        if job is None:
            return
        channel = self._channels.get(job.channel)
        if channel is None:
            outcome = Outcome(
                "failed", 0, f"Kênh gửi «{job.channel}» chưa được bật", "channel_disabled"
            )
        else:
            message = OutgoingMessage(
                dedupe_key=job.dedupe_key,
                period_id=job.period_id,
                unit_code=job.unit_code,
                rule_id=job.rule_id,
                audience=job.audience,
                recipient=job.recipient,
                subject=job.subject or "",
                body=job.body or "",
                sent_at=self._clock.now(),
            )
            outcome = await deliver_with_retries(channel, message, self._options.retry)
        async with self._sessions() as session, session.begin():
            recorded = await deliveries.record_outcome(session, job, outcome, now=self._clock.now())
        if recorded:
            self._metrics.delivered(job.channel, outcome.outcome)
            log.info(
                "reminder %s over %s: %s after %d attempt(s) %s",
                job.dedupe_key,
                job.channel,
                outcome.outcome,
                outcome.attempts,
                outcome.reason_code,
            )

    async def deliver_all(self, delivery_ids: Iterable[int]) -> None:
        """Send deliveries concurrently (bounded); one failing never holds up the others."""
        await asyncio.gather(*(self.deliver(i) for i in delivery_ids))

    async def resume_orphans(self) -> list[int]:
        """Take over deliveries left pending by a process that died while sending."""
        wall_now = datetime.now(UTC)
        async with self._sessions() as session:
            orphans = await deliveries.orphaned_deliveries(session, wall_now)
        taken = []
        lease_until = wall_now + timedelta(seconds=self._options.lease_seconds)
        for orphan in orphans:
            async with self._sessions() as session, session.begin():
                if await deliveries.take_over(session, orphan.id, orphan.leased_until, lease_until):
                    taken.append(int(orphan.id))
        if taken:
            log.warning("resuming %d delivery(ies) left pending by a stopped process", len(taken))
        return taken

    async def urge(
        self,
        period_id: str,
        unit_codes: Sequence[str] | None,
        *,
        requested_by: str,
        request_id: str | None = None,
    ) -> UrgeResult:
        """Urge the missing units (or the listed ones) now; deliveries run in the background."""
        request_id = request_id or uuid.uuid4().hex
        async with self._sessions() as session:
            row = await projection.period_row(session, period_id)
            plan = await projection.load_plan(session, row)
        if plan.period.status != "open":
            raise Conflict(
                f"Kỳ báo cáo «{period_id}» không còn mở, không đôn đốc được.",
                code="period_not_open",
            )
        if unit_codes is None:
            chosen = plan.missing()
        else:
            expected = {u.code: u for u in plan.expected}
            unknown = sorted({c for c in unit_codes if c not in expected})
            if unknown:
                raise Unprocessable(
                    "Có đơn vị không thuộc diện báo cáo của kỳ này: " + ", ".join(unknown),
                    code="unit_not_expected",
                    details={"units": unknown},
                )
            chosen = [expected[c] for c in dict.fromkeys(unit_codes)]
        rule_id = manual_rule_id(request_id)
        queued: list[str] = []
        skipped: list[tuple[str, str]] = []
        pending: list[int] = []
        for unit in chosen:
            if plan.states[unit.code].reported:
                skipped.append((unit.code, "already_reported"))
                continue
            planned = PlannedReminder(
                rule_id=rule_id,
                scheduled_at=self._clock.now(),
                dedupe_key=dedupe_key(period_id, unit.code, rule_id),
                audience="unit",
                period_id=period_id,
                unit_code=unit.code,
            )
            claim = await self.claim(planned, trigger="manual", requested_by=requested_by)
            if not claim.claimed:
                skipped.append((unit.code, "already_requested"))
                continue
            queued.append(unit.code)
            pending.extend(claim.pending)
        self.spawn(self.deliver_all(pending))
        return UrgeResult(request_id, tuple(queued), tuple(skipped))

    def spawn(self, work: Coroutine[Any, Any, None]) -> None:
        """Run deliveries after the request returns; kept so shutdown can wait for them."""
        task = asyncio.create_task(work)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def drain(self, grace_seconds: float) -> None:
        """Wait for background deliveries, then cancel what is left (it resumes later)."""
        if not self._background:
            return
        _, still_running = await asyncio.wait(set(self._background), timeout=grace_seconds)
        for task in still_running:
            task.cancel()
        await asyncio.gather(*still_running, return_exceptions=True)

    async def idle(self) -> None:
        """Wait until no background delivery is running (tests use it)."""
        while self._background:
            await asyncio.gather(*set(self._background), return_exceptions=True)
