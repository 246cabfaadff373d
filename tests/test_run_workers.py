"""`jalerte run --workers 2` as real processes: one port, one parse service, any worker
takes any message (PostgreSQL), Telegram polled by the one worker the database elects,
and everything stops on SIGTERM."""

from __future__ import annotations

import asyncio
import json
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
    trained_model, tmp_path, postgres_server
) -> None:
    from tests.postgres import create_database

    url = await create_database(postgres_server, "jalerte_workers")
    port = free_port()
    data = tmp_path / "data"
    env = {
        **os.environ,
        "JALERTE_MODEL_PATH": str(trained_model),
        "JALERTE_DATA_DIR": str(data),
        "JALERTE_PORT": str(port),
        "JALERTE_DATABASE_URL": url,
        "JALERTE_SECRET_KEY": "s" * 40,
        "JALERTE_METRICS_TOKEN": "scrape",
    }
    env.pop("JALERTE_NLU", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot.process.cli", "run", "--workers", "2"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        ready: set[str] = set()  # the workers that answered: both listen before the test
        while time.monotonic() < deadline:
            assert proc.poll() is None, proc.stderr.read().decode()[-3000:]
            try:
                request = urllib.request.Request(f"{base}/healthz", headers={"Connection": "close"})
                with urllib.request.urlopen(request, timeout=2) as response:
                    if response.status == 200:
                        ready.add(json.loads(response.read())["worker"])
                if ready == {"0", "1"} and len(_children(proc.pid)) >= 3:
                    break
            except OSError:
                pass
            await asyncio.sleep(0.1)
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
                async with http.post(
                    f"{base}/upload", data=form, headers={"Connection": "close"}
                ) as response:
                    upload_id = (await response.json())["upload_id"]
                await ws.send_json({"type": "photo", "upload_id": upload_id})
                turn = await ws.receive_json()
                assert any("Photo ajoutée" in r["text"] for r in turn["replies"]), turn
                await ws.close()
            answered = set()
            for _ in range(40):  # a new connection each time: the kernel spreads them
                async with http.get(f"{base}/healthz", headers={"Connection": "close"}) as response:
                    answered.add((await response.json())["worker"])
            assert answered == {"0", "1"}
            # Every worker's turns, whichever worker answers /metrics.
            async with http.get(
                f"{base}/metrics", headers={"Authorization": "Bearer scrape"}
            ) as response:
                text = await response.text()
            web_turns = [
                float(line.rsplit(" ", 1)[1])
                for line in text.splitlines()
                if line.startswith('jalerte_turns_total{channel="web"')
            ]
            assert web_turns and sum(web_turns) >= 12
    finally:
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err.decode()[-3000:]
    assert b"2 workers" in out
    assert _nlu_children(data) == [] and _children(proc.pid) == []


async def test_one_worker_polls_telegram_and_another_takes_over_when_it_is_killed(
    nlu, trained_model, tmp_path, postgres_server
) -> None:
    """Long polling by the worker the database elects, not by worker 0: kill -9 it and
    a message sent right after is still answered (by the other worker, or by the killed
    one started again, whichever the database elects first)."""
    from tests.fake_telegram import FakeTelegram
    from tests.postgres import create_database
    from tests.test_poller_election import _pid_of_client, bot_says

    url = await create_database(postgres_server, "jalerte_workers_telegram")
    port = free_port()
    log = tmp_path / "workers.log"
    async with FakeTelegram() as fake:
        env = {
            **os.environ,
            "JALERTE_MODEL_PATH": str(trained_model),
            "JALERTE_DATA_DIR": str(tmp_path / "data"),
            "JALERTE_PORT": str(port),
            "JALERTE_DATABASE_URL": url,
            "JALERTE_SECRET_KEY": "s" * 40,
            "JALERTE_NLU": f"unix:{nlu.socket}",
            "JALERTE_TELEGRAM_TOKEN": fake.token,
            "JALERTE_TELEGRAM_API_URL": fake.url,
            "JALERTE_TELEGRAM_POLLER_RETRY": "0.5",
        }
        with log.open("wb") as out:
            proc = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "bot.process.cli",
                "run",
                "--workers",
                "2",
                env=env,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=out,
                stderr=out,
            )
        base = f"http://127.0.0.1:{port}"

        async def pollers(http: aiohttp.ClientSession) -> dict[str, bool]:
            """Worker → polls, from /healthz over new connections (spread by the kernel)."""
            seen: dict[str, bool] = {}
            for _ in range(30):
                try:
                    async with http.get(
                        f"{base}/healthz", headers={"Connection": "close"}
                    ) as response:
                        if response.status == 200:
                            body = await response.json()
                            seen[body["worker"]] = body["telegram_poller"]
                except aiohttp.ClientError:
                    pass
                if len(seen) == 2:
                    break
            return seen

        try:
            async with aiohttp.ClientSession() as http:
                deadline = time.monotonic() + 90
                while True:
                    assert proc.returncode is None, log.read_text()[-3000:]
                    seen = await pollers(http)
                    if len(seen) == 2 and list(seen.values()).count(True) == 1:
                        break
                    assert time.monotonic() < deadline, (seen, log.read_text()[-3000:])
                    await asyncio.sleep(0.3)
                fake.push(fake.text_update(4242, "/aide"))
                await bot_says(fake, 4242, "annuler")
                workers = _children(proc.pid)
                [poller] = {_pid_of_client(p[1], workers) for p in fake.poll_peers() if p}
                assert poller in workers

                os.kill(poller, signal.SIGKILL)
                killed = time.monotonic()
                fake.push(fake.text_update(777, "/aide"))
                await bot_says(fake, 777, "annuler")
                answered = time.monotonic() - killed
                assert answered < 5, answered
                print(
                    f"\n--workers 2, kill -9 of the poller: a message answered after "
                    f"{answered:.2f} s"
                )
                deadline = time.monotonic() + 30
                while True:  # the killed worker is back, and still one poller
                    seen = await pollers(http)
                    if len(seen) == 2 and list(seen.values()).count(True) == 1:
                        break
                    assert time.monotonic() < deadline, seen
                    await asyncio.sleep(0.3)
                assert fake.max_concurrent_polls == 1
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(proc.wait(), 60)
            except asyncio.TimeoutError:
                proc.kill()
                await proc.wait()
    assert proc.returncode == 0, log.read_text()[-3000:]
