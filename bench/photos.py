"""What an upload costs in memory: peak RSS while cleaning the largest pictures accepted.

Each case runs in a fresh process (peak RSS is per process): a 48-megapixel JPEG, a
16-megapixel PNG (the largest accepted), six of them at once, and the refused
50-megapixel PNG bomb. Issue 11's target: no upload costs more than ~150 MB.

    .venv/bin/python bench/photos.py
"""

from __future__ import annotations

import io
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def picture(fmt: str, size: tuple[int, int]) -> bytes:
    from PIL import Image

    gradient = Image.linear_gradient("L").resize(size).convert("RGB")
    out = io.BytesIO()
    gradient.save(out, fmt, **({"quality": 70} if fmt == "JPEG" else {}))
    return out.getvalue()


CASES = {
    "jpeg-48mp": ("JPEG", (8000, 6000), 1),
    "png-16mp": ("PNG", (4000, 4000), 1),
    "six-jpeg-48mp-at-once": ("JPEG", (8000, 6000), 6),
    "png-bomb-50mp": ("PNG", (8000, 6300), 1),
}


def peak_mb() -> float:
    """This process's peak resident memory (VmHWM: unlike ru_maxrss, not inherited
    across exec from the parent that made the pictures)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def run_case(name: str, path: str) -> None:
    from storage.photos import PhotoRejected, PhotoStore

    copies = CASES[name][2]
    data = Path(path).read_bytes()
    store = PhotoStore(Path(tempfile.mkdtemp()))
    before = peak_mb()
    started = time.perf_counter()

    def one(_n: int) -> str:
        try:
            stored = store.ingest(data)
            return f"{stored.width}x{stored.height}"
        except PhotoRejected as exc:
            return exc.reason

    with ThreadPoolExecutor(copies) as pool:
        results = list(pool.map(one, range(copies)))
    peak = peak_mb()
    print(
        f"{name:24s} {len(data) / 1e6:5.1f} MB file  peak +{peak - before:5.0f} MB  "
        f"{time.perf_counter() - started:5.2f} s  → {results[0]}"
    )


if __name__ == "__main__":
    if len(sys.argv) > 2:
        run_case(sys.argv[1], sys.argv[2])
    else:  # the pictures are made here: the measuring process only reads and cleans
        folder = Path(tempfile.mkdtemp())
        for case, (fmt, size, _copies) in CASES.items():
            path = folder / f"{case}.{fmt.lower()}"
            path.write_bytes(picture(fmt, size))
            subprocess.run([sys.executable, __file__, case, str(path)], check=True)
