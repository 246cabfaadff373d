"""The migrations build exactly the schema the models describe, on both databases."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

from storage.db import alembic_config, make_engine, upgrade
from storage.models import Base


async def test_migrations_match_the_models(database_url: str) -> None:
    await upgrade(database_url)
    engine = make_engine(database_url)
    async with engine.connect() as conn:
        diff = await conn.run_sync(
            lambda sync: compare_metadata(MigrationContext.configure(sync), Base.metadata)
        )
    await engine.dispose()
    assert diff == []


async def test_upgrading_twice_changes_nothing(database_url: str) -> None:
    await upgrade(database_url)
    await upgrade(database_url)
    engine = make_engine(database_url)
    async with engine.connect() as conn:
        version = (await conn.exec_driver_sql("SELECT version_num FROM alembic_version")).scalar()
    await engine.dispose()
    assert version == ScriptDirectory.from_config(alembic_config()).get_current_head()


async def test_hosts_started_at_once_migrate_one_after_the_other(postgres_server) -> None:
    """Two hosts' `jalerte db upgrade` on an empty PostgreSQL database at the same time:
    both succeed (before: one died on a duplicate table, or they waited on each other)."""
    import asyncio
    import secrets

    from storage.db import upgrade
    from tests.postgres import create_database

    url = await create_database(postgres_server, f"jalerte_race_{secrets.token_hex(4)}")
    await asyncio.wait_for(asyncio.gather(upgrade(url), upgrade(url), upgrade(url)), 60)


async def test_a_database_a_newer_release_migrated_does_not_stop_this_one(tmp_path) -> None:
    """During a rolling deploy the database is already at the new release's revision
    while this host still runs the previous one: it must start (and restart) anyway."""
    from sqlalchemy import text

    from storage.db import Database

    url = f"sqlite+aiosqlite:///{tmp_path / 'jalerte.db'}"
    await upgrade(url)
    engine = make_engine(url)
    async with engine.begin() as conn:
        await conn.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    await engine.dispose()
    await upgrade(url)  # no error: nothing to do
    db = await Database.open(url)
    await db.close()
    engine = make_engine(url)
    async with engine.connect() as conn:
        assert (
            await conn.execute(text("SELECT version_num FROM alembic_version"))
        ).scalar() == "9999"
    await engine.dispose()
