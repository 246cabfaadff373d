"""`jalerte-nlu`: the NLU side on its own (the parse service)."""
from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
from pathlib import Path
from typing import Sequence

DEFAULT_MODEL = Path(__file__).resolve().parent.parent / "models" / "nlu.tar.gz"


def cmd_serve(args: argparse.Namespace) -> int:
    from nlu.service import serve

    async def main() -> None:
        task = asyncio.ensure_future(serve(Path(args.model), args.host, args.port,
                                           Path(args.socket) if args.socket else None))
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, task.cancel)
        with contextlib.suppress(asyncio.CancelledError):
            await task

    asyncio.run(main())
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="jalerte-nlu", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("serve", help="serve the trained model over HTTP (loopback or socket)")
    p.add_argument("--model", default=os.environ.get("JALERTE_MODEL_PATH")
                   or str(DEFAULT_MODEL))
    p.add_argument("--host", default="127.0.0.1",
                   help="address to listen on (loopback by default; never expose it)")
    p.add_argument("--port", type=int, default=5055)
    p.add_argument("--socket", help="listen on this Unix socket instead of a port")
    p.set_defaults(func=cmd_serve)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    raise SystemExit(main())
