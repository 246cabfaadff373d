"""Operations: `jalerte doctor` and JSON logs."""

from __future__ import annotations

import json
import logging

from bot.process.cli import JsonLogFormatter
from bot.process.doctor import run_checks
from storage.db import upgrade
from tests.conftest import web_config


async def test_doctor_says_what_to_fix(tmp_path) -> None:
    from dataclasses import replace

    config = replace(web_config(tmp_path), nlu=f"unix:{tmp_path / 'nowhere.sock'}")
    checks = {c.name: c for c in await run_checks(config)}
    import shutil

    free_gb = shutil.disk_usage(tmp_path).free / 1024**3
    assert checks["data directory"].ok
    if abs(free_gb - 1) > 0.2:  # the check says what the disk has (whatever this machine has)
        assert checks["free disk"].ok == (free_gb >= 1), checks["free disk"].detail
    assert not checks["database"].ok and "jalerte db upgrade" in checks["database"].detail
    assert not checks["NLU service"].ok and "jalerte-nlu serve" in checks["NLU service"].detail
    await upgrade(config.database_url)
    checks = {c.name: c for c in await run_checks(config)}
    from alembic.script import ScriptDirectory

    from storage.db import alembic_config

    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert checks["database"].ok and f"schema {head}" in checks["database"].detail


async def test_doctor_fails_while_the_data_is_readable_by_other_local_users(tmp_path) -> None:
    import os
    from dataclasses import replace

    from storage.private import tighten

    config = replace(web_config(tmp_path), nlu=f"unix:{tmp_path / 'nowhere.sock'}")
    await upgrade(config.database_url)
    checks = {c.name: c for c in await run_checks(config)}
    assert checks["data access"].ok, checks["data access"].detail
    database = config.data_dir / "jalerte.db"
    os.chmod(database, 0o644)  # as an earlier version made it
    checks = {c.name: c for c in await run_checks(config)}
    assert not checks["data access"].ok and str(database) in checks["data access"].detail
    tighten(config.data_dir)  # what every start does
    assert {c.name: c for c in await run_checks(config)}["data access"].ok


async def test_doctor_finds_the_running_parse_service(nlu, tmp_path) -> None:
    from dataclasses import replace

    config = replace(web_config(tmp_path), nlu=f"unix:{nlu.socket}")
    checks = {c.name: c for c in await run_checks(config)}
    assert checks["NLU service"].ok


def test_json_logs_are_one_object_per_line() -> None:
    try:
        raise ValueError("boom")
    except ValueError:
        record = logging.getLogger("jalerte").makeRecord(
            "jalerte",
            logging.ERROR,
            __file__,
            1,
            "turn failed on %s",
            ("web",),
            exc_info=__import__("sys").exc_info(),
        )
    line = JsonLogFormatter().format(record)
    assert "\n" not in line  # a traceback stays inside its one line
    entry = json.loads(line)
    assert entry["level"] == "ERROR" and entry["message"] == "turn failed on web"
    assert "ValueError: boom" in entry["error"]


async def test_a_shared_database_requires_one_secret_for_every_host(tmp_path) -> None:
    """With PostgreSQL no host makes up its own key: sessions issued by one host would be
    refused by the others. `jalerte run` refuses to start and the doctor says why."""
    import os
    import subprocess
    import sys
    from dataclasses import replace

    url = "postgresql+asyncpg://jalerte@127.0.0.1:1/jalerte"
    config = replace(web_config(tmp_path), database_url=url, secret_key=None)
    checks = {c.name: c for c in await run_checks(config)}
    assert not checks["secret key"].ok
    assert "JALERTE_SECRET_KEY" in checks["secret key"].detail
    shared = replace(config, secret_key="k" * 40)
    assert {c.name: c for c in await run_checks(shared)}["secret key"].ok
    alone = {c.name: c for c in await run_checks(web_config(tmp_path))}["secret key"]
    assert alone.ok and "secret.key" in alone.detail  # SQLite, one host: made at start

    env = {**os.environ, "JALERTE_DATABASE_URL": url, "JALERTE_DATA_DIR": str(tmp_path / "d")}
    env.pop("JALERTE_SECRET_KEY", None)
    run = subprocess.run(
        [sys.executable, "-m", "bot.process.cli", "run"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 2 and "JALERTE_SECRET_KEY is required" in run.stderr
    assert "Traceback" not in run.stderr
    assert not (tmp_path / "d" / "secret.key").exists()
