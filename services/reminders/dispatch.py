"""Claiming reminders and delivering them: the part shared by the scheduler and "urge now".

A claim is one short transaction that writes the reminder's unique dedupe key first, then
re-reads the unit's state and drops the claim if the reminder is no longer due (the unit
reported meanwhile, the period closed). Sending happens after the commit, outside any
transaction: nothing waits for an SMTP server or a webhook while a transaction is open. Each
outcome is written with its event in a transaction of its own.

Notices (an answer, an accepted report) are claimed the same way from their queue, but are
never dropped because the unit has reported or the period closed: they are news, not urging.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from sqlalchemy.ext.asyncio import AsyncSession

from services.reminders import store
from services.reminders.channels import (
    Channel,
    Outcome,
    OutgoingMessage,
    RetryPolicy,
    deliver_with_retries,
)
from services.reminders.domain import (
    Audience,
    MessageContext,
    NoticeContext,
    PlannedReminder,
    ReminderPolicy,
    TemplateRenderer,
    defer_to_sending_window,
    due_reminders,
)
from services.reminders.domain.plan import KnownUnit, PeriodPlan, reminder_title
from services.reminders.metrics import RemindersMetrics
from services.reminders.recipients import NO_CONTACT, REASONS, Target, delivery_targets
from services.reminders.store import RemindersStore
from services.reminders.webhook_addresses import WebhookAddressPolicy
from shared.clock import Clock
from shared.contracts.registry import Contacts
from shared.contracts.reminders import ReminderDelivery, ReminderFailed, ReminderSent

log = logging.getLogger(__name__)

PRODUCER = "reminders"


@dataclass(frozen=True, slots=True)
class DeliveryOptions:
    """What the dispatcher needs from the settings."""

    portal_url: str
    reviewer_emails: tuple[str, ...] = ()
    gateway: bool = False
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    concurrency: int = 8
    lease_seconds: float = 900.0
    webhooks: WebhookAddressPolicy = field(default_factory=WebhookAddressPolicy)


@dataclass(frozen=True, slots=True)
class Claim:
    """Whether this process claimed a reminder, and the deliveries it must now send."""

    claimed: bool
    pending: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class _Finished:
    """A delivery that reached its final outcome at once, for metrics after the commit."""

    channel: str
    outcome: str


class _NoLongerDue(Exception):
    """Raised inside a claim transaction to roll it back."""


class _NotYet(Exception):
    """Raised inside a notice's claim transaction to leave the notice queued."""


def _unknown_unit(unit_code: str, period: Any) -> KnownUnit:
    """A unit no registry event described: no contact, so its notice is recorded undeliverable."""
    names = {u.code: u.name for u in store.expected_units(period)}
    return KnownUnit(unit_code, names.get(unit_code, unit_code), None, Contacts())


class Dispatcher:
    """Claims reminders under their dedupe key and delivers them through the channels."""

    def __init__(
        self,
        *,
        store: RemindersStore,
        policy: ReminderPolicy,
        renderer: TemplateRenderer,
        channels: Mapping[str, Channel],
        options: DeliveryOptions,
        clock: Clock,
        metrics: RemindersMetrics,
    ) -> None:
        self._store = store
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
            async with self._store.transaction() as session:
                reminder_id = await store.claim_reminder(
                    session, planned, trigger=trigger, requested_by=requested_by, now=now
                )
                if reminder_id is None:
                    return Claim(False)
                row = await store.period_row(session, planned.period_id)
                plan = await store.load_plan(session, row, only=[planned.unit_code])
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
                await store.set_message(session, reminder_id, message.subject, message.body)
                targets = self.targets(planned.audience, unit)
                pending, finished = await self._add_deliveries(
                    session, reminder_id, planned, targets, now=now, lease_until=lease_until
                )
        except _NoLongerDue:
            return Claim(False)
        self._count_finished(planned.dedupe_key, finished)
        return Claim(True, tuple(pending))

    def targets(self, audience: Audience | Literal["notice"], unit: KnownUnit) -> list[Target]:
        """Where a reminder (or a notice) to this unit goes: an escalation also reaches the
        reviewers, a notice only the unit."""
        return delivery_targets(
            "unit" if audience == "notice" else audience,
            unit.leader,
            unit.contacts,
            reviewer_emails=self._options.reviewer_emails if audience == "escalation" else (),
            gateway=self._options.gateway,
            webhooks=self._options.webhooks,
        )

    async def _add_deliveries(
        self,
        session: AsyncSession,
        reminder_id: int,
        planned: PlannedReminder,
        targets: Sequence[Target],
        *,
        now: datetime,
        lease_until: datetime,
    ) -> tuple[list[int], list[_Finished]]:
        """One row per target: pending ones to send, and unusable ones recorded (and
        published) at once."""
        pending: list[int] = []
        finished: list[_Finished] = []
        for target in targets:
            if target.problem is None:
                pending.append(
                    await store.add_pending_delivery(
                        session,
                        reminder_id,
                        channel=target.channel,
                        recipient=target.recipient,
                        now=now,
                        lease_until=lease_until,
                    )
                )
                continue
            outcome = "undeliverable" if target.problem == NO_CONTACT else "failed"
            reason = target.reason or REASONS.get(target.problem, target.problem)
            await store.add_finished_delivery(
                session,
                reminder_id,
                channel=target.channel,
                recipient=target.recipient,
                outcome=outcome,
                reason=reason,
                reason_code=target.problem,
                now=now,
            )
            delivery = ReminderDelivery(
                period_id=planned.period_id,
                unit_code=planned.unit_code,
                rule_id=planned.rule_id,
                channel=target.channel,
                recipient=target.recipient,
                outcome=outcome,
                reason=reason,
                at=now,
                dedupe_key=planned.dedupe_key,
                audience=planned.audience,
                reason_code=target.problem,
            )
            await store.add_event(
                session, ReminderFailed.new(delivery, producer=PRODUCER, occurred_at=now)
            )
            finished.append(_Finished(target.channel, outcome))
        return pending, finished

    def _count_finished(self, key: str, finished: Sequence[_Finished]) -> None:
        for done in finished:
            self._metrics.delivered(done.channel, done.outcome)
            log.warning("reminder %s not delivered over %s: %s", key, done.channel, done.outcome)

    async def claim_notice(self, notice_id: int, *, projections_settled: bool = True) -> Claim:
        """Claim one queued notice as a reminder and record its deliveries, if it may go now.

        Unless the projections are known to be settled (the scheduler's pass checks that), a
        notice for a unit whose registry event has not arrived yet stays queued instead of
        being recorded undeliverable.
        """
        now = self._clock.now()
        if defer_to_sending_window(self._policy, now) > now:
            return Claim(False)  # quiet hours: it waits for the end of the quiet spell
        lease_until = datetime.now(UTC) + timedelta(seconds=self._options.lease_seconds)
        try:
            async with self._store.transaction() as session:
                row = await store.take_notice(session, notice_id, now)
                if row is None:
                    return Claim(False)
                planned = PlannedReminder(
                    rule_id=row.rule_id,
                    scheduled_at=row.not_before,
                    dedupe_key=row.dedupe_key,
                    audience="unit",
                    period_id=row.period_id,
                    unit_code=row.unit_code,
                )
                reminder_id = await store.claim_reminder(
                    session, planned, trigger="event", requested_by=None, now=now
                )
                if reminder_id is None:
                    return Claim(False)
                period = await store.find_period_row(session, row.period_id)
                known = (await store.known_units(session, [row.unit_code])).get(row.unit_code)
                if known is None and not projections_settled:
                    raise _NotYet
                unit = known or _unknown_unit(row.unit_code, period)
                title = period.title if period is not None else row.period_id
                message = self._renderer.render_notice(
                    row.rule_id,
                    NoticeContext(
                        period_title=reminder_title(title),
                        unit_code=unit.code,
                        unit_name=unit.name,
                        portal_url=self._options.portal_url,
                        as_of=now,
                        details=row.details or {},
                    ),
                )
                await store.set_message(session, reminder_id, message.subject, message.body)
                targets = self.targets("notice", unit)
                pending, finished = await self._add_deliveries(
                    session, reminder_id, planned, targets, now=now, lease_until=lease_until
                )
        except _NotYet:
            return Claim(False)
        self._count_finished(planned.dedupe_key, finished)
        return Claim(True, tuple(pending))

    async def claim_due_notices(self, *, projections_settled: bool = True) -> list[int]:
        """Claim every queued notice that may go now; the deliveries to send."""
        now = self._clock.now()
        if defer_to_sending_window(self._policy, now) > now:
            return []
        async with self._store.reading() as session:
            due = await store.due_notice_ids(session, now)
        pending: list[int] = []
        for notice_id in due:
            try:
                claim = await self.claim_notice(notice_id, projections_settled=projections_settled)
            except Exception:
                # Rolled back: the notice stays queued and is tried again on the next pass.
                log.exception("claiming notice %s failed", notice_id)
                continue
            pending.extend(claim.pending)
        return pending

    async def send_due_notices(self) -> None:
        """Claim and deliver the notices that may go now; never raises."""
        try:
            await self.deliver_all(await self.claim_due_notices(projections_settled=False))
        except Exception:
            log.exception("sending notices failed; the scheduler's next pass retries")

    def notices_queued(self) -> None:
        """An event queued a notice: send it in the background (quiet hours permitting)."""
        self.spawn(self.send_due_notices())

    def _recipient_unit(
        self, plan: PeriodPlan, planned: PlannedReminder, trigger: str
    ) -> KnownUnit | None:
        unit = plan.units.get(planned.unit_code)
        if unit is not None or trigger == "schedule":
            # The schedule waits for the registry's unit event rather than guessing.
            return unit
        name = {u.code: u.name for u in plan.expected}.get(planned.unit_code, planned.unit_code)
        return KnownUnit(planned.unit_code, name, None, Contacts())

    def _still_due(
        self, plan: PeriodPlan, planned: PlannedReminder, trigger: str, now: datetime
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
        async with self._store.reading() as session:
            job = await store.load_delivery(session, delivery_id)
        if job is None:
            return
        # No transaction is open while the channel talks to the SMTP server or the webhook.
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
        now = self._clock.now()
        async with self._store.transaction() as session:
            recorded = await store.finish_delivery(
                session,
                job.id,
                outcome=outcome.outcome,
                reason=outcome.reason,
                reason_code=outcome.reason_code,
                attempts=outcome.attempts,
                now=now,
            )
            if recorded:
                delivery = ReminderDelivery(
                    period_id=job.period_id,
                    unit_code=job.unit_code,
                    rule_id=job.rule_id,
                    channel=job.channel,
                    recipient=job.recipient,
                    outcome=outcome.outcome,
                    reason=outcome.reason,
                    at=now,
                    dedupe_key=job.dedupe_key,
                    audience=job.audience,
                    attempts=outcome.attempts,
                    reason_code=outcome.reason_code,
                )
                contract = ReminderSent if outcome.outcome == "sent" else ReminderFailed
                await store.add_event(
                    session, contract.new(delivery, producer=PRODUCER, occurred_at=now)
                )
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
        async with self._store.reading() as session:
            orphans = await store.orphaned_deliveries(session, wall_now)
        taken = []
        lease_until = wall_now + timedelta(seconds=self._options.lease_seconds)
        for orphan in orphans:
            async with self._store.transaction() as session:
                if await store.take_over(session, orphan.id, orphan.leased_until, lease_until):
                    taken.append(int(orphan.id))
        if taken:
            log.warning("resuming %d delivery(ies) left pending by a stopped process", len(taken))
        return taken

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
