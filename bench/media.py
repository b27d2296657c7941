"""What signing media URLs costs the list endpoint: a page of 100 followups that all carry a
stored recording and a stored document (200 URLs signed per response), against the same page
whose followups carry none, for the local store and for the S3 store (presigning needs no
bucket: it is computed, so the S3 numbers need no server).

    python bench/media.py [--seconds 10] [--connections 1] [--record]

Prints requests per second, p50 and p99 of each, the ratio, and the command that produced them.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import sys
import tempfile
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.run import provenance, publish, server, token, wrk  # noqa: E402
from relance.auth.scopes import ALL_SCOPES  # noqa: E402
from relance.auth.service import create_client  # noqa: E402
from relance.companies.repository import insert_company  # noqa: E402
from relance.config import MAX_RATE_LIMIT, Settings  # noqa: E402
from relance.debts.records import DebtRecord  # noqa: E402
from relance.debts.repository import insert_debt  # noqa: E402
from relance.followups.records import FollowupRecord  # noqa: E402
from relance.followups.repository.writes import insert_followups  # noqa: E402
from relance.kit.time import utc_now  # noqa: E402
from relance.runtime import open_runtime  # noqa: E402
from relance.schema import upgrade  # noqa: E402

PAGE = "/external-api/v1/followups?limit=100"
S3 = {
    "RELANCE_S3_BUCKET": "bench-media",
    "RELANCE_S3_ENDPOINT_URL": "http://127.0.0.1:9",
    "RELANCE_S3_REGION": "eu-west-3",
    "AWS_ACCESS_KEY_ID": "bench",
    "AWS_SECRET_ACCESS_KEY": "bench-secret",
}


def main() -> None:
    args = parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as work:
        env = {**os.environ, "RELANCE_DATA_DIR": work, "RELANCE_RATE_LIMIT_ENABLED": "false"}
        fixtures = asyncio.run(load(Settings(data_dir=Path(work))))
        for backend in ("local", "s3"):
            store_env = {**env, "RELANCE_MEDIA_BACKEND": backend, **(S3 if backend == "s3" else {})}
            command = [str(Path(sys.executable).with_name("relance")), "serve"]
            with server(command, store_env, "--port") as base:
                for tenant in ("without", "with"):
                    bearer = token(base, fixtures, tenant)
                    wrk(f"{base}{PAGE}", bearer, args.connections, 1)  # warm up, unrecorded
                    stats = wrk(f"{base}{PAGE}", bearer, args.connections, args.seconds)
                    rows.append((backend, tenant, stats))
                    print(f"  {backend} {tenant} media: {stats}", file=sys.stderr)
    report(args, rows)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=1)
    parser.add_argument("--record", action="store_true", help="append the table to RESULTS.md")
    return parser.parse_args()


async def load(settings: Settings) -> dict[str, str]:
    """Two companies of 100 followups each: one whose followups all carry stored media."""
    upgrade(settings.database)
    runtime = await open_runtime(settings)
    fixtures: dict[str, str] = {}
    try:
        async with runtime.db.transaction() as conn:
            now = utc_now()
            for tenant in ("without", "with"):
                company_id = await insert_company(conn, f"Media bench {tenant}", now)
                debt_id = await insert_debt(conn, company_id, debt_values(), now)
                media = stored_media() if tenant == "with" else (None, None)
                followups = [followup_values(now - timedelta(hours=n), *media) for n in range(100)]
                await insert_followups(conn, company_id, debt_id, followups, now)
                client = await create_client(
                    conn, runtime.keys, company_id, ALL_SCOPES, "bench", read_limit=MAX_RATE_LIMIT
                )
                fixtures[f"{tenant}_id"] = client.client_id
                fixtures[f"{tenant}_secret"] = client.client_secret
    finally:
        await runtime.close()
    return fixtures


def debt_values() -> DebtRecord:
    return DebtRecord(
        firstname="Camille",
        lastname="Durand",
        phone="+33612345678",
        amount=Decimal("250.00"),
        currency="EUR",
        status="status.default.pending",
        followups_count=100,
        nb_reminders=100,
    )


def stored_media() -> tuple[str, str]:
    """The stored recording and document every followup of a tenant carries."""
    return (
        f"media:recordings/{secrets.token_hex(16)}.wav",
        f"media:documents/{secrets.token_hex(16)}.pdf",
    )


def followup_values(moment: datetime, audio_url: str | None, pdf_url: str | None) -> FollowupRecord:
    """A delivered email, with its media or none."""
    return FollowupRecord(
        status="delivered",
        type="email",
        call_date=moment,
        processed_at=moment,
        summary="Reminder email sent",
        audio_url=audio_url,
        pdf_url=pdf_url,
    )


def report(args: argparse.Namespace, rows: list[tuple[str, str, dict[str, float]]]) -> None:
    stats = {(backend, tenant): s for backend, tenant, s in rows}
    lines = [
        "### Media URLs: a page of 100 followups, with and without stored media",
        "",
        f"{provenance('media.py')}: SQLite,"
        f" one `relance serve` process, rate limiter off, {args.connections} connection(s),"
        f" {args.seconds} s each; `with` signs 200 URLs per response.",
        "",
        "| store | media | req/s | p50 ms | p99 ms | req/s with / without |",
        "|---|---|---|---|---|---|",
    ]
    for backend in ("local", "s3"):
        without, with_media = stats[(backend, "without")], stats[(backend, "with")]
        ratio = with_media["requests_per_second"] / without["requests_per_second"]
        for tenant, s in (("without", without), ("with", with_media)):
            shown = f"{ratio:.2f}" if tenant == "with" else ""
            lines.append(
                f"| {backend} | {tenant} | {s['requests_per_second']:,.0f} | {s['p50_ms']:.2f}"
                f" | {s['p99_ms']:.2f} | {shown} |"
            )
    publish(lines, args.record)


if __name__ == "__main__":
    main()
