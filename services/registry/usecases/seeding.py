"""Start-up: the seed of units and the regime's periods, the reorganisation files, the demo
accounts of development, and the signing keys."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from services.registry import store
from services.registry.context import RegistryContext
from services.registry.domain import DEFAULT_REGIME, RegimeRule
from services.registry.passwords import hash_password
from services.registry.seed_files import SeedUnit, load_reorganisation, load_seed
from services.registry.unit_rules import pending_parts
from services.registry.usecases.common import ensure_regime_year, refresh_open_periods
from services.registry.usecases.units import reorganise_in
from shared.auth import Role
from shared.contracts.registry import Contacts, UnitState

SEED_ACTOR = "system:seed"


async def start(context: RegistryContext) -> None:
    """Everything the registry needs before it answers (idempotent: a restart adds only what
    is missing)."""
    settings = context.settings
    now = context.clock.now()
    async with context.store.transaction() as session:
        await seed(
            session,
            units=load_seed(settings.seed_file),
            years=settings.regime_years,
            now=now,
            rules=context.regime,
            demo_contacts=settings.seed_demo_contacts,
        )
    if settings.demo_accounts:
        await seed_demo_accounts(context, settings.demo_password)
    for name in settings.reorganisation_files:
        await apply_reorganisation_file(context, name)
    await context.keys.load()


async def seed(
    session: AsyncSession,
    *,
    units: list[SeedUnit],
    years: tuple[int, ...],
    now: datetime,
    rules: Sequence[RegimeRule] = DEFAULT_REGIME,
    demo_contacts: bool = False,
) -> None:
    """Insert what is missing of the seed; existing rows are left as they are."""
    existing = {u.unit_id for u in await store.all_units(session)}
    for item in units:
        unit_id = f"{item.code}@{item.valid_from.isoformat()}"
        if unit_id in existing:
            continue
        state = UnitState(
            unit_id=unit_id,
            code=item.code,
            name=item.name,
            kind=item.kind,  # type: ignore[arg-type]
            tags=item.tags,
            display_order=item.order,
            must_report=item.must_report,
            valid_from=item.valid_from,
            contacts=demo_mailbox(item.code) if demo_contacts else Contacts(),
            version=1,
        )
        await store.save_unit(session, None, state, action="created", actor=SEED_ACTOR, now=now)
    for year in years:
        await ensure_regime_year(session, year, rules, now=now)
    # Units added to an existing registry change who is expected in open periods.
    await refresh_open_periods(session, now)


def demo_mailbox(code: str) -> Contacts:
    """A demo mailbox per unit (the reserved .invalid domain), so reminders reach the
    embedded SMTP sink; real contacts are entered by admins."""
    return Contacts(emails=(f"vanthu.{code.lower()}@honglinh.invalid",))


def _demo_accounts(units: list[UnitState]) -> list[tuple[str, str, Role, str | None]]:
    wanted: list[tuple[str, str, Role, str | None]] = [
        (u.code, u.name, "unit", u.code) for u in units if u.must_report and u.valid_to is None
    ]
    wanted += [
        ("pnv", "Phòng Nội vụ (chuyên viên tổng hợp)", "reviewer", None),
        ("lanhdao", "Lãnh đạo UBND thị xã", "leader", None),
        ("admin", "Quản trị hệ thống", "admin", None),
    ]
    return wanted


async def seed_demo_accounts(context: RegistryContext, password: str) -> None:
    """Development only: an account per unit plus pnv, lanhdao and admin, all with the demo
    password (hashed once, before the transaction)."""
    async with context.store.reading() as session:
        present = await store.usernames(session)
        units = await store.all_units(session)
    missing = [w for w in _demo_accounts(units) if w[0] not in present]
    if not missing:
        return
    password_hash = await hash_password(password)
    now = context.clock.now()
    async with context.store.transaction() as session:
        for username, display_name, role, unit_code in missing:
            await store.insert_account(
                session,
                username=username,
                display_name=display_name,
                role=role,
                unit_code=unit_code,
                password_hash=password_hash,
                active=True,
                created_at=now,
            )


async def apply_reorganisation_file(context: RegistryContext, name: str) -> list[UnitState]:
    """Apply a reorganisation file once: only what is not applied yet (successors that do not
    exist, units still open), so a file extended later applies its new parts on the next
    start and a second start applies nothing."""
    plan = load_reorganisation(name)
    now = context.clock.now()
    async with context.store.transaction() as session:
        mergers, closures = pending_parts(
            plan.effective_from, plan.mergers, plan.closures, await store.all_units(session)
        )
        if not mergers and not closures:
            return []
        return await reorganise_in(
            session,
            plan.effective_from,
            mergers,
            actor=SEED_ACTOR,
            now=now,
            note=plan.note,
            closures=closures,
        )
