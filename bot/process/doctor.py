"""`jalerte doctor`: is this installation ready to serve? One line per check, ✓ or ✗
with what to do (! for a warning that blocks nothing); exit status 1 when something must
be fixed."""

from __future__ import annotations

import asyncio
import sys
import shutil
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from bot.process.config import Config
from storage.private import exposed, private_dir

MIN_FREE_BYTES = 1024**3  # photos and the database need room


@dataclass
class Check:
    name: str
    ok: bool
    detail: str
    warning: bool = False  # worth a look, but the service can run


async def run_checks(config: Config, today: date | None = None) -> list[Check]:
    checks = [
        _data_dir(config),
        _private(config),
        _disk(config),
        _secret(config),
        _public_url(config),
    ]
    checks.append(await _database(config))
    checks.append(await _nlu(config))
    checks.append(_advice(today))
    return checks


def _data_dir(config: Config) -> Check:
    path = Path(config.data_dir)
    try:
        private_dir(path)
        probe = path / ".doctor"
        probe.write_text("ok")
        probe.unlink()
        return Check("data directory", True, str(path.resolve()))
    except OSError as exc:
        return Check("data directory", False, f"{path}: {exc.strerror} (JALERTE_DATA_DIR)")


def _private(config: Config) -> Check:
    """Password hashes, session ids and what people wrote: nobody else's to read."""
    path = Path(config.data_dir)
    found = exposed(path)
    if not found:
        return Check("data access", True, f"{path}: the service user's only (0700/0600)")
    shown = ", ".join(str(p) for p in found[:3]) + (", …" if len(found) > 3 else "")
    return Check(
        "data access",
        False,
        f"{len(found)} readable by other local users ({shown}): "
        f"`chmod -R go= {path}` (done at every start too)",
    )


def _disk(config: Config) -> Check:
    path = Path(config.data_dir)
    free = shutil.disk_usage(path if path.exists() else path.parent).free
    return Check(
        "free disk",
        free >= MIN_FREE_BYTES,
        f"{free / 1024**3:.1f} GB free" + ("" if free >= MIN_FREE_BYTES else ": less than 1 GB"),
    )


def _secret(config: Config) -> Check:
    if config.secret_key:
        return Check(
            "secret key",
            len(config.secret_key) >= 32,
            "JALERTE_SECRET_KEY set"
            + ("" if len(config.secret_key) >= 32 else ", but shorter than 32 characters"),
        )
    if config.missing_secret():
        return Check("secret key", False, "JALERTE_SECRET_KEY not set: " + config.missing_secret())
    path = Path(config.data_dir) / "secret.key"
    return Check(
        "secret key",
        True,
        f"{path} ({'exists' if path.exists() else 'made at start'}"
        "; set JALERTE_SECRET_KEY to share it between machines)",
    )


def _public_url(config: Config) -> Check:
    ok = config.public_url.startswith("https://")
    return Check("public URL", ok, config.public_url + ("" if ok else ": share links need https"))


async def _database(config: Config) -> Check:
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    from storage.db import alembic_config, make_engine

    engine = make_engine(config.database_url)
    try:
        async with engine.connect() as conn:
            current = await conn.run_sync(
                lambda sync: MigrationContext.configure(sync).get_current_revision()
            )
        head = ScriptDirectory.from_config(alembic_config()).get_current_head()
        if current != head:
            return Check(
                "database",
                False,
                f"schema {current or 'empty'}, code wants {head}: "
                "run `jalerte db upgrade` (done at every start too)",
            )
        return Check("database", True, f"{engine.dialect.name}, schema {current}")
    except Exception as exc:  # reported, not raised: this is the diagnosis
        return Check("database", False, f"{type(exc).__name__}: {exc} (JALERTE_DATABASE_URL)")
    finally:
        await engine.dispose()


async def _nlu(config: Config) -> Check:
    from bot.process.nlu_client import RemoteNlu

    if config.nlu != "service":
        remote = (
            RemoteNlu(socket=Path(config.nlu[len("unix:") :]))
            if config.nlu.startswith("unix:")
            else RemoteNlu(config.nlu)
        )
        try:
            ok = await remote.healthy()
        finally:
            await remote.close()
        return Check(
            "NLU service",
            ok,
            config.nlu + ("" if ok else ": not answering (start `jalerte-nlu serve`)"),
        )
    problems = []
    if not Path(config.nlu_python).exists():
        problems.append(f"no NLU environment at {config.nlu_python} (`make install`)")
    if not Path(config.model_path).exists():
        problems.append(f"no model at {config.model_path} (`make train`)")
    return Check(
        "NLU",
        not problems,
        "; ".join(problems) or f"model {Path(config.model_path).name}, started by `jalerte run`",
    )


def _advice(today: date | None) -> Check:
    """Advice sheets whose facts were checked too long ago (today in Paris by default)."""
    from advice_content.library import STALE_AFTER_MONTHS, AdviceError, AdviceLibrary
    from domain.dates import paris_today
    from domain.taxonomy import Taxonomy

    try:
        library = AdviceLibrary.load(Taxonomy.load())
    except AdviceError as exc:
        return Check("advice sheets", False, str(exc))
    stale = library.stale(today or paris_today())
    if not stale:
        oldest = min(sheet.checked for sheet in library.sheets)
        return Check(
            "advice sheets",
            True,
            f"facts checked within {STALE_AFTER_MONTHS} months (oldest check {oldest:%Y-%m-%d})",
        )
    listed = ", ".join(f"{s.id} ({s.checked:%Y-%m-%d})" for s in stale)
    return Check(
        "advice sheets",
        True,
        f"checked more than {STALE_AFTER_MONTHS} months ago: "
        f"{listed}; read their sources again, then update `checked` "
        "(advice_content/sheets)",
        warning=True,
    )


def doctor(config: Config, today: date | None = None) -> int:
    checks = asyncio.run(run_checks(config, today))
    for check in checks:
        mark = "✗" if not check.ok else "!" if check.warning else "✓"
        print(f"{mark} {check.name}: {check.detail}")
    failed = [c for c in checks if not c.ok]
    warned = [c for c in checks if c.ok and c.warning]
    print(
        f"{len(failed)} point(s) à corriger."
        if failed
        else f"Prêt, avec {len(warned)} avertissement(s)."
        if warned
        else "Prêt.",
        file=sys.stderr,
    )
    return 1 if failed else 0
