"""The outbox relay: publishes pending rows to JetStream with Nats-Msg-Id = event_id."""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from nats.errors import MaxPayloadError
from nats.js.errors import BadRequestError
from sqlalchemy import Row, Table, bindparam, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared.backoff import Backoff
from shared.messaging.outbox import OutboxRow
from shared.metrics import MessagingMetrics

log = logging.getLogger(__name__)

# After a failed pass (NATS unreachable, acks missing): 0.2 s, 0.4 s, … at most 5 s.
RETRY = Backoff(base_seconds=0.2, cap_seconds=5.0)

JetStreamProvider = Callable[[], Any]
MaxPayloadProvider = Callable[[], int | None]

# Errors no retry can cure: the message is larger than the server accepts (the client's
# `max_payload`, or the stream's `max_msg_size` answered with a 400), or JetStream refused the
# request as malformed. Such a row is parked (`parked_at`) instead of blocking the outbox.
PERMANENT_ERRORS: tuple[type[BaseException], ...] = (MaxPayloadError, BadRequestError)


def is_permanent(error: BaseException) -> bool:
    """Whether publishing again cannot succeed without an operator's change."""
    return isinstance(error, PERMANENT_ERRORS)


class OutboxRelay:
    """Moves committed outbox rows to JetStream; a crash before marking only republishes,
    which JetStream drops as a duplicate within its window.

    No database transaction is open while it waits for JetStream: a pass claims a batch in
    one short transaction (`claimed_by`, `claimed_until`), publishes, then marks what was
    acknowledged in a second one. A claim keeps other relays (replicas) off the rows while
    they are in flight; one that is never marked (the relay died) expires after
    `claim_seconds` and any relay takes the rows again. The relay that holds a claim may
    retake it at once (its earlier pass failed before marking).

    A row that can never be published (larger than NATS's `max_payload`, or refused by
    JetStream as a bad request) is parked: `parked_at` and `last_error` are set, it is
    counted (`danvan_outbox_parked_total`, the `danvan_outbox_parked_rows` gauge and its alert) and
    logged, and the rows after it flow. An operator requeues it by clearing `parked_at` once
    the cause is fixed (docs/OPERATIONS.md).

    The backlog gauges (pending, parked, oldest age) are read every `backlog_seconds`, not
    after every pass: a pass follows each commit that wrote outbox rows, and the two
    statements would take the service's one SQLite connection once more per request.

    Handed-over rows (the hot path): while the relay runs and NATS is connected, a
    transaction that writes outbox rows writes them already claimed by this relay
    (`claim_for_handover`, through `shared.messaging.outbox.add_event`) and hands them over
    after its commit (`hand_over`): they are published without a claim transaction, the
    rows handed over within `gather_seconds` of the first in one pass (one publish per
    commit made nats-server and the consumers do more per event: docs/BENCHMARKS.md,
    "04/12/2026: intake, second pass"). What
    JetStream acknowledged is marked published in one transaction for all the rows
    acknowledged within `mark_seconds` (or at the next claim pass, in its transaction, or
    when the relay stops), not one per commit. A crash before the mark only republishes
    them (same `Nats-Msg-Id`, dropped by JetStream) once the claim has expired, as for a
    claimed batch; a row that was handed over and not published (the relay stopped, NATS
    went away) keeps this relay's claim, which its next claim pass retakes at once. A claim
    pass still runs every `poll_seconds`, after an explicit `wake` (a commit that did not
    hand its rows over) and after a failure.
    """

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        table: Table,
        jetstream: JetStreamProvider,
        metrics: MessagingMetrics,
        *,
        batch_size: int = 500,
        poll_seconds: float = 1.0,
        publish_timeout: float = 10.0,
        claim_seconds: float = 30.0,
        skip_locked: bool = False,
        max_payload: MaxPayloadProvider | None = None,
        backlog_seconds: float = 5.0,
        mark_seconds: float = 0.1,
        gather_seconds: float = 0.05,
    ) -> None:
        if claim_seconds <= publish_timeout:
            raise ValueError("a claim must outlast the wait for acknowledgements")
        self._sessions = sessions
        self._table = table
        self._jetstream = jetstream
        self._metrics = metrics
        self._batch_size = batch_size
        self._poll_seconds = poll_seconds
        self._publish_timeout = publish_timeout
        self._claim = timedelta(seconds=claim_seconds)
        self._skip_locked = skip_locked
        self._max_payload = max_payload
        self._backlog_seconds = backlog_seconds
        self._backlog_read_at = float("-inf")
        self._owner = str(uuid.uuid4())
        self._wake = asyncio.Event()
        self._stopping = False
        self._running = False
        self._mark_seconds = mark_seconds
        self._gather_seconds = gather_seconds
        # Rows committed already claimed by this relay, waiting to be published.
        self._handed: list[OutboxRow] = []
        # Event ids JetStream acknowledged that are not marked published yet, and since when.
        self._acked: list[str] = []
        self._acked_since = 0.0
        self._claim_due = True
        self._claimed_at = float("-inf")
        # A pass follows each commit that wrote outbox rows (about one per request): its two
        # statements are built once (on first use), with bind parameters, so that SQLAlchemy
        # does not build them and their cache keys again on every pass.
        self._statements: tuple[Any, Any] | None = None

    def wake(self) -> None:
        """Claim and publish soon: called after a commit that wrote outbox rows without
        handing them over, and when NATS (re)connects."""
        self._claim_due = True
        self._wake.set()

    def claim_for_handover(self) -> tuple[str, datetime] | None:
        """`(owner, claimed_until)` for outbox rows to be written already claimed by this
        relay and handed to it after their commit; None unless the relay runs and NATS is
        connected (the rows are then written unclaimed and a claim pass takes them)."""
        if not self._running or self._stopping or self._jetstream() is None:
            return None
        return self._owner, datetime.now(UTC) + self._claim

    def hand_over(self, rows: list[OutboxRow]) -> None:
        """Publish these committed rows, written claimed by this relay, without claiming
        them (the after-commit hook of a transaction that wrote them)."""
        self._handed.extend(rows)
        self._wake.set()

    def stop(self) -> None:
        """Ask the loop to end."""
        self._stopping = True
        self._wake.set()

    async def run(self) -> None:
        """Publish until stopped, backing off while NATS is unreachable."""
        failures = 0
        self._running = True
        try:
            while not self._stopping:
                try:
                    if self._handed:
                        if len(self._handed) < self._batch_size and self._gather_seconds:
                            # The rows of the commits that follow within `gather_seconds`
                            # go in the same pass (one flush, fewer acks to wait for).
                            await asyncio.sleep(self._gather_seconds)
                        await self.publish_handed()
                    if self._claim_due or failures:
                        self._claim_due = False
                        self._claimed_at = time.monotonic()
                        if await self.publish_pending() >= self._batch_size:
                            self._claim_due = True
                    elif self._acked and (
                        len(self._acked) >= self._batch_size
                        or time.monotonic() - self._acked_since >= self._mark_seconds
                    ):
                        await self.flush_marks()
                    failures = 0
                except asyncio.CancelledError:
                    raise
                except Exception:
                    failures += 1
                    self._metrics.outbox_errors.labels(self._metrics.service).inc()
                    log.warning("outbox relay pass failed (attempt %d)", failures, exc_info=True)
                # The backlog gauges cost two statements on the service's connection: read
                # them every `backlog_seconds`, not after every pass (one pass per commit that
                # wrote outbox rows), and at once after a failure.
                if failures or time.monotonic() - self._backlog_read_at >= self._backlog_seconds:
                    self._backlog_read_at = time.monotonic()
                    await self.refresh_backlog_metrics()
                if not failures and (self._handed or self._claim_due):
                    continue  # handed over or woken while this pass ran
                await self._sleep(failures)
        finally:
            self._running = False

    async def _sleep(self, failures: int) -> None:
        """Until woken, the next claim pass is due, or the acknowledged rows are to be
        marked."""
        now = time.monotonic()
        if failures:
            delay = RETRY.delay(failures)
        else:
            delay = max(0.0, self._claimed_at + self._poll_seconds - now)
            if self._acked:
                delay = min(delay, max(0.0, self._acked_since + self._mark_seconds - now))
        self._wake.clear()
        try:
            await asyncio.wait_for(self._wake.wait(), timeout=delay)
        except TimeoutError:
            if time.monotonic() - self._claimed_at >= self._poll_seconds:
                self._claim_due = True

    async def publish_handed(self) -> int:
        """Publish the rows handed over since the last pass (no claim: their transaction
        wrote them claimed by this relay); what JetStream acknowledged is marked later
        (`flush_marks`), the others are released with their error at once."""
        rows, self._handed = self._handed, []
        js = self._jetstream()
        if js is None or not rows:
            return 0  # still claimed by this relay: the claim pass after reconnecting takes them
        acked, errors, parked = await self._publish(js, rows)
        if not self._acked:
            self._acked_since = time.monotonic()
        self._acked += acked
        if errors or parked:
            await self._mark_sent(self._take_acked(), errors, parked)
        self._count(acked, errors, parked)
        return len(acked)

    async def flush_marks(self) -> None:
        """Mark published the rows JetStream acknowledged since the last mark."""
        if self._acked:
            await self._mark_sent(self._take_acked(), {}, {})

    async def close(self) -> None:
        """After `stop` and the loop's end: mark what was acknowledged, and release the rows
        handed over and not published, so that the next relay takes them without waiting
        for the claim to expire."""
        t = self._table
        handed, self._handed = [row.event_id for row in self._handed], []
        acked = self._take_acked()
        if not acked and not handed:
            return
        async with self._sessions() as session, session.begin():
            if acked:
                await session.execute(self._built()[1], {"acked": acked, "now": datetime.now(UTC)})
            if handed:
                await session.execute(
                    update(t)
                    .where(t.c.event_id.in_(handed), t.c.claimed_by == self._owner)
                    .values(claimed_by=None, claimed_until=None)
                )

    def _take_acked(self) -> list[str]:
        acked, self._acked = self._acked, []
        return acked

    def _count(self, acked: list[str], errors: dict[str, str], parked: dict[str, str]) -> None:
        self._metrics.outbox_published.labels(self._metrics.service).inc(len(acked))
        if parked:
            self._metrics.outbox_parked_total.labels(self._metrics.service).inc(len(parked))
            for event_id, error in parked.items():
                log.error("outbox event %s parked: it can never be published (%s)", event_id, error)
        if errors:
            raise ConnectionError(f"{len(errors)} outbox rows not acknowledged")

    async def publish_pending(self) -> int:
        """One claim pass: claim a batch (transaction 1, which also marks the handed-over
        rows acknowledged since the last mark), publish it and wait for the acks (no
        transaction), mark what JetStream acknowledged (transaction 2)."""
        js = self._jetstream()
        if js is None:
            return 0  # not connected yet or reconnecting; rows wait, readiness shows why
        rows = await self.claim_batch()
        if not rows:
            return 0
        claimed = {row.event_id for row in rows}
        # Committed and handed over meanwhile: published by this pass, not twice.
        self._handed = [row for row in self._handed if row.event_id not in claimed]
        acked, errors, parked = await self._publish(js, rows)
        await self._mark_sent(acked, errors, parked)
        self._count(acked, errors, parked)
        return len(acked)

    def _built(self) -> tuple[Any, Any]:
        """The claim and the mark-published statements."""
        if self._statements is None:
            t = self._table
            mark = (
                update(t)
                .where(
                    t.c.event_id.in_(bindparam("acked", expanding=True)),
                    t.c.published_at.is_(None),
                )
                .values(published_at=bindparam("now"), claimed_by=None, claimed_until=None)
            )
            self._statements = (self._claim_rows(), mark)
        return self._statements

    def _claim_rows(self) -> Any:
        t = self._table
        free = (
            select(t.c.id)
            .where(
                t.c.published_at.is_(None),
                t.c.parked_at.is_(None),
                or_(
                    t.c.claimed_until.is_(None),
                    t.c.claimed_until < bindparam("now"),
                    t.c.claimed_by == bindparam("owner"),
                ),
            )
            .order_by(t.c.id)
            .limit(self._batch_size)
        )
        if self._skip_locked:
            # Two replicas claiming at once skip each other's rows instead of waiting.
            free = free.with_for_update(skip_locked=True)
        return (
            update(t)
            .where(t.c.id.in_(free))
            .values(claimed_by=bindparam("owner"), claimed_until=bindparam("until"))
            .returning(t.c.id, t.c.event_id, t.c.subject, t.c.payload)
        )

    async def claim_batch(self) -> list[Row[Any, Any, Any, Any]]:
        """Claim the oldest unpublished rows nobody else holds, oldest first (committed).
        The handed-over rows acknowledged since the last mark are marked first, in the same
        transaction (this relay's claim would otherwise retake them)."""
        now = datetime.now(UTC)
        params = {"now": now, "owner": self._owner, "until": now + self._claim}
        claim, mark = self._built()
        acked = self._take_acked()
        try:
            async with self._sessions() as session, session.begin():
                if acked:
                    await session.execute(mark, {"acked": acked, "now": now})
                rows = list((await session.execute(claim, params)).all())
        except BaseException:
            self._acked = acked + self._acked
            raise
        return sorted(rows, key=lambda row: int(row.id))

    async def _publish(
        self, js: Any, rows: Sequence[Row[Any, Any, Any, Any] | OutboxRow]
    ) -> tuple[list[str], dict[str, str], dict[str, str]]:
        """Publish every row with `publish_async` (the client bounds the acks in flight at
        its `publish_async_max_pending`), then wait for all acks. Returns the acknowledged
        rows' event ids, the rows to retry with their error, and the rows to park with
        theirs."""
        futures: list[tuple[str, asyncio.Future[Any]]] = []
        errors: dict[str, str] = {}
        parked: dict[str, str] = {}
        limit = self._max_payload() if self._max_payload is not None else None
        for row in rows:
            payload = bytes(row.payload)
            if limit is not None and len(payload) > limit:
                # Checked before publish_async, which would otherwise raise MaxPayloadError
                # after taking one of its pending slots for good.
                parked[row.event_id] = (
                    f"MaxPayloadError: {len(payload)} bytes over the server's "
                    f"max_payload of {limit}"
                )
                continue
            try:
                future = await js.publish_async(
                    row.subject, payload, headers={"Nats-Msg-Id": row.event_id}
                )
            except Exception as exc:
                # Raised before anything was sent (too large, connection gone): this row
                # only; the rows after it are still published.
                (parked if is_permanent(exc) else errors)[row.event_id] = repr(exc)
                continue
            futures.append((row.event_id, future))
        pending: set[asyncio.Future[Any]] = set()
        if futures:
            _, pending = await asyncio.wait(
                [future for _, future in futures], timeout=self._publish_timeout
            )
        for future in pending:
            future.cancel()
        acked: list[str] = []
        for event_id, future in futures:
            if future in pending:
                errors[event_id] = "timeout"
            elif (error := future.exception()) is None:
                acked.append(event_id)
            else:
                (parked if is_permanent(error) else errors)[event_id] = repr(error)
        return acked, errors, parked

    async def _mark_sent(
        self, acked: list[str], errors: dict[str, str], parked: dict[str, str]
    ) -> None:
        """Mark acknowledged rows published; park the ones that can never be; release the
        others, with their error."""
        t = self._table
        async with self._sessions() as session, session.begin():
            if acked:
                await session.execute(self._built()[1], {"acked": acked, "now": datetime.now(UTC)})
            for event_id, error in parked.items():
                await session.execute(
                    update(t)
                    .where(t.c.event_id == event_id, t.c.claimed_by == self._owner)
                    .values(
                        attempts=t.c.attempts + 1,
                        last_error=error[:500],
                        parked_at=datetime.now(UTC),
                        claimed_by=None,
                        claimed_until=None,
                    )
                )
            for event_id, error in errors.items():
                await session.execute(
                    update(t)
                    .where(t.c.event_id == event_id, t.c.claimed_by == self._owner)
                    .values(
                        attempts=t.c.attempts + 1,
                        last_error=error[:500],
                        claimed_by=None,
                        claimed_until=None,
                    )
                )

    async def refresh_backlog_metrics(self) -> None:
        """Set the backlog gauges from the table."""
        t = self._table
        try:
            async with self._sessions() as session:
                waiting = t.c.published_at.is_(None)
                count, oldest = (
                    await session.execute(
                        select(func.count(), func.min(t.c.created_at)).where(
                            waiting, t.c.parked_at.is_(None)
                        )
                    )
                ).one()
                parked = (
                    await session.execute(
                        select(func.count()).where(waiting, t.c.parked_at.is_not(None))
                    )
                ).scalar_one()
        except Exception:
            log.debug("could not read outbox backlog", exc_info=True)
            return
        service = self._metrics.service
        self._metrics.outbox_pending.labels(service).set(count)
        self._metrics.outbox_parked.labels(service).set(parked)
        age = 0.0
        if oldest is not None:
            oldest = oldest if oldest.tzinfo else oldest.replace(tzinfo=UTC)
            age = (datetime.now(UTC) - oldest).total_seconds()
        self._metrics.outbox_oldest_age.labels(service).set(age)
