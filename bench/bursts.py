"""Bursts against one worker (issue 11): none may take it above 1 GB or stall others.

`jalerte run` (SQLite, one process) with 8 people running scripted conversations in the
background, each turn timed. Then, one after the other, bursts from a hostile client:

- uploads: 3 rounds of six 48-megapixel JPEGs at once, then six 50-megapixel PNG bombs;
- frames: 400 frames of 32 KiB, 200 nested "[[[[…", 200 binary frames, on 20 sockets;
- logins: 40 wrong staff passwords at once, then 40 more.

For each burst: the worker's peak RSS (sampled every 20 ms) and the background turns'
latency during it (p50, p99, max). Target: below 1 GB, no turn beyond 200 ms.

    .venv/bin/python bench/bursts.py
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from dialogue_turns import FIRST_MESSAGES  # noqa: E402
from load import next_frame  # noqa: E402
from nlu_service import start_bot, wait_healthy  # noqa: E402
from photos import picture  # noqa: E402

STAFF, PASSWORD = "bench", "a long enough password"


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


class Watch:
    """Background turns' latencies and the worker's RSS, per burst."""

    def __init__(self, pid: int):
        self.pid = pid
        self.latencies: list[tuple[float, float]] = []  # (when, ms)
        self.rss: list[tuple[float, float]] = []
        self.stop = False

    async def sample(self) -> None:
        while not self.stop:
            self.rss.append((time.time(), rss_mb(self.pid)))
            await asyncio.sleep(0.02)

    def load_people(self, path: Path) -> None:
        self.latencies = [tuple(pair) for pair in json.loads(path.read_text())]

    async def person(self, base: str, n: int) -> None:
        async with aiohttp.ClientSession() as http:
            conversation = 0
            while not self.stop:
                async with http.ws_connect(f"{base.replace('http', 'ws')}/ws") as ws:
                    await ws.receive_json()
                    frame: dict = {
                        "type": "message",
                        "text": FIRST_MESSAGES[(n + conversation) % len(FIRST_MESSAGES)],
                    }
                    conversation += 1
                    for _ in range(12):
                        if self.stop:
                            return
                        started = time.perf_counter()
                        await ws.send_json(frame)
                        turn = await ws.receive_json(timeout=60)
                        self.latencies.append((time.time(), (time.perf_counter() - started) * 1000))
                        if turn.get("alert_id") or turn.get("type") != "turn":
                            break
                        frame = next_frame(turn)
                        await asyncio.sleep(0.05)  # a person, not a loop

    def report(self, name: str, start: float, end: float) -> None:
        during = sorted(ms for when, ms in self.latencies if start <= when <= end + 0.2)
        peak = max((mb for when, mb in self.rss if start <= when <= end + 0.5), default=0)
        if not during:
            print(f"{name:<34} peak RSS {peak:5.0f} MB, no background turn meanwhile")
            return
        p99 = during[min(len(during) - 1, int(len(during) * 0.99))]
        print(
            f"{name:<34} peak RSS {peak:5.0f} MB; {len(during):4d} background turns: "
            f"p50 {statistics.median(during):4.0f} ms, p99 {p99:4.0f} ms, "
            f"max {during[-1]:4.0f} ms ({end - start:.1f} s)"
        )


async def uploads(base: str, files: list[bytes], content_type: str) -> list[int]:
    async with aiohttp.ClientSession() as http:
        async with http.ws_connect(f"{base.replace('http', 'ws')}/ws") as ws:
            session = (await ws.receive_json())["session"]

        async def one(data: bytes) -> int:
            form = aiohttp.FormData()
            form.add_field("session", session)
            form.add_field("file", data, filename="x", content_type=content_type)
            async with http.post(f"{base}/upload", data=form) as response:
                return response.status

        return await asyncio.gather(*(one(d) for d in files))


async def frames(base: str) -> None:
    async def socket(n: int) -> None:
        async with aiohttp.ClientSession() as http:
            async with http.ws_connect(f"{base.replace('http', 'ws')}/ws", max_msg_size=0) as ws:
                await ws.receive_json()
                for i in range(20):
                    if i % 3 == 0:
                        await ws.send_str("x" * 32 * 1024)
                    elif i % 3 == 1:
                        await ws.send_str("[" * 30_000)  # under 32 KiB: parsed
                    else:
                        await ws.send_bytes(b"\0" * 1024)
                    await ws.receive(timeout=30)

    await asyncio.gather(*(socket(n) for n in range(20)))


async def logins(base: str, count: int) -> list[int]:
    """Each guess as a browser makes it: the login page (its CSRF token), then the form."""

    async def one() -> int:
        # unsafe: the jar keeps cookies of an IP address (127.0.0.1)
        async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
            async with http.get(f"{base}/staff/login") as page:
                token = re.search(r'name="csrf_token" value="([^"]+)"', await page.text())
            async with http.post(
                f"{base}/staff/login",
                allow_redirects=False,
                data={
                    "name": STAFF,
                    "password": "wrong guess",
                    "csrf_token": token.group(1) if token else "",
                },
            ) as r:
                return r.status

    return await asyncio.gather(*(one() for _ in range(count)))


async def people(base: str, seconds: float, out: Path) -> None:
    """The background conversations (run in a process of their own: the hostile client's
    work must not delay their clock)."""
    watch = Watch(0)
    tasks = [asyncio.create_task(watch.person(base, n)) for n in range(8)]
    try:
        await asyncio.sleep(seconds)
    finally:  # at the end, or when told to stop
        watch.stop = True
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        out.write_text(json.dumps(watch.latencies))


async def people_until_told(base: str, seconds: float, out: Path) -> None:
    """`people`, writing what it measured when terminated."""
    import signal

    task = asyncio.create_task(people(base, seconds, out))
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, task.cancel)
    with contextlib.suppress(asyncio.CancelledError):
        await task


async def run(base: str, pid: int) -> None:
    watch = Watch(pid)
    sampler = asyncio.create_task(watch.sample())
    timings = Path(tempfile.mkdtemp(prefix="jalerte-bursts-")) / "people.json"
    background = await asyncio.create_subprocess_exec(
        sys.executable, __file__, "--people", base, "60", str(timings)
    )
    await asyncio.sleep(3)
    marks = [("nothing (baseline)", time.time())]
    await asyncio.sleep(3)
    marks.append(("", time.time()))
    big = picture("JPEG", (8000, 6000))
    bomb = picture("PNG", (8000, 6300))
    spans = [(marks[0][0], marks[0][1], marks[1][1])]

    async def burst(name: str, work) -> None:
        start = time.time()
        statuses = await work
        spans.append((f"{name} {sorted(set(statuses)) if statuses else ''}", start, time.time()))
        await asyncio.sleep(1)

    for round_ in range(3):
        await burst(f"six 48 MP JPEGs, round {round_ + 1}", uploads(base, [big] * 6, "image/jpeg"))
    await burst("six 50 MP PNG bombs", uploads(base, [bomb] * 6, "image/png"))
    await burst("400 hostile frames on 20 sockets", frames(base))
    for _ in range(2):
        await burst("40 wrong logins at once", logins(base, 40))
    background.terminate()  # its timings are written when it stops
    await background.wait()
    watch.stop = True
    sampler.cancel()
    watch.load_people(timings)
    for name, start, end in spans:
        watch.report(name, start, end)
    print(f"worker RSS at the end: {rss_mb(pid):.0f} MB")


def main() -> None:
    if sys.argv[1:2] == ["--people"]:
        base, seconds, out = sys.argv[2], float(sys.argv[3]), Path(sys.argv[4])
        asyncio.run(people_until_told(base, seconds, out))
        return
    data = Path(tempfile.mkdtemp(prefix="jalerte-bursts-"))
    env = {
        "JALERTE_STAFF_SECURE_COOKIES": "false",
        "JALERTE_WEB_MESSAGES_PER_MINUTE": "100000",
        **{
            f"JALERTE_WEB_{what}_PER_ADDRESS": "0"
            for what in ("CONNECTIONS", "SESSIONS", "TURNS", "UPLOADS")
        },
    }
    subprocess.run(
        [sys.executable, "-m", "bot.process.cli", "staff", "add-user", STAFF],
        input=PASSWORD + "\n",
        text=True,
        check=True,
        capture_output=True,
        env={**os.environ, "JALERTE_DATA_DIR": str(data)},
    )
    proc, port = start_bot(data, **env)
    try:
        wait_healthy(port)
        asyncio.run(run(f"http://127.0.0.1:{port}", proc.pid))
    finally:
        proc.terminate()
        proc.wait(30)


if __name__ == "__main__":
    main()
