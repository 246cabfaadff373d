"""`jalerte run --workers 2` as real processes: one port, one parse service, any worker
takes any message (PostgreSQL), and everything stops on SIGTERM."""
from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
import urllib.request

import aiohttp

from tests.images import jpeg_with_gps
from tests.test_run import _nlu_children, free_port


def _children(pid: int) -> list[int]:
    found = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True)
    return [int(p) for p in found.stdout.split()]


async def test_two_workers_share_one_port_one_service_and_the_database(
        trained_model, tmp_path, postgres_server) -> None:
    from tests.postgres import create_database

    url = await create_database(postgres_server, "jalerte_workers")
    port = free_port()
    data = tmp_path / "data"
    env = {**os.environ, "JALERTE_MODEL_PATH": str(trained_model), "JALERTE_DATA_DIR":
           str(data), "JALERTE_PORT": str(port), "JALERTE_DATABASE_URL": url}
    env.pop("JALERTE_NLU", None)
    proc = subprocess.Popen([sys.executable, "-m", "bot.cli", "run", "--workers", "2"],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            assert proc.poll() is None, proc.stderr.read().decode()[-3000:]
            try:
                with urllib.request.urlopen(f"{base}/healthz", timeout=2) as response:
                    if response.status == 200 and len(_children(proc.pid)) >= 3:
                        break
            except OSError:
                pass
            await asyncio.sleep(0.3)
        workers = [p for p in _children(proc.pid) if p not in _nlu_children(data)]
        assert len(workers) == 2 and len(_nlu_children(data)) == 1

        async with aiohttp.ClientSession() as http:
            # Many connections: the kernel spreads them over both workers; each upload
            # (a new connection) may land on the other worker than the socket.
            sockets = []
            for _ in range(6):
                ws = await http.ws_connect(f"{base.replace('http', 'ws')}/ws")
                session = (await ws.receive_json())["session"]
                await ws.send_json({"type": "message", "text": "colis DPD perdu"})
                assert (await ws.receive_json())["type"] == "turn"
                sockets.append((ws, session))
            for ws, session in sockets:
                form = aiohttp.FormData()
                form.add_field("session", session)
                form.add_field("file", jpeg_with_gps(), filename="a.jpg")
                async with http.post(f"{base}/upload", data=form,
                                     headers={"Connection": "close"}) as response:
                    upload_id = (await response.json())["upload_id"]
                await ws.send_json({"type": "photo", "upload_id": upload_id})
                turn = await ws.receive_json()
                assert any("Photo ajoutée" in r["text"] for r in turn["replies"]), turn
                await ws.close()
            answered = set()
            for _ in range(40):  # a new connection each time: the kernel spreads them
                async with http.get(f"{base}/healthz",
                                    headers={"Connection": "close"}) as response:
                    answered.add((await response.json())["worker"])
            assert answered == {"0", "1"}
            # Every worker's turns, whichever worker answers /metrics.
            async with http.get(f"{base}/metrics") as response:
                text = await response.text()
            web_turns = [float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
                         if line.startswith('jalerte_turns_total{channel="web"')]
            assert web_turns and sum(web_turns) >= 12
    finally:
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err.decode()[-3000:]
    assert b"2 workers" in out
    assert _nlu_children(data) == [] and _children(proc.pid) == []
