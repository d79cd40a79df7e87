"""Rebuild: empty the projections and replay the registry and intake streams from the start.

An ephemeral pull consumer reads each stream, a fetch at a time, up to its last message at
the start of the rebuild (a gap, a message the replay did not get, fails the rebuild);
every event is applied by the same projector the live service uses, and its id is claimed
for the live durable consumer, so a later redelivery is a harmless duplicate. It all
happens in one transaction: readers see the old projections until the new ones are complete,
and a failure leaves the old ones in place. Consecutive events of one subject are applied
together (up to `REPLAY_BATCH`), by the subscription's batch handler, as the live consumer
applies a fetched batch: their ids are claimed in one statement. Events of subjects with the
same batch handler go together (the three report events: the projector is order-independent).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field
from typing import Any

import nats
from nats.js import api as js_api
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from services.consolidation import db, store
from services.consolidation.app import MIGRATIONS
from services.consolidation.projector import Projector
from services.consolidation.settings import ConsolidationSettings
from services.consolidation.subscribers import subscriptions
from shared.clock import Clock, SystemClock
from shared.contracts.streams import stream_for_subject
from shared.db import create_engine, make_session_factory
from shared.messaging.consumer import Subscription
from shared.messaging.inbox import claim_events
from shared.messaging.provision import ConsumerSpec, provision
from shared.migrations import upgrade_to_head
from shared.natsauth import OPERATOR, connect_options

log = logging.getLogger(__name__)

REPLAY_BATCH = 500


@dataclass
class RebuildReport:
    """What a rebuild read and applied."""

    applied: int = 0
    duplicates: int = 0
    skipped: int = 0
    streams: dict[str, int] = field(default_factory=dict)


async def rebuild(
    settings: ConsolidationSettings,
    *,
    clock: Clock | None = None,
    idle_timeout: float = 10.0,
) -> RebuildReport:
    """Replace the projections with a replay of every consumed stream."""
    engine = create_engine(settings.resolved_database_url)
    # As the NATS operator (its seed in DANVAN_NATS_NKEY_SEED[_FILE]): the consolidation
    # user may read its streams only through its durable consumers.
    connection = await nats.connect(
        settings.nats_url.split(","),
        name=f"{settings.service_name}-rebuild",
        connect_timeout=5,
        **connect_options(settings, user=OPERATOR),
    )
    try:
        await upgrade_to_head(engine, MIGRATIONS)
        projections = store.ConsolidationStore(make_session_factory(engine))
        projector = Projector(clock or SystemClock(), publish=False)
        subs = subscriptions(projector)
        js = connection.jetstream()
        # A fresh NATS store has no streams yet; replaying nothing is then the right answer.
        await provision(
            js,
            replicas=settings.stream_replicas,
            duplicate_window=settings.duplicate_window_seconds,
        )
        report = RebuildReport()
        async with projections.transaction() as session:
            await store.clear_projections(session)
            for stream, stream_subs in _by_stream(subs).items():
                for subject_filter in await _filters(js, stream, stream_subs):
                    await _replay(
                        js,
                        session,
                        settings,
                        stream,
                        subject_filter,
                        stream_subs,
                        report,
                        idle_timeout,
                    )
            # No answer cached before the rebuild matches a period after it: the replay
            # drew new stamps already, and every period's moves once more to be sure.
            await store.move_stamps(session)
        log.info(
            "rebuild done: %d applied, %d duplicates, %d skipped",
            report.applied,
            report.duplicates,
            report.skipped,
        )
        return report
    finally:
        await connection.close()
        await engine.dispose()


def _by_stream(subs: list[Subscription]) -> dict[str, list[Subscription]]:
    grouped: dict[str, list[Subscription]] = {}
    for sub in subs:
        grouped.setdefault(stream_for_subject(sub.subject).name, []).append(sub)
    return grouped


async def _filters(js: Any, stream: str, subs: list[Subscription]) -> list[str]:
    """The whole stream in one pass when every subject in it is consumed (registry, intake);
    else only the consumed subjects, one by one (consolidation's own stream, whose
    completeness snapshots it does not consume)."""
    wildcard = stream_for_subject(subs[0].subject).subjects[0]
    info = await js.stream_info(stream, subjects_filter=wildcard)
    present = set(info.state.subjects or {})
    consumed = {s.subject for s in subs}
    return [wildcard] if present <= consumed else sorted(consumed)


async def _replay(
    js: Any,
    session: AsyncSession,
    settings: ConsolidationSettings,
    stream: str,
    subject_filter: str,
    subs: list[Subscription],
    report: RebuildReport,
    idle_timeout: float,
) -> None:
    info = await js.stream_info(stream, subjects_filter=subject_filter)
    last = int(info.state.last_seq)
    report.streams.setdefault(stream, 0)
    if info.state.messages == 0 or not sum((info.state.subjects or {}).values()):
        return
    by_subject = {s.subject: s for s in subs}
    durable = {
        s.subject: ConsumerSpec(settings.service_name, s.subject, settings.consumer_max_deliver)
        for s in subs
    }
    # A pull consumer, read a fetch at a time: the server sends only what was asked for.
    # The ordered push consumer used before let the server send the whole stream at once;
    # nats-py buffers a subscription's messages up to its pending limits and drops the rest
    # ("slow consumer"): 168,835 of 10⁶ events were lost that way, and the rebuild still
    # reported success. The consumer sequence of every message is checked as well, and the
    # number read against the stream's count, so a gap fails the rebuild (rolled back).
    expected = sum((info.state.subjects or {}).values())
    pull = await js.pull_subscribe(
        subject_filter,
        stream=stream,
        config=js_api.ConsumerConfig(
            deliver_policy=js_api.DeliverPolicy.ALL,
            ack_policy=js_api.AckPolicy.NONE,
            inactive_threshold=max(60.0, 3 * idle_timeout),
            mem_storage=True,
        ),
    )
    pending: list[Any] = []
    read = 0
    try:
        done = False
        while not done:
            try:
                msgs = await pull.fetch(batch=REPLAY_BATCH, timeout=idle_timeout)
            except (TimeoutError, nats.errors.TimeoutError):
                raise TimeoutError(f"stream {stream} stopped before sequence {last}") from None
            for msg in msgs:
                meta = msg.metadata
                if int(meta.sequence.consumer) != read + 1:
                    raise ReplayGapError(
                        f"stream {stream}: message {meta.sequence.consumer} of the replay "
                        f"came after {read}"
                    )
                if meta.sequence.stream > last:
                    done = True  # published after the rebuild began: left to the live consumers
                    break
                read += 1
                report.streams[stream] += 1
                if pending and (
                    _group(by_subject, pending[0]) != _group(by_subject, msg)
                    or len(pending) >= REPLAY_BATCH
                ):
                    await _apply(session, pending, by_subject, durable, report)
                    pending = []
                pending.append(msg)
                # Caught up: nothing left, or past the end the stream had when it began.
                if meta.num_pending == 0 or meta.sequence.stream >= last:
                    done = True
                    break
        await _apply(session, pending, by_subject, durable, report)
    finally:
        with contextlib.suppress(Exception):
            await pull.unsubscribe()
        with contextlib.suppress(Exception):  # ephemeral: it also goes when inactive
            await js.delete_consumer(stream, (await pull.consumer_info()).name)
    if read != expected:
        raise ReplayGapError(f"stream {stream}: read {read} of its {expected} messages")


class ReplayGapError(RuntimeError):
    """A replay did not read every message of a stream: the rebuild is rolled back."""


def _group(by_subject: dict[str, Subscription], msg: Any) -> Any:
    """Messages with the same group are applied together: those of subjects sharing a batch
    handler, else of one subject."""
    sub = by_subject.get(msg.subject)
    return sub.batch if sub is not None and sub.batch is not None else msg.subject


async def _apply(
    session: AsyncSession,
    msgs: list[Any],
    by_subject: dict[str, Subscription],
    durable: dict[str, ConsumerSpec],
    report: RebuildReport,
) -> None:
    """Apply consecutive messages of one group together, each id claimed for its subject's
    durable consumer."""
    if not msgs:
        return
    parsed: list[tuple[Subscription, Any, str]] = []
    for msg in msgs:
        sub = by_subject.get(msg.subject)
        if sub is None:
            report.skipped += 1  # a subject consolidation does not consume
            continue
        try:
            event = sub.contract.model_validate_json(msg.data)
        except ValidationError:
            log.warning("rebuild: invalid event at %s seq %s", msg.subject, msg.metadata.sequence)
            report.skipped += 1
            continue
        parsed.append((sub, event, str(getattr(event, "event_id", ""))))
    if not parsed:
        return
    new: dict[str, set[str]] = {}
    for subject in {sub.subject for sub, _, _ in parsed}:
        ids = [event_id for sub, _, event_id in parsed if sub.subject == subject]
        new[subject] = await claim_events(
            session, db.processed_events, durable[subject].durable, ids
        )
    fresh = []
    for sub, event, event_id in parsed:
        if event_id in new[sub.subject]:
            new[sub.subject].discard(event_id)
            fresh.append(event)
        else:
            report.duplicates += 1
    batch = parsed[0][0].batch
    if batch is not None:
        await batch(session, fresh)
    else:
        for event in fresh:
            await parsed[0][0].handler(session, event)
    report.applied += len(fresh)


def run_rebuild(settings: ConsolidationSettings) -> RebuildReport:
    """Blocking entry point for `python -m services.consolidation rebuild`."""
    return asyncio.run(rebuild(settings))
