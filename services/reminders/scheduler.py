"""The scheduler: one active instance wakes when a reminder may be due and sends what is due.

Exactly-once sending rests on two things: the unique dedupe key of every reminder (claimed
before sending, so restarts never repeat one) and a single active scheduler (a PostgreSQL
advisory lock held on a dedicated connection; on SQLite the service runs as one process).
A pass first resumes deliveries orphaned by a crashed process, then asks the domain, for each
open period and each missing unit, which reminder is due now: after an outage that is only
the most recent one, never a burst of stale ones, and never inside quiet hours or on a skipped
day (a catch-up waits for the next sending window). A pass runs only once the projections have
consumed every event already in the streams, so a unit that reported while this service was
down is not reminded on start. Each pass also sends the queued notices (answers, accepted
reports) that may go now: those that waited out quiet hours, or whose first try failed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from services.reminders import store
from services.reminders.dispatch import Dispatcher
from services.reminders.domain import (
    PeriodView,
    ReminderPolicy,
    ReturnedForRevision,
    defer_to_sending_window,
    due_reminders,
    next_wakeup,
)
from services.reminders.metrics import RemindersMetrics
from services.reminders.store import RemindersStore, SchedulerLock
from shared.clock import Clock

log = logging.getLogger(__name__)

_MIN_SLEEP_SECONDS = 0.05
_WAITING_RETRY_SECONDS = 2.0
_FRESHNESS_POLL_SECONDS = 0.1

Freshness = Callable[[], Awaitable[bool]]


@dataclass(frozen=True, slots=True)
class PassResult:
    """What one scheduler pass did."""

    active: bool
    claimed: int = 0
    deliveries: int = 0
    resumed: int = 0
    notice_deliveries: int = 0
    waiting_for_events: bool = False
    outside_sending_window: bool = False


class Scheduler:
    """Runs passes in a loop, sleeping until the next possible reminder (at most one tick)."""

    def __init__(
        self,
        *,
        store: RemindersStore,
        dispatcher: Dispatcher,
        lock: SchedulerLock,
        policy: ReminderPolicy,
        clock: Clock,
        metrics: RemindersMetrics,
        tick_seconds: float,
        freshness: Freshness | None = None,
        freshness_wait_seconds: float = 10.0,
    ) -> None:
        self._store = store
        self._dispatcher = dispatcher
        self._lock = lock
        self._policy = policy
        self._clock = clock
        self._metrics = metrics
        self._tick = tick_seconds
        self._freshness = freshness
        self._freshness_wait = freshness_wait_seconds
        self._task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()
        self._stopping = False
        self._pass_lock = asyncio.Lock()

    async def run_once(self) -> PassResult:
        """One pass: resume orphans, then claim and deliver every reminder due now."""
        async with self._pass_lock:
            return await self._run_once()

    async def _run_once(self) -> PassResult:
        if not await self._lock.acquire():
            self._metrics.scheduler_active.set(0)
            self._metrics.scheduler_runs.labels("standby").inc()
            return PassResult(active=False)
        self._metrics.scheduler_active.set(1)
        if defer_to_sending_window(self._policy, self._clock.now()) > self._clock.now():
            self._metrics.scheduler_runs.labels("quiet").inc()
            return PassResult(active=True, outside_sending_window=True)
        if not await self._projections_current():
            log.warning("event consumers are behind or NATS is unreachable; pass postponed")
            self._metrics.scheduler_runs.labels("waiting_for_events").inc()
            return PassResult(active=True, waiting_for_events=True)
        resumed = await self._dispatcher.resume_orphans()
        now = self._clock.now()
        async with self._store.reading() as session:
            plans = await store.open_plans(session)
        pending = list(resumed)
        try:
            notice_deliveries = await self._dispatcher.claim_due_notices()
        except Exception:
            # Reminders still go out; the notices wait for the next pass.
            log.exception("claiming queued notices failed")
            notice_deliveries = []
        pending.extend(notice_deliveries)
        claimed = 0
        for plan in plans:
            for unit in plan.missing():
                if unit.code not in plan.units:
                    continue  # the registry's unit event has not arrived yet
                state = plan.states[unit.code]
                for planned in due_reminders(self._policy, plan.period, state, now, plan.sent):
                    try:
                        claim = await self._dispatcher.claim(planned, trigger="schedule")
                    except Exception:
                        log.exception("claiming reminder %s failed", planned.dedupe_key)
                        continue
                    if claim.claimed:
                        claimed += 1
                        pending.extend(claim.pending)
        await self._dispatcher.deliver_all(pending)
        self._metrics.scheduler_runs.labels("active").inc()
        return PassResult(
            True,
            claimed=claimed,
            deliveries=len(pending),
            resumed=len(resumed),
            notice_deliveries=len(notice_deliveries),
        )

    async def _projections_current(self) -> bool:
        """Whether every event already in the streams has reached the projections."""
        if self._freshness is None:
            return True
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._freshness_wait
        while True:
            try:
                if await self._freshness():
                    return True
            except Exception:
                log.debug("checking the event consumers failed", exc_info=True)
            if loop.time() >= deadline or self._stopping:
                return False
            await asyncio.sleep(_FRESHNESS_POLL_SECONDS)

    async def seconds_to_next_pass(self) -> float:
        """Until the next instant a reminder may fall due, bounded by the tick."""
        now = self._clock.now()
        window = defer_to_sending_window(self._policy, now)
        if window > now:
            return max(_MIN_SLEEP_SECONDS, min(self._tick, (window - now).total_seconds()))
        async with self._store.reading() as session:
            plans = await store.open_plans(session)
            notice_at = await store.next_notice_at(session, now)
        periods: list[PeriodView] = [p.period for p in plans]
        returns: list[tuple[PeriodView, ReturnedForRevision]] = [
            (plan.period, state.returned)
            for plan in plans
            for state in plan.states.values()
            if state.returned is not None and not state.reported
        ]
        wake = next_wakeup(self._policy, periods, now, returns)
        if notice_at is not None and (wake is None or notice_at < wake):
            wake = notice_at
        if wake is None:
            return self._tick
        return max(_MIN_SLEEP_SECONDS, min(self._tick, (wake - now).total_seconds()))

    def start(self) -> None:
        """Run the loop in the background."""
        self._stopping = False
        self._task = asyncio.create_task(self._loop(), name="reminder-scheduler")

    def poke(self) -> None:
        """Run a pass now instead of at the next wake-up."""
        self._wake.set()

    async def stop(self, grace_seconds: float = 10.0) -> None:
        """Let the current pass finish (bounded), stop the loop and give up leadership."""
        self._stopping = True
        self._wake.set()
        task, self._task = self._task, None
        if task is not None:
            try:
                await asyncio.wait_for(asyncio.shield(task), timeout=grace_seconds)
            except TimeoutError:
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
        await self._lock.release()
        self._metrics.scheduler_active.set(0)

    async def _loop(self) -> None:
        while not self._stopping:
            delay = self._tick
            try:
                result = await self.run_once()
                if result.waiting_for_events:
                    delay = min(self._tick, _WAITING_RETRY_SECONDS)
                elif result.active:
                    delay = await self.seconds_to_next_pass()
            except Exception:
                log.exception("scheduler pass failed; retrying at the next tick")
            if self._stopping:
                return
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=delay)
            self._wake.clear()
