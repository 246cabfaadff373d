"""The statistics page's computation at a million alerts (issue 11: ≤ 300 ms p95).

Seeds N synthetic consistent alerts (`storage.seed`) into a fresh SQLite file (or a
throwaway PostgreSQL cluster with --postgres), then times the dashboard as the page
computes it (one GROUP BY + the pure aggregation), unfiltered and filtered, 20 times.

    .venv/bin/python bench/stats.py [--alerts 1000000] [--postgres]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.console.stats import dashboard, load_customer_base  # noqa: E402
from domain.taxonomy import Taxonomy  # noqa: E402
from storage.db import Database  # noqa: E402
from storage.seed import seed_alerts  # noqa: E402
from storage.staff import AlertFilter, StaffRepository  # noqa: E402


async def run(url: str, count: int) -> None:
    db = await Database.open(url)
    try:
        started = time.perf_counter()
        last = [0.0]

        def progress(_step: str, done: int, total: int) -> None:
            if time.perf_counter() - last[0] > 5 or done == total:
                last[0] = time.perf_counter()
                print(f"  seeded {done:,}/{total:,}", flush=True)

        await seed_alerts(db, Taxonomy.load(), count, progress=progress)
        print(f"seeding {count:,} alerts: {time.perf_counter() - started:.0f} s")
        repo, bases = StaffRepository(db), load_customer_base()
        for name, flt in (
            ("all alerts", AlertFilter()),
            ("mobile, one category", AlertFilter(sector="mobile", category="coverage")),
        ):
            times = []
            for _ in range(20):
                started = time.perf_counter()
                board = dashboard(await repo.alert_groups(flt), bases)
                times.append((time.perf_counter() - started) * 1000)
            times.sort()
            print(
                f"dashboard, {name}: {board.total:,} alerts, p50 "
                f"{statistics.median(times):.0f} ms, p95 {times[18]:.0f} ms"
            )
    finally:
        await db.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--alerts", type=int, default=1_000_000)
    parser.add_argument("--postgres", action="store_true")
    args = parser.parse_args()
    if args.postgres:
        from tests.postgres import Cluster, create_database

        cluster = Cluster()
        try:
            url = asyncio.run(create_database(cluster.start(), "jalerte_stats"))
            print("PostgreSQL")
            asyncio.run(run(url, args.alerts))
        finally:
            cluster.stop()
    else:
        print("SQLite")
        asyncio.run(run(f"sqlite+aiosqlite:///{tempfile.mkdtemp()}/stats.db", args.alerts))


if __name__ == "__main__":
    main()
