"""`jalerte run --workers N`: N server processes on one port, one parse service.

The parent applies the migrations once, starts the parse service (unless JALERTE_NLU
names one already running), then N workers: each is a whole `jalerte run` process
bound with SO_REUSEPORT, so that the kernel spreads connections between them. A worker
that dies is started again; SIGINT/SIGTERM stop the workers, then the parse service.

Any worker may take any message: turns are serialised per person in the database
(storage.repository.ConversationRepository.turn), uploads and rate counts live there too
(storage.shared). Webhooks are served by every worker; Telegram long polling (one poller
per token) and the daily retention purge run in the worker the database elects
(storage.db.Election), not in a fixed one: when that worker dies, another takes over
within seconds (often before the supervisor has started it again), and `jalerte run` on
other machines with the same database joins the same elections.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import os
import shutil
import signal
import sys
from pathlib import Path

from bot.process.config import Config

log = logging.getLogger(__name__)
RESTART_DELAY = 1.0


async def _supervise(config: Config, workers: int) -> int:
    from bot.process.nlu_process import NluSupervisor
    from storage.db import upgrade
    from storage.private import OTHERS, private_dir

    await upgrade(config.database_url)
    # Each worker writes its metrics here; /metrics on any worker adds them all up.
    metrics_dir = Path(config.data_dir) / "metrics"
    shutil.rmtree(metrics_dir, ignore_errors=True)
    private_dir(metrics_dir)
    supervisor = None
    nlu = config.nlu
    db = None
    if nlu == "service":
        from bot.process.models import follower_for
        from storage.db import Database

        db = await Database.open(config.database_url, migrate=False)
        supervisor = NluSupervisor(
            config.model_path,
            Path(config.data_dir),
            python=str(config.nlu_python),
            follower=follower_for(config, db),
        )
        if not await supervisor.start():
            log.warning("the NLU service is not answering yet; turns will say so")
        nlu = f"unix:{supervisor.socket}"
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stopping.set)
    processes: dict[int, asyncio.subprocess.Process] = {}

    async def keep(index: int) -> None:
        env = {
            **os.environ,
            "JALERTE_NLU": nlu,
            "JALERTE_WORKER": str(index),
            "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir),
        }
        while not stopping.is_set():
            processes[index] = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "bot.process.cli",
                "run",
                env=env,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.DEVNULL,
                umask=OTHERS,
            )  # its metrics files, written by prometheus_client: 0600
            code = await processes[index].wait()
            from prometheus_client import multiprocess

            multiprocess.mark_process_dead(processes[index].pid, str(metrics_dir))
            if not stopping.is_set():
                log.warning("worker %d stopped (exit %s); starting it again", index, code)
                await asyncio.sleep(RESTART_DELAY)

    tasks = [asyncio.create_task(keep(i)) for i in range(workers)]
    base = f"http://{config.host}:{config.port}"
    print(
        f"jalerte is running with {workers} workers: open {base}/ for the demo page "
        f"(health: {base}/healthz). Ctrl-C to stop.",
        flush=True,
    )
    await stopping.wait()
    for process in processes.values():
        if process.returncode is None:
            process.terminate()
    codes = []
    for process in processes.values():
        try:
            codes.append(await asyncio.wait_for(process.wait(), 20))
        except asyncio.TimeoutError:
            process.kill()
            codes.append(await process.wait())
    for task in tasks:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    if supervisor is not None:
        await supervisor.stop()
    if db is not None:
        await db.close()
    return 0 if all(code in (0, -signal.SIGTERM) for code in codes) else 1


def run_workers(config: Config, workers: int) -> int:
    if config.database_url.startswith("sqlite"):
        log.warning(
            "several workers on SQLite: correct (one writer at a time), but "
            "PostgreSQL is the database for them"
        )
    return asyncio.run(_supervise(dataclasses.replace(config), workers))
