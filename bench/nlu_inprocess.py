"""Run by bench/nlu_service.py in the NLU environment: in-process parse times, as JSON.

Usage: .venv-nlu/bin/python bench/nlu_inprocess.py MODEL < texts.json > times.json
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from nlu.parser import NluParser  # noqa: E402


async def main(model: Path, texts: list[str]) -> list[float]:
    parser = await NluParser.load(model)
    for text in texts[:20]:  # warm up
        await parser.parse(text)
    times = []
    for text in texts:
        started = time.perf_counter()
        await parser.parse(text)
        times.append((time.perf_counter() - started) * 1000)
    return times


if __name__ == "__main__":
    out = sys.stdout
    sys.stdout = sys.stderr  # the JSON alone on stdout
    result = asyncio.run(main(Path(sys.argv[1]), json.load(sys.stdin)))
    out.write(json.dumps(result))
