"""`jalerte run` starts the parse service itself and keeps it running.

The service (`jalerte-nlu serve`, see nlu/service.py) runs in its own process, on a Unix
socket in the data directory; the bot talks to it with `RemoteNlu`. If the process
exits, it is started again after a second; restarting it never restarts the bot (turns
in the meantime get « service momentanément indisponible », nothing lost). Its output
goes to `nlu.log` in the data directory, not to the terminal.
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from pathlib import Path

from nlu.remote import RemoteNlu

log = logging.getLogger(__name__)
RESTART_DELAY = 1.0


class NluSupervisor:
    def __init__(self, model_path: Path, data_dir: Path, python: str):
        self.model_path = model_path
        self.socket = data_dir / "nlu.sock"
        self.log_path = data_dir / "nlu.log"
        # The NLU environment's interpreter (Config.nlu_python: .venv-nlu, Python 3.10).
        self.python = python
        self.client = RemoteNlu(socket=self.socket)
        self.process: asyncio.subprocess.Process | None = None
        self.starts = 0
        self._stopping = False
        self._task: asyncio.Task | None = None

    async def start(self, ready_within: float = 120.0) -> bool:
        """Starts the service; True once it answers its health check."""
        self.socket.parent.mkdir(parents=True, exist_ok=True)
        self._task = asyncio.create_task(self._keep_running())
        return await self.client.wait_healthy(within=ready_within)

    async def _keep_running(self) -> None:
        while not self._stopping:
            with open(self.log_path, "ab") as output:
                self.process = await asyncio.create_subprocess_exec(
                    self.python, "-m", "nlu.cli", "serve", "--model", str(self.model_path),
                    "--socket", str(self.socket), stdin=asyncio.subprocess.DEVNULL,
                    stdout=output, stderr=output,
                    env={**os.environ, "PYTHONUNBUFFERED": "1"})
            self.starts += 1
            code = await self.process.wait()
            if self._stopping:
                return
            log.warning("the NLU service stopped (exit %s); starting it again", code)
            await asyncio.sleep(RESTART_DELAY)

    async def stop(self) -> None:
        self._stopping = True
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
