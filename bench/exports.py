"""The staff exports at scale (issue 11, item 5): time and server memory per download.

Seeds N synthetic alerts (`storage.seed`, then a description and a place each, as people
give them) into a fresh SQLite file (or a throwaway PostgreSQL cluster with --postgres,
or the empty database at --database-url), then, for each export, starts the real aiohttp
app in a server process of its own, logs in as staff and downloads the file: seconds,
time to the first byte, size, and how much the server's resident memory grew during the
download (its peak, VmHWM, reset just before, minus VmRSS before; from /proc).

`--before` downloads each file a second time through the handler the exports had before
they streamed (every filtered alert loaded as a dict, then the whole file built), mounted
on the same app, and checks that both give the same bytes.

    .venv/bin/python bench/exports.py [--alerts 200000] [--before]
                                      [--postgres | --database-url URL]
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import re
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import aiohttp  # noqa: E402
from aiohttp import web  # noqa: E402
from sqlalchemy import func, literal, update  # noqa: E402

from domain.taxonomy import Taxonomy  # noqa: E402
from storage.db import Database  # noqa: E402
from storage.models import Alert  # noqa: E402
from storage.seed import seed_alerts  # noqa: E402
from storage.staff import StaffRepository  # noqa: E402

EXPORTS = ("alerts.csv", "alerts.json", "opendata.csv")
STAFF, PASSWORD = "bench", "a long enough bench passphrase"


# -- the server process ---------------------------------------------------------------------
async def serve(url: str, data_dir: Path) -> None:
    """The real app on `url` (exports read the database only: no model, no dialogue),
    plus the pre-streaming export handler at /staff/bench/in-memory/{name} (under the
    staff cookie's path). Prints its port, serves until its stdin closes."""
    from bot.process.config import Config
    from bot.console.views import STAFF_REPO, TAXONOMY, parse_filter, staff_only
    from bot.channels.web.app import create_app
    from bot.process.wiring import Runtime
    from storage.exports import alerts_csv, alerts_json, opendata_csv
    from storage.photos import PhotoStore

    before = {
        "alerts.csv": (alerts_csv, "text/csv", "alertes.csv"),
        "alerts.json": (alerts_json, "application/json", "alertes.json"),
        "opendata.csv": (opendata_csv, "text/csv", "alertes-opendata.csv"),
    }

    @staff_only("api")
    async def in_memory(request: web.Request) -> web.Response:
        writer, content_type, filename = before[request.match_info["name"]]
        flt, _ = parse_filter(request)
        alerts, _ = await request.app[STAFF_REPO]().alerts(flt, page_size=None)
        return web.Response(
            body=writer(alerts, request.app[TAXONOMY]),
            content_type=content_type,
            charset="utf-8",
            headers={"Content-Disposition": f'attachment; filename="{filename}"'},
        )

    db = await Database.open(url, migrate=False)
    rt = Runtime(
        service=None,
        db=db,
        nlu=None,
        repository=None,  # type: ignore[arg-type]
        photos=PhotoStore(data_dir / "photos"),
    )
    config = replace(
        Config.from_env({"JALERTE_DATA_DIR": str(data_dir)}), staff_secure_cookies=False
    )
    app = create_app(config, rt=rt)
    app.router.add_get("/staff/bench/in-memory/{name}", in_memory)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    await web.SockSite(runner, sock).start()
    print(sock.getsockname()[1], flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
    await runner.cleanup()
    await db.close()


# -- the benchmark -----------------------------------------------------------------------------
def _status_kb(pid: int, field: str) -> int:
    text = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(rf"^{field}:\s+(\d+) kB", text, re.M).group(1))


def _reset_peak(pid: int) -> bool:
    """Resets the process's VmHWM to its current RSS (Linux ≥ 4.0)."""
    try:
        Path(f"/proc/{pid}/clear_refs").write_text("5")
        return True
    except OSError:
        return False


@dataclass
class Download:
    seconds: float
    first_byte: float
    size: int
    sha256: str
    rss_growth_kb: int


async def _log_in(http: aiohttp.ClientSession, base: str) -> None:
    page = await (await http.get(f"{base}/staff/login")).text()
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    answer = await http.post(
        f"{base}/staff/login",
        allow_redirects=False,
        data={"csrf_token": token, "name": STAFF, "password": PASSWORD, "next": "/staff/alerts"},
    )
    assert answer.status == 302, answer.status


async def _fetch(http: aiohttp.ClientSession, url: str) -> tuple[float, float, int, str]:
    digest, size = hashlib.sha256(), 0
    started = time.perf_counter()
    first_byte = 0.0
    async with http.get(url) as response:
        assert response.status == 200, response.status
        async for chunk in response.content.iter_chunked(1 << 16):
            if not size:
                first_byte = time.perf_counter() - started
            size += len(chunk)
            digest.update(chunk)
    return time.perf_counter() - started, first_byte, size, digest.hexdigest()


async def download(url: str, path: str, data_dir: Path) -> Download:
    """`path` from a fresh server process: memory measured for that download alone."""
    server = subprocess.Popen(
        [sys.executable, __file__, "--serve", url, str(data_dir)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        base = f"http://127.0.0.1:{server.stdout.readline().strip()}"
        jar = aiohttp.CookieJar(unsafe=True)  # cookies for 127.0.0.1
        async with aiohttp.ClientSession(cookie_jar=jar) as http:
            await _log_in(http, base)
            await _fetch(http, f"{base}{path}?q=aucune-alerte-ne-dit-cela")  # code paths loaded
            rss_before = _status_kb(server.pid, "VmRSS")
            exact = _reset_peak(server.pid)
            seconds, first_byte, size, sha = await _fetch(http, f"{base}{path}")
            peak = _status_kb(server.pid, "VmHWM")
        growth = peak - rss_before if exact else max(peak - rss_before, 0)
        return Download(seconds, first_byte, size, sha, growth)
    finally:
        server.stdin.close()
        server.wait(timeout=30)


async def prepare(url: str, count: int) -> None:
    db = await Database.open(url)
    try:
        started = time.perf_counter()
        last = [0.0]

        def progress(_step: str, done: int, total: int) -> None:
            if time.perf_counter() - last[0] > 10 or done == total:
                last[0] = time.perf_counter()
                print(f"  seeded {done:,}/{total:,}", flush=True)

        await seed_alerts(db, Taxonomy.load(), count, progress=progress)
        async with db.session() as session, session.begin():
            # What people write: a sentence, and a place with a postcode (the last two
            # digits of the id give the département, so the open data has ~100 of them).
            await session.execute(
                update(Alert).values(
                    description=literal(
                        "Plus de réseau depuis trois jours, même dehors ; référence "
                    )
                    + Alert.id,
                    location=literal("Commune (") + func.substr(Alert.id, 15, 2) + "100)",
                )
            )
        await StaffRepository(db).add_user(STAFF, PASSWORD)
        print(f"seeding {count:,} alerts: {time.perf_counter() - started:.0f} s", flush=True)
    finally:
        await db.close()


async def run(url: str, count: int, before: bool) -> None:
    await prepare(url, count)
    with tempfile.TemporaryDirectory(prefix="jalerte-exports-") as data_dir:
        await measure(url, before, Path(data_dir))


async def measure(url: str, before: bool, data_dir: Path) -> None:
    modes = [("streamed", "/staff/export/")] + (
        [("in memory", "/staff/bench/in-memory/")] if before else []
    )
    print(
        f"{'export':<13} {'handler':<10} {'seconds':>8} {'1st byte':>9} {'MB':>7} "
        f"{'server RSS growth':>18}"
    )
    for name in EXPORTS:
        digests = set()
        for mode, prefix in modes:
            result = await download(url, prefix + name, data_dir)
            digests.add(result.sha256)
            print(
                f"{name:<13} {mode:<10} {result.seconds:>8.2f} {result.first_byte:>8.2f}s "
                f"{result.size / 1e6:>7.1f} {result.rss_growth_kb / 1024:>14.1f} MB",
                flush=True,
            )
        if before:
            print(f"{'':<13} same bytes: {'yes' if len(digests) == 1 else 'NO'}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--alerts", type=int, default=200_000)
    parser.add_argument(
        "--before",
        action="store_true",
        help="also time the in-memory handler the exports had before",
    )
    parser.add_argument(
        "--postgres",
        action="store_true",
        help="a throwaway PostgreSQL cluster (Debian's server binaries)",
    )
    parser.add_argument("--database-url", help="an empty database (postgresql+asyncpg://…)")
    parser.add_argument("--serve", nargs=2, metavar=("URL", "DATA_DIR"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        asyncio.run(serve(args.serve[0], Path(args.serve[1])))
    elif args.database_url:
        print(args.database_url.split("://")[0])
        asyncio.run(run(args.database_url, args.alerts, args.before))
    elif args.postgres:
        from tests.postgres import Cluster, create_database

        cluster = Cluster()
        try:
            url = asyncio.run(create_database(cluster.start(), "jalerte_exports"))
            print("PostgreSQL")
            asyncio.run(run(url, args.alerts, args.before))
        finally:
            cluster.stop()
    else:
        print("SQLite")
        with tempfile.TemporaryDirectory(prefix="jalerte-exports-") as folder:
            asyncio.run(run(f"sqlite+aiosqlite:///{folder}/exports.db", args.alerts, args.before))


if __name__ == "__main__":
    main()
