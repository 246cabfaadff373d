"""The parse service against the in-process parser, and `jalerte run` with its service.

Prints: parse latency in process and over the service (Unix socket), the overhead; the
resident memory of the bot and of its NLU process once `jalerte run` is healthy; the
time from `jalerte run` to a healthy server (cold start, model loaded by the child).
Issue 10's targets: overhead p50 ≤ 1 ms, bot ≤ 150 MB, NLU ≤ 800 MB, cold start ≤ 12 s.
"""
from __future__ import annotations

import asyncio
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from nlu.parser import NluParser  # noqa: E402
from nlu.remote import RemoteNlu  # noqa: E402

MODEL = Path(os.environ.get("JALERTE_MODEL_PATH") or ROOT / "models" / "nlu.tar.gz")


def texts() -> list[str]:
    found = []
    for path in sorted((ROOT / "nlu" / "heldout").rglob("*.yml")):
        rows = yaml.safe_load(path.read_text(encoding="utf-8"))
        if isinstance(rows, dict):
            rows = rows.get("messages") or []
        found += [r["text"] for r in rows if isinstance(r, dict) and "text" in r]
    return found or ["pas de réseau Orange à Quimper"] * 200


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def percentiles(values: list[float]) -> str:
    values = sorted(values)
    return (f"p50 {statistics.median(values):.2f} ms, "
            f"p95 {values[int(len(values) * 0.95)]:.2f} ms")


async def latency() -> None:
    messages = texts()[:400]
    local = await NluParser.load(MODEL)
    workdir = Path(tempfile.mkdtemp(prefix="jalerte-nlu-"))
    sock = workdir / "nlu.sock"
    child = subprocess.Popen([sys.executable, "-m", "nlu.cli", "serve", "--model", str(MODEL),
                              "--socket", str(sock)], stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL)
    remote = RemoteNlu(socket=sock)
    try:
        await remote.wait_healthy(within=120)
        for text in messages[:20]:  # warm both
            await local.parse(text)
            await remote.parse(text)
        inproc, served = [], []
        for text in messages:
            started = time.perf_counter()
            await local.parse(text)
            inproc.append((time.perf_counter() - started) * 1000)
            started = time.perf_counter()
            await remote.parse(text)
            served.append((time.perf_counter() - started) * 1000)
        print(f"parse in process      {percentiles(inproc)} over {len(messages)} messages")
        print(f"parse over the socket {percentiles(served)}")
        print(f"overhead p50          {statistics.median(served) - statistics.median(inproc):.2f} ms")
        print(f"NLU service RSS       {rss_mb(child.pid):.0f} MB")
    finally:
        await remote.close()
        child.terminate()
        child.wait()


def cold_start() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    data = Path(tempfile.mkdtemp(prefix="jalerte-run-"))
    env = {**os.environ, "JALERTE_MODEL_PATH": str(MODEL), "JALERTE_DATA_DIR": str(data),
           "JALERTE_PORT": str(port)}
    env.pop("JALERTE_DATABASE_URL", None)
    env.pop("JALERTE_NLU", None)
    started = time.monotonic()
    proc = subprocess.Popen([sys.executable, "-m", "bot.cli", "run"], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                time.sleep(0.1)
        print(f"`jalerte run` cold start to healthy (bot + NLU): {time.monotonic() - started:.1f} s")
        children = subprocess.run(["pgrep", "-P", str(proc.pid)], capture_output=True,
                                  text=True).stdout.split()
        print(f"bot worker RSS        {rss_mb(proc.pid):.0f} MB")
        for child in children:
            print(f"its NLU process RSS   {rss_mb(int(child)):.0f} MB")
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)


if __name__ == "__main__":
    asyncio.run(latency())
    cold_start()
