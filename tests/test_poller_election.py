"""Telegram long polling by one elected process, webhooks by any (issue 11, item 1).

The database elects the poller (storage.db.Election: a PostgreSQL advisory lock held on a
connection of its own; a file lock on SQLite). Polled updates are stored before Telegram
hears they were received, so the next poller handles what a killed one confirmed but did
not handle, and nothing twice.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import os
import signal
import sys
import time
from pathlib import Path

import aiohttp
from sqlalchemy import text

from bot.channels.web.app import create_app
from storage.db import Database, Election, lock_key
from storage.shared import TelegramUpdates
from tests.conftest import web_config
from tests.test_run import free_port
from tests.test_telegram import bot_says, texts

ALICE, BOB, CAROL = 4242, 777, 5151
SECRET = "election-test-secret"


async def until(condition, timeout: float, what: str) -> float:
    """Waits (without blocking the loop the fake runs in) until condition() is true;
    returns how long it took."""
    started = time.monotonic()
    while True:
        result = condition()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return time.monotonic() - started
        if time.monotonic() - started > timeout:
            raise AssertionError(f"{what}: not after {timeout} s")
        await asyncio.sleep(0.05)


# -- the election itself -------------------------------------------------------------------


class Recorder:
    def __init__(self) -> None:
        self.events: list[tuple[str, str, float]] = []

    def election(self, db: Database, who: str, every: float = 0.2) -> Election:
        async def lead() -> None:
            self.events.append((who, "lead", time.monotonic()))

        async def step_down() -> None:
            self.events.append((who, "down", time.monotonic()))

        return Election(db, "test work", lead, step_down, every=every)

    def at(self, who: str, what: str) -> list[float]:
        return [t for w, e, t in self.events if (w, e) == (who, what)]


async def test_postgres_one_holder_and_a_quick_step_down_when_its_connection_is_cut(
    postgres_server,
) -> None:
    from tests.postgres import create_database

    db = Database(await create_database(postgres_server, "jalerte_election"))
    record = Recorder()
    first, second = record.election(db, "first"), record.election(db, "second")
    try:
        await first.start()
        await second.start()
        assert first.leading and not second.leading
        await asyncio.sleep(0.6)  # the second keeps trying, in vain
        assert first.leading and not second.leading
        assert record.at("second", "lead") == []

        # The server ends the holder's session (a dropped connection, a failover...): the
        # lock goes with it, the holder steps down at once, the other one takes over.
        async with db.engine.connect() as conn:
            ended = await conn.scalar(
                text(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_locks "
                    "WHERE locktype = 'advisory' AND granted AND pid <> pg_backend_pid()"
                )
            )
        assert ended == 1
        cut = time.monotonic()
        assert await until(lambda: not first.leading, 2, "the holder steps down") < 1.0
        await until(lambda: second.leading, 3, "the other one takes over")
        [down] = record.at("first", "down")
        [took] = record.at("second", "lead")
        assert down - cut < 0.5 and took - cut < 1.5
        assert down - took < 0.1  # at worst a moment of overlap, never a round's worth
        await asyncio.sleep(0.6)
        assert not first.leading  # it tries again, and the lock is taken

        await second.stop()  # a clean stop hands over within a round
        assert record.at("second", "down")
        await until(lambda: first.leading, 3, "the first one takes over again")
    finally:
        await first.stop()
        await second.stop()
        await db.close()
    assert [e for _, e, _ in record.events] == ["lead", "down", "lead", "down", "lead", "down"]


async def test_sqlite_elects_with_a_file_lock(tmp_path) -> None:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'jalerte.db'}")
    memory = Database("sqlite+aiosqlite:///:memory:")
    record = Recorder()
    first, second = record.election(db, "first"), record.election(db, "second")
    alone = record.election(memory, "alone")
    try:
        await first.start()
        await second.start()
        await alone.start()
        assert first.leading and not second.leading and alone.leading
        assert (tmp_path / "jalerte.db.test-work.lock").exists()
        await first.stop()
        await until(lambda: second.leading, 2, "the other process takes over")
    finally:
        for election in (first, second, alone):
            await election.stop()
        await db.close()
        await memory.close()


# -- polled updates: stored before they are confirmed, handled once ------------------------


async def test_polled_updates_are_stored_and_handled_once(database_url) -> None:
    db = await Database.open(database_url)
    try:
        updates = TelegramUpdates(db)

        def update(update_id: int) -> dict:
            return {
                "update_id": update_id,
                "message": {
                    "message_id": 1,
                    "date": 0,
                    "chat": {"id": 1, "type": "private"},
                    "text": "x",
                    "from": {
                        "id": 1,
                        "is_bot": False,
                        "first_name": "Alice",
                        "username": "alice_dupont",
                    },
                },
            }

        assert await updates.polled([(10, update(10)), (11, update(11))]) == [10, 11]
        await updates.handled(10)
        # Given again to the next poller (the first stopped before confirming them): what
        # was handled is not handled again, what was only stored is.
        assert await updates.polled([(10, update(10)), (11, update(11)), (12, update(12))]) == [
            11,
            12,
        ]
        assert not await updates.receive(12, update(12))  # and a webhook knows them too
        stored = await updates.unhandled()
        assert [u["update_id"] for u in stored] == [11, 12]
        assert "alice_dupont" not in str(stored)
        assert stored[0]["message"]["from"]["first_name"] == ""
    finally:
        await db.close()


async def _health(client) -> dict:
    response = await client.get("/healthz")
    return await response.json()


async def _polls(client) -> bool:
    return (await _health(client))["telegram_poller"]


async def test_one_app_polls_the_other_takes_over_when_it_stops_and_healthz_says_who(
    fake, sqlite_bot, aiohttp_client, tmp_path
) -> None:
    """Two servers on one SQLite file: one polls; when it stops, the other polls."""
    config = web_config(
        tmp_path, telegram_token=fake.token, telegram_api_url=fake.url, telegram_poller_retry=0.2
    )
    first = await aiohttp_client(create_app(config, rt=sqlite_bot.runtime))
    second = await aiohttp_client(create_app(config, rt=sqlite_bot.runtime))
    assert (await _health(first))["telegram_poller"] is True
    assert (await _health(second))["telegram_poller"] is False
    fake.push(fake.text_update(ALICE, "/aide"))
    await bot_says(fake, ALICE, "annuler")
    assert fake.max_concurrent_polls == 1

    await first.close()
    await until(lambda: _polls(second), 5, "the other app polls")
    fake.push(fake.text_update(BOB, "/aide"))
    await bot_says(fake, BOB, "annuler")
    await asyncio.sleep(0.3)
    assert sum("annuler" in t for t in texts(fake, ALICE)) == 1  # answered once, not again


async def test_webhook_workers_do_not_poll(fake, sqlite_bot, aiohttp_client, tmp_path) -> None:
    config = web_config(
        tmp_path,
        telegram_token=fake.token,
        telegram_api_url=fake.url,
        telegram_webhook_url="https://bot.example.org",
    )
    client = await aiohttp_client(create_app(config, rt=sqlite_bot.runtime))
    assert (await _health(client))["telegram_poller"] is False
    assert fake.calls_to("getUpdates") == []


async def test_a_polled_update_confirmed_but_not_handled_is_handled_by_the_next_poller(
    fake, sqlite_bot, aiohttp_client, tmp_path
) -> None:
    """A poller stored an update, confirmed it to Telegram and died before handling it."""
    update = fake.text_update(ALICE, "colis Chronopost perdu")
    assert await TelegramUpdates(sqlite_bot.db).polled([(update["update_id"], update)])
    config = web_config(tmp_path, telegram_token=fake.token, telegram_api_url=fake.url)
    await aiohttp_client(create_app(config, rt=sqlite_bot.runtime))
    await bot_says(fake, ALICE, "Où")
    await until(lambda: _all_handled(sqlite_bot.db), 5, "marked handled")


async def _all_handled(db: Database) -> bool:
    return await TelegramUpdates(db).unhandled() == []


# -- real processes on PostgreSQL ----------------------------------------------------------


def _pid_of_client(port: int, pids: list[int]) -> int | None:
    """Which of `pids` owns the local TCP port `port` (a connection to the fake)."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if int(fields[1].rsplit(":", 1)[1], 16) == port:
                inodes.add(fields[9])
    for pid in pids:
        try:
            fds = list(Path(f"/proc/{pid}/fd").iterdir())
        except OSError:
            continue
        for fd in fds:
            try:
                link = os.readlink(fd)
            except OSError:
                continue
            if link.startswith("socket:[") and link[8:-1] in inodes:
                return pid
    return None


class Server:
    """`jalerte run` as its own process, as on another machine (its own data dir)."""

    def __init__(self, name: str, env: dict[str, str], tmp_path: Path):
        self.name = name
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.env = {**env, "JALERTE_PORT": str(self.port), "JALERTE_DATA_DIR": str(tmp_path / name)}
        self.log = tmp_path / f"{name}.log"
        self.proc: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        with self.log.open("wb") as log:
            self.proc = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "bot.process.cli",
                "run",
                env=self.env,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=log,
                stderr=log,
            )

    async def health(self, http: aiohttp.ClientSession) -> dict | None:
        try:
            async with http.get(f"{self.base}/healthz") as response:
                return await response.json() if response.status == 200 else None
        except aiohttp.ClientError:
            return None

    async def polls(self, http: aiohttp.ClientSession) -> bool:
        return bool((await self.health(http) or {}).get("telegram_poller"))

    def tail(self) -> str:
        return self.log.read_text(errors="replace")[-3000:]


async def test_two_processes_one_polls_and_the_other_takes_over_after_kill_9(
    fake, nlu, trained_model, tmp_path, postgres_server
) -> None:
    import asyncpg

    from storage.db import upgrade
    from tests.postgres import create_database

    url = await create_database(postgres_server, "jalerte_poller_election")
    await upgrade(url)
    env = {
        **os.environ,
        "JALERTE_DATABASE_URL": url,
        "JALERTE_MODEL_PATH": str(trained_model),
        "JALERTE_NLU": f"unix:{nlu.socket}",
        "JALERTE_SECRET_KEY": SECRET,
        "JALERTE_TELEGRAM_TOKEN": fake.token,
        "JALERTE_TELEGRAM_API_URL": fake.url,
        "JALERTE_TELEGRAM_POLLER_RETRY": "0.5",
        "JALERTE_LOG_LEVEL": "INFO",
    }
    env.pop("JALERTE_WORKER", None)
    servers = [Server("a", env, tmp_path), Server("b", env, tmp_path)]
    pg = await asyncpg.connect(url.replace("postgresql+asyncpg", "postgresql"))

    async def row(update: dict):
        return await pg.fetchrow(
            "SELECT payload, handled_at FROM telegram_updates WHERE update_id = $1",
            update["update_id"],
        )

    try:
        await asyncio.gather(*(s.start() for s in servers))
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as http:
            for server in servers:
                await until(lambda: server.health(http), 90, f"{server.name} healthy")
            await until(lambda: _one_polls(servers, http), 10, "one poller")
            polling = [await s.polls(http) for s in servers]
            poller, other = servers if polling[0] else servers[::-1]
            pids = [s.proc.pid for s in servers]

            # -- only one process polls ------------------------------------------------
            fake.push(fake.text_update(ALICE, "/aide"))
            await bot_says(fake, ALICE, "annuler")
            await asyncio.sleep(1.5)  # the other one keeps trying, in vain
            assert not await other.polls(http) and await poller.polls(http)
            peers = {peer for peer in fake.poll_peers() if peer}
            assert {_pid_of_client(port, pids) for _, port in peers} == {poller.proc.pid}
            assert fake.max_concurrent_polls == 1

            # -- confirmed to Telegram, not handled yet: Bob's turn waits on his lock ----
            # (a turn reads and locks the person's conversation row, FOR UPDATE: Bob has
            # talked to the bot before, and another turn of his holds the row)
            bob_key = hmac.new(
                SECRET.encode(), f"telegram:{BOB}".encode(), hashlib.sha256
            ).hexdigest()
            await pg.execute(
                "INSERT INTO conversations (channel, user_key, state, language, created_at, "
                "updated_at) VALUES ('telegram', $1, '{}', 'fr', now(), now())",
                bob_key,
            )
            held = pg.transaction()
            await held.start()
            await pg.execute(
                "SELECT id FROM conversations WHERE channel = 'telegram' AND user_key = $1 "
                "FOR UPDATE",
                bob_key,
            )
            bob = fake.text_update(BOB, "colis Chronopost perdu")
            fake.push(bob)
            await until(lambda: not fake.pending_updates, 10, "Bob's update confirmed")
            assert (await row(bob))["handled_at"] is None

            # -- handled, not confirmed yet: the poller's next getUpdates is held ---------
            fake.pause("getUpdates")
            alice = fake.text_update(ALICE, "colis DPD abîmé à la livraison")
            fake.push(alice)
            await bot_says(fake, ALICE, "Où cela se passe")
            await until(lambda: _handled(row, alice), 10, "Alice's update handled")
            assert [u["update_id"] for u in fake.pending_updates] == [alice["update_id"]]

            poller.proc.send_signal(signal.SIGKILL)
            killed = time.monotonic()
            await poller.proc.wait()
            # Its held getUpdates goes with it (never confirming Alice's update).
            poller_ports = {port for _, port in peers}
            await until(
                lambda: not poller_ports & {p[1] for p in fake.poll_peers(True) if p},
                5,
                "the killed poller's connection closed",
            )
            fake.resume("getUpdates")
            await held.rollback()  # Bob's row is free

            await until(lambda: other.polls(http), 10, "the other process polls")
            takeover = time.monotonic() - killed
            await bot_says(fake, BOB, "Où cela se passe")
            fake.push(fake.text_update(CAROL, "/aide"))
            await bot_says(fake, CAROL, "annuler")
            answered = time.monotonic() - killed
            await until(lambda: not fake.pending_updates, 5, "everything confirmed")
            await asyncio.sleep(1.0)  # time for a duplicate to show, if there were one
            assert sum("Où cela se passe" in t for t in texts(fake, BOB)) == 1
            assert sum("Où cela se passe" in t for t in texts(fake, ALICE)) == 1
            assert (
                await pg.fetchval("SELECT count(*) FROM telegram_updates WHERE handled_at IS NULL")
                == 0
            )
            later = [p for p in fake.poll_peers() if p and p not in peers]
            assert later and {_pid_of_client(port, pids) for _, port in later} == {other.proc.pid}
            assert takeover < 5, takeover
            print(
                f"\ntakeover after kill -9: {takeover:.2f} s (poller elected), "
                f"{answered:.2f} s (a new message answered)"
            )
    finally:
        await pg.close()
        for server in servers:
            if server.proc is not None and server.proc.returncode is None:
                server.proc.send_signal(signal.SIGTERM)
                try:
                    await asyncio.wait_for(server.proc.wait(), 30)
                except asyncio.TimeoutError:
                    server.proc.kill()
                    await server.proc.wait()
    survivor = other.proc
    assert survivor.returncode == 0, other.tail()


async def _one_polls(servers: list[Server], http: aiohttp.ClientSession) -> bool:
    return [await s.polls(http) for s in servers].count(True) == 1


async def _handled(row, update: dict) -> bool:
    found = await row(update)
    return found is not None and found["handled_at"] is not None


# -- a poller whose lock's connection is cut -----------------------------------------------


async def test_a_poller_that_loses_its_lock_connection_stops_polling_at_once(
    fake, nlu, taxonomy, tmp_path, postgres_server, aiohttp_client
) -> None:
    """Its session ended by the server (a failover, a network cut, an operator): the lock
    is gone, so it stops polling before the other process may start."""
    from tests.conftest import make_bot
    from tests.postgres import create_database

    bot = await make_bot(
        nlu, taxonomy, tmp_path, await create_database(postgres_server, "jalerte_poller_cut")
    )
    try:
        config = web_config(
            tmp_path,
            telegram_token=fake.token,
            telegram_api_url=fake.url,
            telegram_poller_retry=0.3,
        )
        clients = [await aiohttp_client(create_app(config, rt=bot.runtime)) for _ in range(2)]
        states = [await _polls(c) for c in clients]
        assert states.count(True) == 1
        holder = clients[states.index(True)]

        async with bot.db.engine.connect() as conn:
            ended = await conn.scalar(
                text(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_locks WHERE locktype = "
                    "'advisory' AND granted AND ((classid::bigint << 32) | objid::bigint) = :key"
                ),
                {"key": lock_key("election:telegram poller")},
            )
        assert ended == 1
        assert await until(lambda: _not_polling(holder), 3, "the holder stops") < 1.0
        await until(lambda: _one_app_polls(clients), 3, "one poller again")
        fake.push(fake.text_update(ALICE, "/aide"))
        await bot_says(fake, ALICE, "annuler")
        await asyncio.sleep(0.3)
        assert sum("annuler" in t for t in texts(fake, ALICE)) == 1
        assert fake.max_concurrent_polls == 1
        for client in clients:
            await client.close()
    finally:
        await bot.db.close()


async def _not_polling(client) -> bool:
    return not await _polls(client)


async def _one_app_polls(clients) -> bool:
    return [await _polls(c) for c in clients].count(True) == 1
