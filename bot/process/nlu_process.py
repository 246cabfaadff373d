"""`jalerte run` starts the parse service itself and keeps it running.

The service (`jalerte-nlu serve`, see nlu/service.py) runs in its own process, on a Unix
socket in the data directory; the bot talks to it with `RemoteNlu`. If the process
exits, it is started again after a second; restarting it never restarts the bot (turns
in the meantime get « service momentanément indisponible », nothing lost). Its output
goes to `nlu.log` in the data directory, not to the terminal.

With a shared database, a `follower` (bot.process.models) makes the model in service the
database's: fetched at start, and a newer version swapped in as below.

A model put in service while the bot runs (`jalerte nlu retrain` replaces the file
atomically) is picked up without a pause: the supervisor sees the file change and asks the
service to load it again (POST /reload: the current model answers until the new one is
loaded, about a second). If that fails, it starts a second service on the new model beside
the first, and once it answers, moves its socket over the first one's and stops the old
process (requests in flight there finish; the client's next connection reaches the new
one).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from pathlib import Path
from typing import Any

from bot.process.nlu_client import RemoteNlu
from storage.private import OTHERS, open_private, private_dir

log = logging.getLogger(__name__)
RESTART_DELAY = 1.0
MODEL_CHECK_EVERY = 2.0
FOLLOW_EVERY = 1.0  # a newer model in the database: asked once a second


def _model_signature(path: Path) -> tuple[int, int, int] | None:
    try:
        stat = path.stat()
    except OSError:
        return None
    return (stat.st_ino, stat.st_size, stat.st_mtime_ns)


class NluSupervisor:
    def __init__(
        self,
        model_path: Path,
        data_dir: Path,
        python: str,
        follower: Any | None = None,
        socket: Path | None = None,
    ):
        self.model_path = model_path
        self.socket = socket or data_dir / "nlu.sock"
        self.log_path = data_dir / "nlu.log"
        # The NLU environment's interpreter (Config.nlu_python: .venv-nlu, Python 3.10).
        self.python = python
        self.client = RemoteNlu(socket=self.socket)
        self.process: asyncio.subprocess.Process | None = None
        self.starts = 0
        self._stopping = False
        self._task: asyncio.Task | None = None
        self._watch: asyncio.Task | None = None
        self.model_swaps = 0
        self.check_every = MODEL_CHECK_EVERY
        # bot.process.models.ModelFollower: the model in service is the shared database's.
        self.follower = follower
        self._follow_failing = False
        if follower is not None:
            self.check_every = FOLLOW_EVERY

    async def start(self, ready_within: float = 120.0) -> bool:
        """Starts the service; True once it answers its health check."""
        private_dir(self.socket.parent)
        if self.follower is not None:
            try:
                await self.follower.at_start()
            except Exception:  # the database is down: serve what is here, follow later
                log.exception("could not read the model in service from the database")
        self._signature = _model_signature(self.model_path)
        self._task = asyncio.create_task(self._keep_running())
        self._watch = asyncio.create_task(self._watch_model())
        return await self.client.wait_healthy(within=ready_within)

    async def _spawn(self, socket: Path) -> asyncio.subprocess.Process:
        with open_private(self.log_path, "ab") as output:
            # What it creates in the data directory (its socket) is the service user's only.
            return await asyncio.create_subprocess_exec(
                self.python,
                "-m",
                "nlu.cli",
                "serve",
                "--model",
                str(self.model_path),
                "--socket",
                str(socket),
                stdin=asyncio.subprocess.DEVNULL,
                stdout=output,
                stderr=output,
                umask=OTHERS,
                env={**os.environ, "PYTHONUNBUFFERED": "1"},
            )

    async def _keep_running(self) -> None:
        while not self._stopping:
            self.process = await self._spawn(self.socket)
            self.starts += 1
            while True:
                process = self.process
                code = await process.wait()
                if self.process is process:
                    break
                # Replaced by a service on a new model (swap_model): watch that one.
            if self._stopping:
                return
            log.warning("the NLU service stopped (exit %s); starting it again", code)
            await asyncio.sleep(RESTART_DELAY)

    async def _watch_model(self) -> None:
        while not self._stopping:
            await asyncio.sleep(self.check_every)
            if self.follower is not None:
                try:
                    await self.follower.newer()  # a newer version: written at model_path
                    if self._follow_failing:
                        log.warning("following the model in service in the database again")
                    self._follow_failing = False
                except Exception:
                    if not self._follow_failing:  # once an outage, not every second
                        log.exception("could not follow the model in service in the database")
                    self._follow_failing = True
            signature = _model_signature(self.model_path)
            if signature is None or signature == self._signature:
                continue
            self._signature = signature
            try:
                await self.swap_model()
            except Exception:  # never let the watch die: the old model keeps serving
                log.exception("could not put the new model in service")

    async def swap_model(self, ready_within: float = 180.0) -> bool:
        """The running service loads the (new) model file in place (about a second);
        failing that, a service started on it beside the running one is moved in its
        place. False (and the old model kept) if neither answers in time."""
        log.warning("a new NLU model is in place (%s): loading it", self.model_path)
        if await self.client.reload(within=ready_within):
            self.model_swaps += 1
            log.warning("the new NLU model is in service (loaded by the running service)")
            return True
        if self._stopping:
            return False
        log.warning("the running service could not load it: starting one beside it")
        incoming = self.socket.with_name(self.socket.name + ".next")
        process = await self._spawn(incoming)
        healthy = False
        probe = RemoteNlu(socket=incoming)
        try:
            healthy = await probe.wait_healthy(within=ready_within) and not self._stopping
        finally:
            await probe.close()
            if not healthy:  # also when cancelled (stop): never leave it running
                if process.returncode is None:
                    process.terminate()
                    with contextlib.suppress(asyncio.TimeoutError):
                        await asyncio.wait_for(asyncio.shield(process.wait()), 15)
                incoming.unlink(missing_ok=True)
        if not healthy:
            if not self._stopping:
                log.error("the new NLU model did not start; the previous one keeps serving")
            return False
        old = self.process
        os.replace(incoming, self.socket)  # new connections reach the new service
        await self.client.renew()  # and ours are new ones
        self.process = process
        self.starts += 1
        self.model_swaps += 1
        if old is not None and old.returncode is None:
            old.terminate()
        log.warning("the new NLU model is in service")
        return True

    async def stop(self) -> None:
        self._stopping = True
        if self._watch is not None:
            self._watch.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watch
        process = self.process
        if process is not None and process.returncode is None:
            process.terminate()
            try:
                await asyncio.wait_for(process.wait(), 15)
            except asyncio.TimeoutError:
                process.kill()
                await process.wait()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self.client.close()
