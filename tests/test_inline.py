"""SQLite's inline writes (storage.inline): never block the event loop, lose nothing."""

from __future__ import annotations

import asyncio
import sqlite3
import time

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from storage.db import Database
from storage.inline import inline
from storage.shared import SharedState


async def test_a_write_lock_held_elsewhere_is_waited_for_without_blocking_the_loop(
    tmp_path,
) -> None:
    db = await Database.open(f"sqlite+aiosqlite:///{tmp_path / 'j.db'}")
    shared = SharedState(db)
    await shared.hit("warm")
    other = sqlite3.connect(tmp_path / "j.db", isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # `jalerte purge`, say, in another process
    other.execute("INSERT INTO counters(key, window, count) VALUES ('other', 0, 1)")
    ticks: list[float] = []

    async def ticker() -> None:
        while True:
            ticks.append(time.monotonic())
            await asyncio.sleep(0.01)

    ticking = asyncio.create_task(ticker())
    counting = asyncio.create_task(shared.hit("web:someone"))
    await asyncio.sleep(0.5)
    assert not counting.done()  # waiting for the lock…
    other.execute("COMMIT")
    assert await asyncio.wait_for(counting, 5) == 1  # …then done, once
    ticking.cancel()
    gaps = [b - a for a, b in zip(ticks, ticks[1:])]
    assert len(ticks) > 30 and max(gaps) < 0.1  # the loop went on meanwhile
    other.close()
    await db.close()


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(workers=st.integers(2, 6), hits=st.integers(1, 8))
async def test_concurrent_counters_on_two_databases_lose_no_hit(
    tmp_path_factory, workers, hits
) -> None:
    # Two Database objects on one file: two inline writers, as two services would be.
    path = tmp_path_factory.mktemp("inline") / "j.db"
    first = await Database.open(f"sqlite+aiosqlite:///{path}")
    second = await Database.open(f"sqlite+aiosqlite:///{path}", migrate=False)
    assert inline(first) is not inline(second)
    states = [SharedState(first), SharedState(second)]

    async def worker(n: int) -> None:
        for _ in range(hits):
            await states[n % 2].hit("web:burst", 3600)

    await asyncio.gather(*(worker(n) for n in range(workers)))
    assert await states[0].hit("web:burst", 3600) == workers * hits + 1
    await first.close()
    await second.close()


async def test_a_commit_that_fails_leaves_the_writer_usable(tmp_path) -> None:
    """A COMMIT refused (here a deferred foreign key; a full disk would do the same) after
    the ORM was used in the write: the write fails, nothing of it stays, and the next
    message is written as usual (sqlite3 left inside the failed transaction would refuse
    every later BEGIN)."""
    from sqlalchemy import select

    from sqlalchemy.exc import IntegrityError

    from storage.models import Counter, Message

    db = await Database.open(f"sqlite+aiosqlite:///{tmp_path / 'j.db'}")
    shared = SharedState(db)
    writer = inline(db)
    assert await shared.hit("before") == 1
    raw = writer._connection.connection.driver_connection
    raw.execute("PRAGMA foreign_keys=ON")
    with pytest.raises(IntegrityError):
        async with writer.write() as write:
            write.driver.connection.execute("PRAGMA defer_foreign_keys=ON")
            write.session.add(Message(conversation_id=424242, sender="user", kind="text"))
            await write.session.flush()  # accepted now, refused at COMMIT
    assert not raw.in_transaction
    assert await shared.hit("after") == 1  # the next write works
    async with db.session() as session:
        assert (await session.execute(select(Message))).first() is None
        keys = {c.key for c in await session.scalars(select(Counter))}
    assert keys == {"before", "after"}
    await db.close()
