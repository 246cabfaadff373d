"""`jalerte-nlu`: the NLU environment's commands (train, parse, eval, retrain, serve).

Runs on Python 3.10 with Rasa 3.6.21 (.venv-nlu). The bot's `jalerte train`, `jalerte
parse` and `jalerte nlu eval` hand over to these.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import sys
import signal
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Mapping, Sequence, TextIO

PROJECT_DIR = Path(__file__).resolve().parent.parent
DEFAULT_MODEL = PROJECT_DIR / "models" / "nlu.tar.gz"
log = logging.getLogger("jalerte.nlu")


def cmd_train(args: argparse.Namespace) -> int:
    from nlu.training import train

    train(Path(args.model), Path(args.build_dir))
    return 0


async def parse_stream(model: Path, source: BinaryIO, out: TextIO) -> None:
    """One JSON line out for every line in, in order, flushed."""
    from domain.parse import empty_result
    from nlu.parser import NluParser

    parser = await NluParser.load(model)
    for raw in iter(source.readline, b""):
        text = raw.decode("utf-8", errors="replace").rstrip("\r\n")
        try:
            record = (await parser.parse(text)).to_json()
        except Exception:  # a line of output for every input, whatever happens
            log.exception("could not parse a line")
            record = empty_result(text).to_json()
        out.write(json.dumps(record, ensure_ascii=False) + "\n")
        out.flush()


def cmd_parse(args: argparse.Namespace) -> int:
    out = sys.stdout
    # Libraries sometimes print: keep stdout for the JSON lines alone.
    sys.stdout = sys.stderr
    try:
        asyncio.run(parse_stream(Path(args.model), sys.stdin.buffer, out))
    finally:
        sys.stdout = out
    return 0


async def _evaluate(model: Path, files: Sequence[str]):
    from nlu.evaluate import evaluate_parser
    from nlu.parser import NluParser

    parser = await NluParser.load(model)
    return await evaluate_parser(parser, {Path(f).stem: (Path(f),) for f in files} or None)


def cmd_eval(args: argparse.Namespace) -> int:
    reports = asyncio.run(_evaluate(Path(args.model), args.file or []))
    if args.json:
        print(json.dumps([r.as_dict() for r in reports], indent=2))
    else:
        print("\n\n".join(r.to_text(show_errors=args.errors) for r in reports))
    return 0


def cmd_retrain(args: argparse.Namespace) -> int:
    """Candidate trained with the annotations, measured against the model in service on
    the held-out sets, promoted only when nothing gets worse (nlu/retrain.py)."""
    from model_records.files import RetrainRunning
    from nlu.retrain import retrain

    sets = None
    if args.heldout:
        sets = {}
        for spec in args.heldout:
            name, _, path = spec.rpartition("=")
            sets.setdefault(name or Path(path).stem, []).append(Path(path))
    out = sys.stdout
    sys.stdout = sys.stderr  # Rasa and TensorFlow print: stdout carries the report alone
    try:
        result = retrain(
            Path(args.model),
            Path(args.build_dir),
            [Path(f) for f in args.annotations or []],
            sets=sets,
            examples_dir=Path(args.examples_dir) if args.examples_dir else None,
            pipeline_config=Path(args.config) if args.config else None,
            with_lexicon=not args.no_lexicon,
        )
    except RetrainRunning as exc:
        print(f"jalerte-nlu: {exc}", file=sys.stderr)
        return 3
    finally:
        sys.stdout = out
    if args.json:
        print(json.dumps(result.entry, ensure_ascii=False, indent=2))
    else:
        print(result.to_text())
    return 0 if result.promoted else 1


def _is_loopback(host: str) -> bool:
    import ipaddress
    import socket

    try:
        infos = socket.getaddrinfo(host, None)
    except OSError:
        return False
    return bool(infos) and all(ipaddress.ip_address(info[4][0]).is_loopback for info in infos)


def cmd_serve(args: argparse.Namespace) -> int:
    if args.socket is None and not _is_loopback(args.host):
        # Rasa's environment keeps old pinned libraries: it must never face a network.
        print(
            f"jalerte-nlu: refusing to listen on {args.host}: loopback (127.0.0.1, ::1) "
            "or --socket only",
            file=sys.stderr,
        )
        return 2
    from nlu.service import serve

    async def main() -> None:
        task = asyncio.ensure_future(
            serve(
                Path(args.model), args.host, args.port, Path(args.socket) if args.socket else None
            )
        )
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, task.cancel)
        with contextlib.suppress(asyncio.CancelledError):
            await task

    asyncio.run(main())
    return 0


@dataclass(frozen=True)
class NluSettings:
    """What the NLU process reads of its environment, once (the bot's `Config` has the
    same names and defaults; the bot passes its own values as arguments anyway)."""

    model: Path = DEFAULT_MODEL
    build_dir: Path = PROJECT_DIR / "build"
    log_level: str = "WARNING"

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> "NluSettings":
        return cls(
            model=Path(environ.get("JALERTE_MODEL_PATH") or DEFAULT_MODEL),
            build_dir=Path(environ.get("JALERTE_BUILD_DIR") or PROJECT_DIR / "build"),
            log_level=(environ.get("JALERTE_LOG_LEVEL") or "WARNING").upper(),
        )


def build_parser(settings: NluSettings | None = None) -> argparse.ArgumentParser:
    settings = settings or NluSettings()
    parser = argparse.ArgumentParser(prog="jalerte-nlu", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    model = str(settings.model)

    p = sub.add_parser("train", help="train the model (deterministic)")
    p.add_argument("--model", default=model, help="where to write the model")
    p.add_argument(
        "--build-dir", default=str(settings.build_dir), help="scratch space for training"
    )
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("parse", help="parse stdin, one message per line, into JSON lines")
    p.add_argument("--model", default=model)
    p.set_defaults(func=cmd_parse)

    p = sub.add_parser("eval", help="accuracy on the held-out sets")
    p.add_argument("--model", default=model)
    p.add_argument(
        "--file",
        action="append",
        help="held-out YAML file, repeatable (default: both held-out sets)",
    )
    p.add_argument("--errors", action="store_true", help="list every wrong field")
    p.add_argument("--json", action="store_true", help="print the figures as JSON")
    p.set_defaults(func=cmd_eval)

    p = sub.add_parser(
        "retrain",
        help="train a candidate with extra data (staff "
        "annotations), compare it with the model on the held-out sets and "
        "promote it only when nothing gets worse (exit 1: kept the current)",
    )
    p.add_argument("--model", default=model, help="the model in service (replaced on success)")
    p.add_argument("--build-dir", default=str(settings.build_dir / "retrain"), help="scratch space")
    p.add_argument(
        "--annotations",
        action="append",
        help="Rasa NLU YAML to train on beside nlu/data/, repeatable",
    )
    p.add_argument("--json", action="store_true", help="print the run's record as JSON")
    # For tests: a tiny data set trains in seconds.
    p.add_argument("--examples-dir", help=argparse.SUPPRESS)
    p.add_argument("--config", help=argparse.SUPPRESS)
    p.add_argument("--heldout", action="append", help=argparse.SUPPRESS)  # [name=]path
    p.add_argument("--no-lexicon", action="store_true", help=argparse.SUPPRESS)
    p.set_defaults(func=cmd_retrain)

    p = sub.add_parser("serve", help="serve the trained model over HTTP (loopback or socket)")
    p.add_argument("--model", default=model)
    p.add_argument(
        "--host", default="127.0.0.1", help="loopback address to listen on (any other is refused)"
    )
    p.add_argument("--port", type=int, default=5055)
    p.add_argument("--socket", help="listen on this Unix socket instead of a port")
    p.set_defaults(func=cmd_serve)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    settings = NluSettings.from_env(os.environ)
    args = build_parser(settings).parse_args(argv)
    logging.basicConfig(
        stream=sys.stderr,
        level=getattr(logging, settings.log_level, logging.WARNING),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    return args.func(args)


if __name__ == "__main__":
    raise SystemExit(main())
