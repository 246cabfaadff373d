"""The staff exports through the real app, on SQLite and PostgreSQL: streamed from the
database a batch at a time (alerts.csv, alerts.json) or counted by it (opendata.csv),
and byte for byte what the in-memory functions make of the same alerts."""

from __future__ import annotations

import asyncio
import json
import logging
import random
import socket
from contextlib import aclosing
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Callable

import aiohttp
import pytest
from aiohttp import web
from sqlalchemy import event, insert, update

from bot.channels.web.app import create_app
from bot.process.wiring import Runtime
from domain.taxonomy import Taxonomy
from storage.db import Database
from storage.exports import CSV_COLUMNS, OPENDATA_COLUMNS, alerts_csv, alerts_json, opendata_csv
from storage.models import Alert, AlertPhoto, Conversation, Photo
from storage.photos import PhotoStore
from storage.seed import seed_alerts
from storage.staff import EXPORT_BATCH, AlertFilter, StaffRepository
from tests.conftest import web_config
from tests.test_staff import PASSWORD, log_in

BOM = b"\xef\xbb\xbf"
MANY = 2 * EXPORT_BATCH + 234  # three batches, the last one partial
EXPORTS = ("alerts.csv", "alerts.json", "opendata.csv")
DESCRIPTIONS = [
    "pas de réseau depuis hier",
    "",
    '=HYPERLINK("http://evil")',
    "+33 6 12",
    "-2",
    "@SUM(A1)",
    "\t=1+1",
    'Bonjour; prix = 2 € "pas cher"\nsur deux lignes',
    "ligne\u2028séparée\u0085 😀",
    "<script>alert('x')</script>",
    "\uff1d1+1",
    "réseau coupé à Murat",
]
LOCATIONS = [
    "Saint-Flour (15100)",
    "75011",
    "Lyon (69)",
    "20200 Bastia",
    "97133",
    "48.86, 2.35",
    None,
    "Murat",
    "=1+1 13001",
    "Paris 75011",
    "98000 Monaco",
]


@dataclass
class Console:
    client: Any
    db: Database
    repo: StaffRepository

    async def download(self, name: str, query: str = "") -> bytes:
        response = await self.client.get(f"/staff/export/{name}" + (f"?{query}" if query else ""))
        assert response.status == 200, await response.text()
        return await response.read()


def staff_app(db: Database, data_dir: Path) -> web.Application:
    """The real app on `db`. The exports read the database only: no dialogue service
    or model behind this runtime."""
    rt = Runtime(
        service=None,
        db=db,
        nlu=None,
        repository=None,  # type: ignore[arg-type]
        photos=PhotoStore(data_dir / "photos"),
    )
    return create_app(web_config(data_dir, staff_secure_cookies=False), rt=rt)


@pytest.fixture
async def console(aiohttp_client, database_url: str, tmp_path: Path):
    """The real app, logged in as staff, on either database."""
    db = await Database.open(database_url)
    client = await aiohttp_client(staff_app(db, tmp_path))
    repo = StaffRepository(db)
    await repo.add_user("agent", PASSWORD)
    assert (await log_in(client)).status == 302
    yield Console(client, db, repo)
    await db.close()


async def add_alerts(db: Database, taxonomy: Taxonomy, count: int, seed: int = 11) -> None:
    """Alerts of every shape an export must render: hostile and multi-line text, typed and
    unknown operators, places with and without a département, photos, and many alerts
    created at the same instant (the order then rests on the id, across batches)."""
    rng = random.Random(seed)
    start = datetime(2025, 11, 28, 22, 0, tzinfo=timezone.utc)
    instants = [
        start
        + timedelta(
            days=rng.randrange(90),
            seconds=rng.randrange(86400),
            microseconds=rng.choice((0, 123456)),
        )
        for _ in range(40)
    ]
    operators = [*taxonomy.operators, None, None, "id_hors_taxonomie"]
    async with db.session() as session, session.begin():
        conversation = Conversation(channel="cli", user_key=f"exports-{seed}", state={})
        session.add(conversation)
        await session.flush()
        alerts, photos, links = [], [], []
        for n in range(count):
            operator = rng.choice(operators)
            alert_id = f"JA-T{rng.randrange(10**8):08d}{n:04d}"
            alerts.append(
                {
                    "id": alert_id,
                    "conversation_id": conversation.id,
                    "channel": rng.choice(("web", "telegram", "cli")),
                    "language": rng.choice(("fr", "en")),
                    "created_at": rng.choice(instants),
                    "user_type": rng.choice([*taxonomy.user_types, None]),
                    "sector": rng.choice([*taxonomy.sectors, None]),
                    "category": rng.choice([*list(taxonomy.categories)[:6], None]),
                    "operator": operator,
                    "operator_text": rng.choice(("Kiwi Télécom", "=cmd|' /C calc'!A0", None))
                    if operator is None
                    else operator.upper(),
                    "technology": rng.choice(("4g", "fibre", None)),
                    "location": rng.choice(LOCATIONS),
                    "description": rng.choice(DESCRIPTIONS),
                    "contacted_customer_service": rng.choice(("yes", "no", "unknown")),
                    "advice_sheet": rng.choice(("mobile_coverage_fr", "-sheet", None)),
                    "advice_rating": rng.choice(("useful", "not_useful", None)),
                    "shared": rng.random() < 0.3,
                }
            )
            for position in range(rng.choice((0, 0, 0, 0, 1, 3))):
                sha = f"{n:032x}{position:032x}"
                photos.append(
                    {
                        "sha256": sha,
                        "path": f"{sha[:2]}/{sha}.jpg",
                        "content_type": "image/jpeg",
                        "size": 10,
                        "width": 1,
                        "height": 1,
                    }
                )
                links.append(
                    {"alert_id": alert_id, "photo_sha256": sha, "position": 2 - position}
                )  # stored out of order
        await session.execute(insert(Alert), alerts)
        if photos:
            await session.execute(insert(Photo), photos)
            await session.execute(insert(AlertPhoto), links)


async def reference(
    repo: StaffRepository, taxonomy: Taxonomy, flt: AlertFilter
) -> dict[str, bytes]:
    """What the exports were before they streamed: every alert in memory, then the file."""
    alerts, _ = await repo.alerts(flt, page_size=None)
    return {
        "alerts.csv": alerts_csv(alerts, taxonomy),
        "alerts.json": alerts_json(alerts, taxonomy),
        "opendata.csv": opendata_csv(alerts, taxonomy),
    }


def filters(taxonomy: Taxonomy) -> list[tuple[str, AlertFilter]]:
    orange = tuple(o.id for o in taxonomy.operators.values() if o.group == "orange")
    return [
        ("", AlertFilter()),
        ("sort=asc", AlertFilter(newest_first=False)),
        ("sector=mobile&photo=yes", AlertFilter(sector="mobile", photo=True)),
        ("photo=no&channel=web", AlertFilter(photo=False, channel="web")),
        ("q=R%C3%A9SEAU", AlertFilter(text="RéSEAU")),
        (
            "start=2025-12-01&end=2026-01-10&sort=asc",
            AlertFilter(
                start=datetime(2025, 12, 1).date(),
                end=datetime(2026, 1, 10).date(),
                newest_first=False,
            ),
        ),
        ("group=orange", AlertFilter(operators_in_group=orange)),
    ]


async def test_streamed_exports_equal_the_in_memory_files(
    console: Console, taxonomy: Taxonomy
) -> None:
    await add_alerts(console.db, taxonomy, MANY)
    for query, flt in filters(taxonomy):
        expected = await reference(console.repo, taxonomy, flt)
        for name in EXPORTS:
            assert await console.download(name, query) == expected[name], (name, query)
    everything = await reference(console.repo, taxonomy, AlertFilter())
    records = json.loads(everything["alerts.json"])
    assert len(records) == MANY and any(r["photos"] for r in records)
    assert len(everything["opendata.csv"].splitlines()) > 5  # groups published, not just a header


async def test_filters_apply_to_every_export(console: Console, taxonomy: Taxonomy) -> None:
    await add_alerts(console.db, taxonomy, 300, seed=5)
    records = json.loads(await console.download("alerts.json", "sector=mobile&photo=yes"))
    assert records and all(r["sector"] == "mobile" and r["photo_count"] > 0 for r in records)
    everything = json.loads(await console.download("alerts.json"))
    assert len(records) < len(everything) == 300
    oldest_first = json.loads(await console.download("alerts.json", "sort=asc"))
    assert [r["created_at"] for r in oldest_first] == sorted(r["created_at"] for r in everything)
    rows = (await console.download("alerts.csv", "q=murat")).decode("utf-8-sig").splitlines()
    assert len(rows) > 1 and all("Murat" in row for row in rows[1:])
    opendata = (
        (await console.download("opendata.csv", "sector=postal")).decode("utf-8-sig").splitlines()
    )
    assert len(opendata) > 1 and all(row.split(";")[1] == "postal" for row in opendata[1:])


async def test_exports_are_streamed_in_chunks_with_their_headers(
    console: Console, taxonomy: Taxonomy
) -> None:
    await add_alerts(console.db, taxonomy, MANY, seed=3)
    for name, content_type, filename in (
        ("alerts.csv", "text/csv", "alertes.csv"),
        ("alerts.json", "application/json", "alertes.json"),
    ):
        response = await console.client.get(f"/staff/export/{name}")
        assert response.status == 200
        assert "Content-Length" not in response.headers
        assert response.headers["Transfer-Encoding"] == "chunked"
        assert response.headers["Content-Type"] == f"{content_type}; charset=utf-8"
        assert response.headers["Content-Disposition"] == f'attachment; filename="{filename}"'
        # Headers are sent before the middleware could add them: set by the export itself.
        assert response.headers["Cache-Control"] == "no-store"
        assert "default-src 'none'" in response.headers["Content-Security-Policy"]
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        chunks, body = 0, b""
        async for data, end_of_chunk in response.content.iter_chunks():
            body += data
            chunks += end_of_chunk
        assert chunks >= 3, name  # one HTTP chunk per batch of alerts
        assert body == (await reference(console.repo, taxonomy, AlertFilter()))[name]
    opendata = await console.client.get("/staff/export/opendata.csv")
    assert opendata.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert opendata.headers["Content-Disposition"] == (
        'attachment; filename="alertes-opendata.csv"'
    )
    assert opendata.headers["Cache-Control"] == "no-store"


async def test_an_empty_export_still_has_its_header(console: Console, taxonomy: Taxonomy) -> None:
    csv_header = BOM + (";".join(CSV_COLUMNS) + "\r\n").encode()
    opendata_header = BOM + (";".join(OPENDATA_COLUMNS) + "\r\n").encode()
    for query in ("", "q=aucune+alerte+ne+dit+cela"):  # no alert at all, then none matching
        assert await console.download("alerts.csv", query) == csv_header
        assert await console.download("alerts.json", query) == b"[]\n"
        assert await console.download("opendata.csv", query) == opendata_header
        if not query:
            await add_alerts(console.db, taxonomy, 20, seed=9)


def connections_in_use(db) -> Callable[[], int]:
    """How many connections exports hold now: they stream outside the pool kept for
    turns (Database.unpooled; SQLite's one engine)."""
    held = [0]

    def taken(*_args) -> None:
        held[0] += 1

    def given_back(*_args) -> None:
        held[0] -= 1

    event.listen(db.unpooled.sync_engine, "checkout", taken)
    event.listen(db.unpooled.sync_engine, "checkin", given_back)
    return lambda: held[0]


async def test_an_export_left_early_gives_its_connection_back(
    console: Console, taxonomy: Taxonomy
) -> None:
    await add_alerts(console.db, taxonomy, MANY, seed=4)
    in_use = connections_in_use(console.db)
    async with aclosing(console.repo.alert_batches(AlertFilter(), batch=100)) as batches:
        first = await anext(batches)
        assert len(first) == 100
        assert in_use() == 1
    assert in_use() == 0
    # The alerts of a batch are those of the paginated list, in the same order.
    page, _ = await console.repo.alerts(AlertFilter(), page=1, page_size=100)
    assert [a["id"] for a in first] == [a["id"] for a in page]


async def test_a_cancelled_download_is_no_error_and_lets_the_database_go(
    console: Console, taxonomy: Taxonomy, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Served as `web.run_app` serves (handlers are not cancelled when the client
    leaves): the next write fails, the export stops there and gives its connection
    back, and nothing is logged as an error."""
    await seed_alerts(console.db, taxonomy, 8000)
    async with console.db.session() as session, session.begin():  # ~40 MB: more than
        await session.execute(update(Alert).values(description="réseau " * 600))  # buffers
    runner = web.AppRunner(staff_app(console.db, tmp_path / "server"), handler_cancellation=False)
    await runner.setup()
    listening = socket.socket()
    listening.bind(("127.0.0.1", 0))
    await web.SockSite(runner, listening).start()
    in_use = connections_in_use(console.db)
    try:
        async with aiohttp.ClientSession(
            f"http://127.0.0.1:{listening.getsockname()[1]}",
            cookie_jar=aiohttp.CookieJar(unsafe=True),
        ) as http:
            assert (await log_in(http)).status == 302
            for name in ("alerts.csv", "alerts.json"):
                response = await http.get(f"/staff/export/{name}")
                await response.content.readexactly(100_000)
                assert in_use() == 1  # still reading the alerts
                response.close()
                for _ in range(200):
                    if not in_use():
                        break
                    await asyncio.sleep(0.05)
                assert in_use() == 0, name
            assert (await http.get("/staff/export/alerts.csv?sector=postal")).status == 200
    finally:
        await runner.cleanup()
    assert not [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
