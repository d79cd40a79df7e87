"""Reminders composition root."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from functools import partial
from pathlib import Path

import httpx
from fastapi import FastAPI

from services.reminders import api, db, projections, subscribers
from services.reminders.channels import (
    Channel,
    EmailChannel,
    RetryPolicy,
    SmtpConfig,
    WebhookChannel,
)
from services.reminders.context import RemindersContext
from services.reminders.dispatch import DeliveryOptions, Dispatcher
from services.reminders.domain import TemplateRenderer
from services.reminders.letter import LetterConfig
from services.reminders.metrics import RemindersMetrics
from services.reminders.scheduler import Scheduler
from services.reminders.settings import RemindersSettings
from services.reminders.store import RemindersStore
from services.reminders.webhook_addresses import (
    Resolver,
    WebhookAddressPolicy,
    system_resolver,
)
from shared.auth import KeySource
from shared.clock import Clock, SystemClock
from shared.contracts.reminders import ReminderFailed, ReminderSent
from shared.db import Database
from shared.messaging.bus import EventBus
from shared.service import ServiceRuntime

log = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).parent / "migrations"
PLAN_NUMBER_BLANK = "…"


def create_app(
    settings: RemindersSettings | None = None,
    *,
    clock: Clock | None = None,
    key_source: KeySource | None = None,
    channels: Mapping[str, Channel] | None = None,
    resolver: Resolver = system_resolver,
) -> FastAPI:
    """Build the reminders app; nothing connects or sends until it starts.

    `resolver` resolves units' webhook host names (tests give a fixed one)."""
    settings = settings or RemindersSettings()
    clock = clock or SystemClock()
    policy = settings.policy()
    webhooks = settings.webhook_addresses()
    database = Database(settings.resolved_database_url)
    runtime = ServiceRuntime(
        settings,
        database,
        outbox=db.outbox,
        inbox=db.processed_events,
        publishes=[ReminderSent, ReminderFailed],
        key_source=key_source,
        revocations=db.token_revocations,
        clock=clock,
    )
    store = RemindersStore(database)
    metrics = RemindersMetrics(runtime.registry)
    http_client = httpx.AsyncClient(follow_redirects=False)
    dispatcher = Dispatcher(
        store=store,
        policy=policy,
        renderer=TemplateRenderer(settings.template_dir, policy=policy),
        channels=(
            channels
            if channels is not None
            else default_channels(settings, http_client, webhooks=webhooks, resolver=resolver)
        ),
        options=DeliveryOptions(
            portal_url=settings.portal_url,
            reviewer_emails=settings.reviewer_emails,
            gateway=bool(settings.webhook_gateway_url),
            retry=RetryPolicy(
                attempts=settings.delivery_attempts,
                backoff_seconds=settings.retry_backoff_seconds,
                backoff_cap_seconds=settings.retry_backoff_cap_seconds,
            ),
            concurrency=settings.delivery_concurrency,
            lease_seconds=settings.delivery_lease_seconds,
            webhooks=webhooks,
        ),
        clock=clock,
        metrics=metrics,
    )
    scheduler = Scheduler(
        store=store,
        dispatcher=dispatcher,
        lock=store.scheduler_lock(),
        policy=policy,
        clock=clock,
        metrics=metrics,
        tick_seconds=settings.tick_seconds,
        freshness=partial(projections_current, runtime.bus),
        freshness_wait_seconds=settings.events_wait_seconds,
    )
    runtime.subscribe(*subscribers.subscriptions(clock, policy, webhooks))
    # Any replica may send a notice at once: the dedupe key claim keeps it to one sending.
    runtime.after_commit(projections.NOTICES_QUEUED, dispatcher.notices_queued)
    context = RemindersContext(
        settings=settings,
        clock=clock,
        store=store,
        policy=policy,
        metrics=metrics,
        dispatcher=dispatcher,
        scheduler=scheduler,
        letter=letter_config(settings),
    )

    async def startup() -> None:
        if PLAN_NUMBER_BLANK in settings.plan_reference:
            log.warning(
                "DANVAN_PLAN_REFERENCE still has the plan's blanks (%s): the urging letter "
                "cites it as it is until the number and date are filled in",
                settings.plan_reference,
            )
        if settings.scheduler_enabled:
            scheduler.start()

    async def shutdown() -> None:
        await scheduler.stop()
        await dispatcher.drain(grace_seconds=10.0)
        await http_client.aclose()

    return runtime.create_app(
        title="Đôn đốc báo cáo (reminders)",
        version="1.0",
        routers=[api.router],
        migrations_dir=MIGRATIONS,
        context=context,
        on_startup=[startup],
        on_shutdown=[shutdown],
    )


async def projections_current(bus: EventBus) -> bool:
    """Connected, and no event in the streams is still waiting for this service's consumers:
    none undelivered (`num_pending`) and none delivered but not yet acknowledged
    (`num_ack_pending`: a batched consumer holds a fetched batch while it gathers and
    applies it, and acknowledges it only after its commit)."""
    js = bus.jetstream() if bus.started else None
    if js is None:
        return False
    for spec in bus.consumers:
        info = await js.consumer_info(spec.stream.name, spec.durable)
        if info.num_pending or info.num_ack_pending:
            return False
    return True


def default_channels(
    settings: RemindersSettings,
    client: httpx.AsyncClient,
    *,
    webhooks: WebhookAddressPolicy | None = None,
    resolver: Resolver = system_resolver,
) -> dict[str, Channel]:
    """E-mail (unless disabled) and webhooks, configured from the settings."""
    channels: dict[str, Channel] = {
        "webhook": WebhookChannel(
            client,
            secret=settings.webhook_secret,
            gateway_url=settings.webhook_gateway_url,
            timeout_seconds=settings.webhook_timeout_seconds,
            addresses=webhooks or settings.webhook_addresses(),
            resolver=resolver,
        )
    }
    if settings.smtp_enabled:
        channels["email"] = EmailChannel(
            SmtpConfig(
                host=settings.smtp_host,
                port=settings.smtp_port,
                sender=settings.smtp_from,
                starttls=settings.smtp_starttls,
                username=settings.smtp_username,
                password=settings.smtp_password,
                timeout_seconds=settings.smtp_timeout_seconds,
            )
        )
    return channels


def letter_config(settings: RemindersSettings) -> LetterConfig:
    """The urging letter's issuer and signer from the settings."""
    return LetterConfig(
        authority=settings.letter_authority,
        issuer=settings.letter_issuer,
        number_suffix=settings.letter_number_suffix,
        place=settings.letter_place,
        head_title=settings.letter_head_title,
        signer_title=settings.letter_signer_title,
        signer_name=settings.letter_signer_name,
        copies=settings.letter_copies,
        grace_working_days=settings.letter_grace_working_days,
        portal_url=settings.portal_url,
        plan_reference=settings.plan_reference,
        drafting_unit=settings.letter_drafting_unit,
    )
