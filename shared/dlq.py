"""Operators' tool for the dead-letter stream: `python -m shared.dlq list|replay SEQ|drop SEQ`.

It connects as the NATS `operator` user (`--nkey-seed-file`, or the seed in the environment).

A dead-lettered event keeps its original payload; after the cause is fixed, `replay` puts it
back on its original subject (the consumer's inbox still applies it exactly once)."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from pathlib import Path
from typing import Any

import nats
from nats.js.errors import NotFoundError

from shared.contracts.streams import DEAD_LETTERS
from shared.natsauth import OPERATOR, connect_options
from shared.settings import ServiceSettings


async def list_dead_letters(js: Any, limit: int = 100) -> list[dict[str, Any]]:
    """The dead letters still in the stream, oldest first."""
    info = await js.stream_info(DEAD_LETTERS.name)
    found: list[dict[str, Any]] = []
    # An empty stream reports first_seq 0, and seq 0 is a bad request, not a miss.
    seq = max(info.state.first_seq, 1)
    while seq <= info.state.last_seq and len(found) < limit:
        try:
            message = await js.get_msg(DEAD_LETTERS.name, seq=seq)
        except NotFoundError:
            seq += 1
            continue
        headers = message.headers or {}
        found.append(
            {
                "seq": seq,
                "consumer": headers.get("Danvan-Consumer", ""),
                "subject": headers.get("Danvan-Original-Subject", ""),
                "reason": headers.get("Danvan-Reason", ""),
                "error": headers.get("Danvan-Error", ""),
                "deliveries": headers.get("Danvan-Deliveries", ""),
            }
        )
        seq += 1
    return found


async def replay(js: Any, seq: int) -> str:
    """Republish a dead letter to its original subject and remove it from the DLQ."""
    message = await js.get_msg(DEAD_LETTERS.name, seq=seq)
    headers = message.headers or {}
    subject = headers.get("Danvan-Original-Subject")
    if not subject:
        raise ValueError(f"dead letter {seq} has no original subject")
    # A new message id: the original one may still be inside the dedupe window.
    await js.publish(subject, message.data, headers={"Nats-Msg-Id": f"replay:{seq}"})
    await js.delete_msg(DEAD_LETTERS.name, seq)
    return str(subject)


async def _main(args: argparse.Namespace) -> int:
    settings = ServiceSettings()
    if args.nkey_seed_file is not None:
        settings = settings.model_copy(
            update={"nats_nkey_seed": None, "nats_nkey_seed_file": args.nkey_seed_file}
        )
    nc = await nats.connect(
        args.nats_url.split(","), connect_timeout=5, **connect_options(settings, user=OPERATOR)
    )
    try:
        js = nc.jetstream()
        if args.command == "list":
            for row in await list_dead_letters(js, args.limit):
                sys.stdout.write(json.dumps(row, ensure_ascii=False) + "\n")
        elif args.command == "replay":
            subject = await replay(js, args.seq)
            sys.stdout.write(f"replayed {args.seq} to {subject}\n")
        else:
            await js.delete_msg(DEAD_LETTERS.name, args.seq)
            sys.stdout.write(f"dropped {args.seq}\n")
    finally:
        await nc.close()
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--nats-url", default=ServiceSettings().nats_url)
    parser.add_argument(
        "--nkey-seed-file",
        type=Path,
        default=None,
        help="the operator's NATS seed (make run: .data/nats-auth/operator.nk); default: "
        "DANVAN_NATS_NKEY_SEED or DANVAN_NATS_NKEY_SEED_FILE",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    listing = sub.add_parser("list", help="show dead letters")
    listing.add_argument("--limit", type=int, default=100)
    for name in ("replay", "drop"):
        one = sub.add_parser(name)
        one.add_argument("seq", type=int)
    return asyncio.run(_main(parser.parse_args()))


if __name__ == "__main__":
    sys.exit(main())
