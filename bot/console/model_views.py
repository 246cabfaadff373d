"""/staff/model: the NLU model in service, its figures, and retraining it (admins).

The figures come from the files `jalerte nlu retrain` writes beside the model
(model_records/files.py: `nlu.json` for the model in service, `history.json` for each run).
An admin (`JALERTE_STAFF_ADMINS`) starts a retrain with the staff annotations: it runs
in the background as `jalerte nlu retrain --with-annotations`, its output in
`<data dir>/retrain.log` and its state in `<data dir>/retrain-job.json` (files, so that
any worker shows it); with a shared database (PostgreSQL) the state and the log's tail are
in table `retrain_jobs` instead, beaten by the host that runs it, so that every host shows
it and none starts a second one. A promoted model is picked up by the running parse service
(bot/process/nlu_process.py watches the model file). The page also says which advice sheets were
checked too long ago (advice_content/library.py decides, from today's date in Paris).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import re
import sys
from datetime import date, datetime, timezone
from functools import lru_cache
from pathlib import Path
from typing import Any

import aiohttp_jinja2
from aiohttp import web
from aiohttp_session import get_session

from advice_content.library import STALE_AFTER_MONTHS, AdviceLibrary
from domain.dates import paris_today
from bot.process.config import Config
from bot.channels.web.base import CONFIG
from bot.console.auth import check_csrf, csrf_token
from bot.console.common import (
    STAFF_USER,
    base_context,
    staff_only,
)
from bot.console.review import paris
from model_records.files import (
    METRICS,
    compare,
    figures_path,
    history_path,
    lock_holder,
    now_iso,
    previous_path,
    read_json,
    write_json_atomic,
)
from domain.fields import FIELDS
from domain.taxonomy import Taxonomy
from storage.private import FILE_MODE, open_private, private_dir

log = logging.getLogger(__name__)
JOBS = web.AppKey("retrain_jobs", set)
# What the console runs (tests add options that train on a tiny data set).
RETRAIN_ARGS: tuple[str, ...] = ("nlu", "retrain", "--with-annotations")
LOG_TAIL_LINES = 40

FIELD_LABELS = {
    **{f.name: f.staff.lower() for f in FIELDS},
    "intent": "intention",
    "is_report": "signalement ou non",
    "category|report": "problème (signalements seuls)",
    "confidently wrong category": "problème donné et faux (moins = mieux)",
    "confidently wrong sector": "secteur donné et faux (moins = mieux)",
    "non-reports left alone": "non-signalements laissés sans champ",
}
SET_LABELS = {"project": "jeu du projet", "independent": "jeu indépendant"}


def _config(request: web.Request) -> Config:
    return request.config_dict[CONFIG]


def _job_path(config: Config) -> Path:
    return Path(config.data_dir) / "retrain-job.json"


def _log_path(config: Config) -> Path:
    return Path(config.data_dir) / "retrain.log"


def is_admin(config: Config, user: str | None) -> bool:
    return bool(user) and user in config.staff_admins


def _pid_alive(pid: Any) -> bool:
    try:
        os.kill(int(pid), 0)
    except (ProcessLookupError, ValueError, TypeError):
        return False
    except PermissionError:
        return True
    return True


def job_state(config: Config) -> dict[str, Any]:
    """{"state": idle | running | done | interrupted, ...} from the job file and the lock
    (a retrain started from the command line shows as running too)."""
    job = read_json(_job_path(config)) or {}
    state = job.get("state") or "idle"
    if state == "running" and not _pid_alive(job.get("pid")):
        # Its server stopped before it ended: the run's own record says how it went.
        last = (read_json(history_path(config.model_path), []) or [None])[-1]
        if isinstance(last, dict) and (last.get("started_at") or "") >= job.get("started_at", "~"):
            job = {
                **job,
                "returncode": 0 if last.get("promoted") else 1,
                "finished_at": last.get("finished_at"),
            }
            state = "done"
        else:
            state = "interrupted"
    holder = lock_holder(config.model_path)
    if holder is not None and state != "running":
        job = {"by": "ligne de commande", "pid": holder}
        state = "running"
    return {**job, "state": state}


# -- the job seen by every host (shared database) ---------------------------------------------
BEAT_EVERY = 5.0  # the host running a retrain says so this often
STALE_AFTER = 30.0  # a job whose host stopped beating this long ago was interrupted


def _iso(moment: datetime | None) -> str | None:
    return moment.astimezone(timezone.utc).isoformat() if moment else None


async def shared_job_state(db) -> tuple[dict[str, Any], str]:
    """The newest retrain job of any host (the page's `job`) and its log's tail."""
    from sqlalchemy import select

    from storage.models import RetrainJob

    async with db.session() as session:
        row = await session.scalar(select(RetrainJob).order_by(RetrainJob.id.desc()).limit(1))
    if row is None:
        return {"state": "idle"}, ""
    state = row.state
    beat = row.heartbeat_at.astimezone(timezone.utc)
    if state == "running" and (datetime.now(timezone.utc) - beat).total_seconds() > STALE_AFTER:
        state = "interrupted"  # its host stopped (or died) before it ended
    job = {
        "state": state,
        "by": row.started_by,
        "host": row.host,
        "pid": row.pid,
        "started_at": _iso(row.started_at),
        "finished_at": _iso(row.finished_at),
        "returncode": row.returncode,
    }
    return job, _tail(row.log or "")


async def shared_versions(db, limit: int = 10) -> list[dict[str, Any]]:
    """The models put in service on every host, newest first (never their bytes)."""
    from sqlalchemy import select

    from storage.models import NluModel

    async with db.session() as session:
        rows = (
            await session.execute(
                select(
                    NluModel.version, NluModel.sha256, NluModel.promoted_by, NluModel.promoted_at
                )
                .order_by(NluModel.version.desc())
                .limit(limit)
            )
        ).all()
    return [
        {"version": v, "sha256": sha[:12], "by": by, "when": _paris(_iso(at))}
        for v, sha, by, at in rows
    ]


async def claim_shared_job(db, user: str, host: str) -> int | None:
    """A new running job, unless one runs on any host (None): one transaction, under the
    database's lock for this name, so that two hosts never both start one."""
    from sqlalchemy import select

    from storage.models import RetrainJob

    async with db.session() as session, session.begin():
        await db.write_transaction(session, "retrain-job")
        row = await session.scalar(select(RetrainJob).order_by(RetrainJob.id.desc()).limit(1))
        now = datetime.now(timezone.utc)
        if (
            row is not None
            and row.state == "running"
            and (now - row.heartbeat_at.astimezone(timezone.utc)).total_seconds() <= STALE_AFTER
        ):
            return None
        job = RetrainJob(
            state="running", started_by=user, host=host, started_at=now, heartbeat_at=now
        )
        session.add(job)
        await session.flush()
        return job.id


async def _update_shared_job(db, job_id: int, **values: Any) -> None:
    from sqlalchemy import update

    from storage.models import RetrainJob

    async with db.session() as session, session.begin():
        await session.execute(update(RetrainJob).where(RetrainJob.id == job_id).values(**values))


def _paris(value: str | None) -> str:
    """« 27/11/2026 à 21:05 », Paris time; a value that is no date, as it is."""
    try:
        return paris(value, between=" à ")
    except ValueError:
        return value or "—"


def _sets(*figures: dict | None) -> list[str]:
    names: list[str] = []
    for group in figures:
        names += [name for name in (group or {}) if name not in names]
    return names


def _rows(before: dict | None, after: dict | None) -> list[dict[str, Any]]:
    """One row per measure, one cell per held-out set: before, after, change."""
    if not after:
        return []
    by_key: dict[str, dict[str, Any]] = {}
    for change in compare(before, after):
        row = by_key.setdefault(
            change.key,
            {
                "label": FIELD_LABELS.get(change.label, change.label),
                "cells": {},
                "worse": False,
                "better": False,
            },
        )
        row["cells"][change.set_name] = {
            "before": change.before,
            "after": change.after,
            "delta": change.delta,
            "worse": change.worse,
            "better": change.better,
        }
        row["worse"] |= change.worse
        row["better"] |= change.better
    return [by_key[key] for key, _label, _higher in METRICS if key in by_key]


def _reasons(run: dict[str, Any]) -> list[str]:
    """The verdict's reasons, in the console's words."""
    before, after = run.get("before"), run.get("after")
    if not after:
        return list(run.get("reasons") or [])
    if not before:
        return ["aucun modèle n'était en service : le candidat le devient"]
    changes = compare(before, after)
    chosen = [c for c in changes if (c.better if run.get("promoted") else c.worse)]
    if not chosen:
        return ["tous les résultats sont égaux : rien ne baisse"]
    return [
        f"{SET_LABELS.get(c.set_name, c.set_name)} : {FIELD_LABELS.get(c.label, c.label)} "
        f"{c.before:.3f} → {c.after:.3f}"
        for c in chosen
    ]


def _figure_rows(figures: dict | None) -> list[dict[str, Any]]:
    """One row per measure, one value per held-out set."""
    rows = []
    for key, label, _higher in METRICS:
        values = {name: group[key] for name, group in (figures or {}).items() if key in group}
        if values:
            rows.append({"label": FIELD_LABELS.get(label, label), "values": values})
    return rows


def _log_tail(config: Config) -> str:
    try:
        text = _log_path(config).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
    return _tail(text)


# Lines of a retrain's log that may quote what people wrote (Rasa's warnings about a
# training example): never kept in the database.
_QUOTES_A_MESSAGE = re.compile(r"message\s*'|misaligned|annotation '", re.IGNORECASE)


def _tail_of_log(config: Config) -> str:
    """The end of the log as kept in the shared job's row (a few kilobytes), without the
    lines that may quote a message."""
    kept = [line for line in _log_tail(config).splitlines() if not _QUOTES_A_MESSAGE.search(line)]
    return "\n".join(kept)[-8000:]


def _tail(text: str) -> str:
    # Progress lines redraw with \r: keep what the last one says.
    lines = [line.rsplit("\r", 1)[-1] for line in text.splitlines()]
    return "\n".join(lines[-LOG_TAIL_LINES:])


@lru_cache(maxsize=1)
def advice_library() -> AdviceLibrary:
    """The sheets as deployed (they change with a deployment, not while serving)."""
    return AdviceLibrary.load(Taxonomy.load())


def advice_freshness(today: date) -> dict[str, Any]:
    """The sheets checked more than STALE_AFTER_MONTHS months before `today`."""
    library = advice_library()
    return {
        "months": STALE_AFTER_MONTHS,
        "oldest": f"{min(sheet.checked for sheet in library.sheets):%d/%m/%Y}",
        "stale": [
            {
                "id": s.id,
                "title": s.title,
                "languages": ", ".join(s.languages),
                "checked": f"{s.checked:%d/%m/%Y}",
            }
            for s in library.stale(today)
        ],
    }


@staff_only("page")
async def model_page(request: web.Request) -> web.Response:
    config = _config(request)
    model = Path(config.model_path)
    in_service = read_json(figures_path(model)) or {}
    history = read_json(history_path(model), [])
    history = history if isinstance(history, list) else []
    last = history[-1] if history else None
    versions: list[dict[str, Any]] = []
    if config.shared_database:
        job, log_tail = await shared_job_state(_db(request))
        versions = await shared_versions(_db(request))
    else:
        job, log_tail = job_state(config), _log_tail(config)
    try:
        stat = model.stat()
        model_info = {
            "name": model.name,
            "size_mb": stat.st_size / 1e6,
            "modified": _paris(datetime.fromtimestamp(stat.st_mtime, timezone.utc).isoformat()),
        }
    except OSError:
        model_info = None
    session = await get_session(request)
    user = request.get(STAFF_USER)
    response = aiohttp_jinja2.render_template(
        "model.html",
        request,
        base_context(
            request,
            csrf_token=csrf_token(session),
            model=model_info,
            in_service=in_service,
            in_service_since=_paris(in_service.get("in_service_since")),
            figure_rows=_figure_rows(in_service.get("figures")),
            figure_sets=_sets(in_service.get("figures")),
            set_labels=SET_LABELS,
            previous=previous_path(model).exists(),
            last=last,
            last_rows=_rows(last.get("before"), last.get("after")) if last else [],
            last_sets=_sets(last.get("after")) if last else [],
            last_reasons=_reasons(last) if last else [],
            last_when=_paris(last.get("finished_at")) if last else None,
            runs=[
                {**run, "when": _paris(run.get("finished_at"))} for run in reversed(history[-10:])
            ],
            job=job,
            job_started=_paris(job.get("started_at")),
            job_finished=_paris(job.get("finished_at")),
            log_tail=log_tail,
            versions=versions,
            admin=is_admin(config, user),
            notice=request.query.get("notice", ""),
            advice=advice_freshness(paris_today()),
        ),
    )
    if job["state"] == "running":
        response.headers["Refresh"] = "5"  # progress without a script (the CSP allows none)
    return response


@staff_only("page")
async def start_retrain(request: web.Request) -> web.StreamResponse:
    await check_csrf(request)
    config = _config(request)
    user = request.get(STAFF_USER)
    if not is_admin(config, user):
        raise web.HTTPForbidden(text="Réservé aux administrateurs (JALERTE_STAFF_ADMINS).")
    shared_id = None
    if config.shared_database:
        import socket

        shared_id = await claim_shared_job(_db(request), str(user), socket.gethostname())
        if shared_id is None:
            raise web.HTTPSeeOther("/staff/model?notice=running")
    elif job_state(config)["state"] == "running":
        raise web.HTTPSeeOther("/staff/model?notice=running")
    await launch_retrain(request.app, config, str(user), shared=(_db(request), shared_id))
    raise web.HTTPSeeOther("/staff/model?notice=started")


def _db(request: web.Request):
    from bot.console.common import STAFF_REPO

    return request.config_dict[STAFF_REPO]().db


async def launch_retrain(
    app: web.Application, config: Config, user: str, shared: tuple[Any, int | None] = (None, None)
) -> int:
    """Starts `jalerte nlu retrain --with-annotations` in the background; its pid. With
    a shared database (`shared`: the database and the job's id) its state and log are
    kept in the job's row, beaten every few seconds, so that every host shows them."""
    private_dir(Path(config.data_dir))
    env = {
        **os.environ,
        "JALERTE_MODEL_PATH": str(config.model_path),
        "JALERTE_DATABASE_URL": config.database_url,
        "JALERTE_BUILD_DIR": str(config.build_dir),
        "JALERTE_NLU_PYTHON": str(config.nlu_python),
        "PYTHONUNBUFFERED": "1",
    }
    with open_private(_log_path(config), "wb") as output:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot.process.cli",
            *RETRAIN_ARGS,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=output,
            stderr=output,
            env=env,
            start_new_session=True,
        )
    job = {"state": "running", "pid": process.pid, "by": user, "started_at": now_iso()}
    write_json_atomic(_job_path(config), job, FILE_MODE)
    log.warning("NLU retrain started by %s (pid %d)", user, process.pid)

    db, job_id = shared
    if job_id is not None:
        await _update_shared_job(db, job_id, pid=process.pid)

    async def beat() -> None:
        while True:
            await asyncio.sleep(BEAT_EVERY)
            with contextlib.suppress(Exception):  # the database is down: the next beat
                await _update_shared_job(
                    db, job_id, heartbeat_at=datetime.now(timezone.utc), log=_tail_of_log(config)
                )

    async def wait() -> None:
        beating = asyncio.create_task(beat()) if job_id is not None else None
        code = await process.wait()
        if beating is not None:
            beating.cancel()
            await _update_shared_job(
                db,
                job_id,
                state="done",
                returncode=code,
                heartbeat_at=datetime.now(timezone.utc),
                finished_at=datetime.now(timezone.utc),
                log=_tail_of_log(config),
            )
        write_json_atomic(
            _job_path(config),
            {**job, "state": "done", "returncode": code, "finished_at": now_iso()},
            FILE_MODE,
        )
        log.warning("NLU retrain finished (exit %d)", code)

    task = asyncio.create_task(wait())
    app[JOBS].add(task)
    task.add_done_callback(app[JOBS].discard)
    return process.pid


async def _wait_for_jobs(app: web.Application) -> None:
    """At shutdown the task that records the retrain's end is dropped. The retrain goes
    on (it promotes or not on its own) when the server is stopped alone; under systemd
    (deploy/systemd/jalerte.service, KillMode=mixed) it is stopped with the server, and
    the job reads as interrupted: start it again once the host is back."""
    for task in list(app[JOBS]):
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def setup_model_views(app: web.Application) -> None:
    app[JOBS] = set()
    app.on_cleanup.append(_wait_for_jobs)
    app.router.add_get("/model", model_page)
    app.router.add_post("/model/retrain", start_retrain)
