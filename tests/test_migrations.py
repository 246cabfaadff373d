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
