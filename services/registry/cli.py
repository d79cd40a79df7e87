"""`python -m services.registry create-admin`: the one-time first administrator.

Production creates no account on its own. The operator runs this once against the registry's
database (the service's own settings: DATABASE_URL, DANVAN_ENV …): it creates the admin
account without a password and writes its activation code to the operator's terminal only
(never to a log); the administrator sets their own password with it at POST
/v1/auth/activate, then creates the other accounts (each with its own activation code). It
refuses when an active administrator exists, unless `--force` (a lost admin): then the named
account gets a new activation code and its old password stops working.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from datetime import timedelta
from typing import TextIO

from services.registry import store
from services.registry.app import MIGRATIONS
from services.registry.settings import RegistrySettings
from services.registry.store import RegistryStore
from services.registry.usecases.accounts import (
    NO_PASSWORD,
    USERNAME_PATTERN,
    account_changed,
    activation_code_hash,
    new_activation_code,
)
from shared.clock import VN_TZ, Clock, SystemClock
from shared.db import Database
from shared.migrations import upgrade_to_head

OPERATOR = "system:create-admin"


class Refused(Exception):
    """The step was not taken (the message says why)."""


async def create_admin(
    settings: RegistrySettings,
    username: str,
    display_name: str,
    *,
    force: bool = False,
    clock: Clock | None = None,
) -> tuple[str, str]:
    """Create (or with `force`, reset) the administrator; returns its activation code and its
    expiry as text."""
    if not USERNAME_PATTERN.match(username):
        raise Refused(f"Tên đăng nhập «{username}» không hợp lệ.")
    clock = clock or SystemClock()
    database = Database(settings.resolved_database_url)
    try:
        await upgrade_to_head(database.engine, MIGRATIONS)
        registry_store = RegistryStore(database.sessions)
        now = clock.now()
        code = new_activation_code()
        expires_at = now + timedelta(hours=settings.activation_code_hours)
        async with registry_store.transaction() as session:
            if await store.admin_exists(session) and not force:
                raise Refused(
                    "Đã có tài khoản quản trị đang hoạt động; không tạo thêm. Dùng --force nếu "
                    "mất quyền quản trị (mật khẩu cũ của tài khoản sẽ hết hiệu lực)."
                )
            existing = await store.account_row(session, username)
            if existing is None:
                await store.insert_account(
                    session,
                    username=username,
                    display_name=display_name,
                    role="admin",
                    unit_code=None,
                    password_hash=NO_PASSWORD,
                    active=True,
                    created_at=now,
                )
            else:
                await store.update_account(
                    session,
                    username,
                    role="admin",
                    unit_code=None,
                    active=True,
                    password_hash=NO_PASSWORD,
                )
            await store.replace_activation_code(
                session,
                username,
                code_hash=activation_code_hash(code),
                issued_by=OPERATOR,
                now=now,
                expires_at=expires_at,
            )
            changes = ["created (admin)"] if existing is None else ["reset as admin (--force)"]
            await account_changed(session, username, changes, actor=OPERATOR, now=now)
    finally:
        await database.dispose()
    return code, expires_at.astimezone(VN_TZ).strftime("%H:%M %d/%m/%Y")


def main(argv: Sequence[str], out: TextIO = sys.stdout, err: TextIO = sys.stderr) -> int:
    """The command line; the activation code goes to `out` (the operator's terminal)."""
    parser = argparse.ArgumentParser(prog="python -m services.registry")
    commands = parser.add_subparsers(dest="command", required=True)
    admin = commands.add_parser("create-admin", help="create the first administrator (once)")
    admin.add_argument("--username", default="admin")
    admin.add_argument("--display-name", default="Quản trị hệ thống")
    admin.add_argument("--force", action="store_true", help="even if an admin exists")
    args = parser.parse_args(list(argv))
    try:
        code, expires = asyncio.run(
            create_admin(RegistrySettings(), args.username, args.display_name, force=args.force)
        )
    except Refused as refused:
        err.write(f"{refused}\n")
        return 1
    out.write(
        f"Tài khoản quản trị «{args.username}» đã sẵn sàng.\n"
        f"Mã kích hoạt (dùng một lần, hết hạn {expires}): {code}\n"
        "Đặt mật khẩu tại POST /v1/auth/activate (tên đăng nhập, mã, mật khẩu mới).\n"
    )
    return 0
