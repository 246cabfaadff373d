"""NLU figures on this machine: training time, model load time, parse latency.

Run with `make bench`. Prints figures; asserts nothing (targets: training < 60 s,
load < 10 s, parse p50 < 5 ms).
"""

from __future__ import annotations

import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.process.config import Config  # noqa: E402
from nlu.evaluate import HELDOUT_SETS, load_cases  # noqa: E402


def time_training() -> tuple[float, Path]:
    tmp = Path(tempfile.mkdtemp(prefix="jalerte-bench-"))
    model = tmp / "nlu.tar.gz"
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "bot.process.cli", "train", "--model", str(model)],
        check=True,
        env={**os.environ, "JALERTE_BUILD_DIR": str(tmp / "build")},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return time.perf_counter() - started, model


async def time_loading_and_parsing(model: Path) -> None:
    started = time.perf_counter()
    from nlu.rasa_backend import quiet_rasa

    quiet_rasa()
    import rasa.core.agent  # noqa: F401  (TensorFlow comes with it)

    imported = time.perf_counter()
    from nlu.parser import NluParser

    parser = await NluParser.load(model)
    loaded = time.perf_counter()
    print(f"rasa import         {imported - started:6.2f} s")
    print(
        f"model load          {loaded - imported:6.2f} s  (import + load {loaded - started:.2f} s)"
    )

    texts = [case["text"] for paths in HELDOUT_SETS.values() for case in load_cases(*paths)]
    for text in texts[:20]:  # warm-up
        await parser.parse(text)
    samples = []
    for _ in range(5):
        for text in texts:
            t0 = time.perf_counter()
            await parser.parse(text)
            samples.append((time.perf_counter() - t0) * 1000)
    samples.sort()
    p50 = statistics.median(samples)
    p95 = samples[int(len(samples) * 0.95)]
    print(
        f"parse latency       p50 {p50:.2f} ms, p95 {p95:.2f} ms, max {samples[-1]:.2f} ms"
        f" over {len(samples)} parses"
    )


def main() -> None:
    print(f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}")
    seconds, model = time_training()
    print(f"training            {seconds:6.2f} s  (whole `jalerte train` process)")
    asyncio.run(
        time_loading_and_parsing(
            model if model.exists() else Config.from_env(os.environ).model_path
        )
    )


if __name__ == "__main__":
    main()
