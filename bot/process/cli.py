"""The `jalerte` command: train, parse, evaluate and talk to the bot."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
from pathlib import Path
from typing import Sequence

from bot.process.config import Config

log = logging.getLogger("jalerte")


class JsonLogFormatter(logging.Formatter):
    """One JSON object per line for log collectors. The bot never logs what people
    wrote (only channels, ids, counts and errors), so neither does this."""

    def __init__(self, worker: str | None = None):
        super().__init__()
        self.worker = worker

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if self.worker:
            entry["worker"] = self.worker
        if record.exc_info:
            entry["error"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def _setup_logging(config: Config) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        JsonLogFormatter(config.worker)
        if config.log_format == "json"
        else logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    )
    logging.basicConfig(
        handlers=[handler], level=getattr(logging, config.log_level, logging.WARNING)
    )


def _nlu_command(config: Config, *args: str, then_return: bool = False) -> int:
    """Runs `jalerte-nlu` in the NLU environment (Rasa lives there, never here): in
    this process's place, or (`then_return`) as a child whose exit code is returned."""
    python = str(config.nlu_python)
    if not Path(python).exists():
        print(
            f"L'environnement NLU est absent ({python}) : lancez `make install`.", file=sys.stderr
        )
        return 2
    sys.stdout.flush()
    sys.stderr.flush()
    if then_return:
        import subprocess

        return subprocess.run([python, "-m", "nlu.cli", *args]).returncode
    os.execv(python, [python, "-m", "nlu.cli", *args])
    return 0  # not reached


def cmd_train(config: Config, args: argparse.Namespace) -> int:
    return _nlu_command(
        config,
        "train",
        "--model",
        str(args.model or config.model_path),
        "--build-dir",
        str(config.build_dir),
    )


def cmd_parse(config: Config, args: argparse.Namespace) -> int:
    return _nlu_command(config, "parse", "--model", str(config.model_path))


def cmd_nlu_eval(config: Config, args: argparse.Namespace) -> int:
    extra = [arg for f in args.file or [] for arg in ("--file", f)]
    extra += ["--errors"] * bool(args.errors) + ["--json"] * bool(args.json)
    return _nlu_command(config, "eval", "--model", str(config.model_path), *extra)


def cmd_chat(config: Config, args: argparse.Namespace) -> int:
    from bot.channels.terminal import chat_interactive, chat_json

    if args.json:
        out = sys.stdout
        sys.stdout = sys.stderr  # stdout carries the JSON lines alone
        try:
            asyncio.run(chat_json(config, sys.stdin.buffer, out, args.user or "cli"))
        finally:
            sys.stdout = out
    else:
        asyncio.run(chat_interactive(config, args.user))
    return 0


def cmd_run(config: Config, args: argparse.Namespace) -> int:
    from bot.channels.web.app import run

    if config.missing_secret():
        print(config.missing_secret(), file=sys.stderr)
        return 2
    workers = args.workers or config.workers
    if workers > 1 and config.worker is None:
        from bot.process.workers import run_workers

        return run_workers(config, workers)
    run(config)
    return 0


def _read_password(name: str) -> str:
    """From stdin when piped (one line), else asked twice without echo."""
    import getpass

    if not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass(f"Mot de passe pour {name} : ")
    if first != getpass.getpass("Encore une fois : "):
        raise SystemExit("Les deux mots de passe diffèrent.")
    return first


async def _staff(config: Config, action: str, name: str | None) -> int:
    from storage.db import Database
    from storage.staff import StaffRepository

    db = await Database.open(config.database_url)
    try:
        repo = StaffRepository(db)
        password = _read_password(name) if action in ("add-user", "set-password") and name else ""
        if action in ("add-user", "set-password") and len(password) < 12:
            print("Le mot de passe doit faire au moins 12 caractères.", file=sys.stderr)
            return 2
        if action == "add-user":
            assert name
            if name in await repo.user_names():
                print(f"{name} existe déjà.", file=sys.stderr)
                return 2
            await repo.add_user(name, password)
            print(f"Compte {name} créé.", file=sys.stderr)
        elif action == "set-password":
            assert name
            if not await repo.set_password(name, password):
                print(f"{name} n'existe pas.", file=sys.stderr)
                return 2
            print(f"Mot de passe de {name} changé ; ses sessions sont fermées.", file=sys.stderr)
        elif action == "list-users":
            for user in await repo.user_names():
                print(user)
        elif action == "remove-user":
            assert name
            if not await repo.remove_user(name):
                print(f"{name} n'existe pas.", file=sys.stderr)
                return 2
            print(f"Compte {name} supprimé.", file=sys.stderr)
        return 0
    finally:
        await db.close()


def cmd_staff(config: Config, args: argparse.Namespace) -> int:
    return asyncio.run(_staff(config, args.staff_command, getattr(args, "name", None)))


async def _export_annotations(config: Config) -> str:
    from storage.db import Database
    from storage.exports import annotations_to_rasa_yaml
    from storage.staff import StaffRepository

    db = await Database.open(config.database_url)
    try:
        return annotations_to_rasa_yaml(await StaffRepository(db).annotated_messages())
    finally:
        await db.close()


def cmd_export_annotations(config: Config, args: argparse.Namespace) -> int:
    data = asyncio.run(_export_annotations(config))
    if args.output:
        Path(args.output).write_text(data, encoding="utf-8")
        print(f"Annotations written to {args.output}", file=sys.stderr)
    else:
        sys.stdout.write(data)
    return 0


def cmd_nlu_retrain(config: Config, args: argparse.Namespace) -> int:
    """Exports the reviewed annotations here (the database is the bot's), then hands over
    to `jalerte-nlu retrain`: candidate trained, measured against the model in service on
    the held-out sets, promoted only when nothing gets worse (nlu/retrain.py)."""
    build = Path(config.build_dir) / "retrain"
    extra: list[str] = []
    if args.with_annotations:
        from storage.exports import annotations_to_rasa_yaml

        items = asyncio.run(_annotated(config))
        print(f"{len(items)} annotations relues dans la base.", file=sys.stderr, flush=True)
        if items:
            build.mkdir(parents=True, exist_ok=True)
            path = build / "annotations.yml"
            path.write_text(annotations_to_rasa_yaml(items), encoding="utf-8")
            extra += ["--annotations", str(path)]
    for option in ("examples_dir", "config", "no_lexicon"):
        value = getattr(args, option)
        if value:
            flag = "--" + option.replace("_", "-")
            extra += [flag] if value is True else [flag, value]
    extra += [arg for spec in args.heldout or [] for arg in ("--heldout", spec)]
    extra += ["--json"] * bool(args.json)
    model = Path(args.model or config.model_path)
    code = _nlu_command(
        config,
        "retrain",
        "--model",
        str(model),
        "--build-dir",
        str(build),
        *extra,
        then_return=config.shared_database,  # to publish what it promoted
    )
    if code == 0 and config.shared_database:
        # Promoted here: every other host follows the database (bot.process.models).
        import socket

        return _publish_or_say(config, model, f"retrain ({socket.gethostname()})")
    return code


PUBLISH_FAILED = 3  # the model is in service on this host only: publish it again


def _publish_or_say(config: Config, model: Path, by: str, version: int | None = None) -> int:
    """Publishes (0), or says why not and what to do (PUBLISH_FAILED)."""
    try:
        asyncio.run(_publish(config, model, by, version))
    except (LookupError, ValueError) as exc:  # no such version, damaged bytes
        print(f"Modèle non publié ({exc}).", file=sys.stderr)
        return PUBLISH_FAILED
    except Exception as exc:  # the database unreachable (asyncpg, SQLAlchemy errors)
        print(
            f"Modèle non publié : la base ne répond pas ({type(exc).__name__}). Il est en "
            f"service sur cet hôte seulement ; publiez-le quand la base répond : "
            f"jalerte nlu publish --model {model}",
            file=sys.stderr,
        )
        return PUBLISH_FAILED
    return 0


async def _publish(config: Config, model: Path, by: str, version: int | None = None) -> None:
    from bot.process.models import SharedModels
    from model_records.files import figures_path, read_json
    from storage.db import Database

    db = await Database.open(config.database_url, migrate=False)
    try:
        models = SharedModels(db)
        if version is not None:  # a rollback: an earlier version's bytes, published anew
            published = await models.republish(version, by)
        else:
            published = await models.publish(model, by, read_json(figures_path(model)))
    finally:
        await db.close()
    assert published is not None
    print(
        f"Modèle publié : version {published.number} ({published.sha256[:12]}…).",
        file=sys.stderr,
    )


def cmd_nlu_publish(config: Config, args: argparse.Namespace) -> int:
    """A model put in service on every host of the shared database (a release's own)."""
    if not config.shared_database:
        print(
            "Sans base partagée (PostgreSQL), le modèle en service est le fichier "
            f"{config.model_path} : rien à publier.",
            file=sys.stderr,
        )
        return 2
    import socket

    by = args.by or f"publish ({socket.gethostname()})"
    if args.version is not None:
        return _publish_or_say(config, Path(config.model_path), by, version=args.version)
    model = Path(args.model or config.model_path)
    if not model.is_file():
        print(f"Pas de modèle à {model}.", file=sys.stderr)
        return 2
    # Every host would load it: it must load and parse here first.
    import subprocess

    check = subprocess.run(
        [str(config.nlu_python), "-m", "nlu.cli", "parse", "--model", str(model)],
        input="pas de réseau Orange à Quimper\n",
        capture_output=True,
        text=True,
    )
    if check.returncode != 0 or '"intent"' not in check.stdout:
        print(
            f"{model} ne se charge pas comme un modèle : rien n'est publié.\n"
            + check.stderr[-600:],
            file=sys.stderr,
        )
        return 2
    return _publish_or_say(config, model, by)


def cmd_nlu_run(config: Config, args: argparse.Namespace) -> int:
    """The parse service on its own (systemd's jalerte-nlu.service): started, kept
    running, and following the model in service in the shared database."""
    return asyncio.run(_nlu_run(config, Path(args.socket)))


async def _nlu_run(config: Config, socket_path: Path) -> int:
    import signal

    from bot.process.models import follower_for
    from bot.process.nlu_process import NluSupervisor
    from storage.db import Database

    # Not migrated here (the server does), and not needed to start: the service serves
    # the model on disk and follows the database once it answers.
    db = await Database.open(config.database_url, migrate=False) if config.shared_database else None
    supervisor = NluSupervisor(
        config.model_path,
        Path(config.data_dir),
        python=str(config.nlu_python),
        follower=follower_for(config, db) if db is not None else None,
        socket=socket_path,
    )
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stopping.set)
    try:
        if await supervisor.start():
            print(f"Service NLU prêt sur {socket_path}.", file=sys.stderr, flush=True)
        await stopping.wait()
    finally:
        await supervisor.stop()
        if db is not None:
            await db.close()
    return 0


async def _annotated(config: Config) -> list[dict]:
    from storage.db import Database
    from storage.staff import StaffRepository

    db = await Database.open(config.database_url)
    try:
        return await StaffRepository(db).annotated_messages()
    finally:
        await db.close()


def _progress_bar(step: str, done: int, total: int) -> None:
    """One line on stderr, redrawn: « messages [########------------] 40 % (800/2000) »."""
    share = done / total if total else 1.0
    bar = "#" * int(share * 20)
    end = "\n" if done >= total else ""
    print(
        f"\r{step:13s} [{bar:<20s}] {share:4.0%} ({done}/{total})",
        end=end,
        file=sys.stderr,
        flush=True,
    )


async def _purge(config: Config):
    from storage.db import Database
    from storage.retention import purge

    db = await Database.open(config.database_url)
    try:
        return await purge(
            db,
            config.photo_dir,
            config.retention_transcript_days,
            config.retention_free_text_days,
            progress=_progress_bar,
        )
    finally:
        await db.close()


def cmd_purge(config: Config, args: argparse.Namespace) -> int:
    report = asyncio.run(_purge(config))
    print(f"Purge : {report.as_text()}.", file=sys.stderr)
    return 0


async def _seed(config: Config, count: int) -> int:
    from domain.taxonomy import Taxonomy
    from storage.db import Database
    from storage.seed import seed_alerts

    db = await Database.open(config.database_url)
    try:
        return await seed_alerts(db, Taxonomy.load(), count, progress=_progress_bar)
    finally:
        await db.close()


def cmd_seed_alerts(config: Config, args: argparse.Namespace) -> int:
    added = asyncio.run(_seed(config, args.count))
    print(f"{added} alertes synthétiques ajoutées (canal « seed »).", file=sys.stderr)
    return 0


def cmd_doctor(config: Config, args: argparse.Namespace) -> int:
    from bot.process.doctor import doctor

    return doctor(config)


def cmd_db_upgrade(config: Config, args: argparse.Namespace) -> int:
    from storage.db import upgrade

    asyncio.run(upgrade(config.database_url))
    print(f"Database up to date: {config.database_url}", file=sys.stderr)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="jalerte", description="Report telecom and postal problems to the regulator."
    )
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("train", help="train the NLU model (deterministic)")
    p.add_argument("--model", help="where to write the model (default: JALERTE_MODEL_PATH)")
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("parse", help="parse stdin, one message per line, into JSON lines")
    p.set_defaults(func=cmd_parse)

    p = sub.add_parser("run", help="serve the web widget (and Telegram when configured)")
    p.add_argument(
        "--workers",
        type=int,
        help="server processes on the same port, sharing "
        "the database and one parse service (default: JALERTE_WORKERS or 1)",
    )
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("chat", help="talk with the bot in the terminal")
    p.add_argument(
        "--json",
        action="store_true",
        help="one event per stdin line, one JSON turn per stdout line",
    )
    p.add_argument("--user", help="who is talking (default: your login; 'cli' with --json)")
    p.set_defaults(func=cmd_chat)

    p = sub.add_parser(
        "purge",
        help="apply the retention periods now (the server also does "
        "it daily): JALERTE_RETENTION_TRANSCRIPT_DAYS, "
        "JALERTE_RETENTION_FREE_TEXT_DAYS",
    )
    p.set_defaults(func=cmd_purge)

    p = sub.add_parser(
        "seed-alerts",
        help="add N synthetic, consistent alerts (channel "
        "'seed') for benchmarks; never on a production database",
    )
    p.add_argument("count", type=int)
    p.set_defaults(func=cmd_seed_alerts)

    p = sub.add_parser("doctor", help="check the configuration, database, NLU and disk")
    p.set_defaults(func=cmd_doctor)

    db = sub.add_parser("db", help="database tools").add_subparsers(
        dest="db_command", required=True
    )
    p = db.add_parser("upgrade", help="apply the migrations")
    p.set_defaults(func=cmd_db_upgrade)

    staff = sub.add_parser("staff", help="staff accounts").add_subparsers(
        dest="staff_command", required=True
    )
    p = staff.add_parser("add-user", help="create an account (password from stdin or a prompt)")
    p.add_argument("name")
    p.set_defaults(func=cmd_staff)
    p = staff.add_parser(
        "set-password",
        help="change a password (ends that account's sessions; password from stdin or a prompt)",
    )
    p.add_argument("name")
    p.set_defaults(func=cmd_staff)
    p = staff.add_parser("list-users", help="list the accounts")
    p.set_defaults(func=cmd_staff)
    p = staff.add_parser("remove-user", help="delete an account")
    p.add_argument("name")
    p.set_defaults(func=cmd_staff)

    nlu = sub.add_parser("nlu", help="NLU tools").add_subparsers(dest="nlu_command", required=True)
    p = nlu.add_parser("eval", help="accuracy on the held-out sets")
    p.add_argument(
        "--file",
        action="append",
        help="held-out YAML file, repeatable (default: both held-out sets)",
    )
    p.add_argument("--errors", action="store_true", help="list every wrong field")
    p.add_argument("--json", action="store_true", help="print the figures as JSON")
    p.set_defaults(func=cmd_nlu_eval)
    p = nlu.add_parser(
        "export-annotations", help="staff corrections as Rasa NLU training data (YAML)"
    )
    p.add_argument("--output", help="file to write (default: stdout)")
    p.set_defaults(func=cmd_export_annotations)
    p = nlu.add_parser(
        "retrain",
        help="train a candidate model (with the staff annotations), "
        "compare it with the model in service on the held-out sets, promote "
        "it only when nothing gets worse (exit 1: current model kept)",
    )
    p.add_argument(
        "--with-annotations",
        action="store_true",
        help="train on the staff annotations of the database too",
    )
    p.add_argument(
        "--model",
        help="the model in service, replaced when the candidate is "
        "promoted (default: JALERTE_MODEL_PATH)",
    )
    p.add_argument("--json", action="store_true", help="print the run's record as JSON")
    p.add_argument("--examples-dir", help=argparse.SUPPRESS)  # tests: a tiny data set
    p.add_argument("--config", help=argparse.SUPPRESS)
    p.add_argument("--heldout", action="append", help=argparse.SUPPRESS)
    p.add_argument("--no-lexicon", action="store_true", help=argparse.SUPPRESS)
    p.set_defaults(func=cmd_nlu_retrain)
    p = nlu.add_parser(
        "publish",
        help="put a model in service on every host of the shared database (PostgreSQL)",
    )
    p.add_argument("--model", help="the model file (default: JALERTE_MODEL_PATH)")
    p.add_argument("--by", help="who or what published it (kept with the version)")
    p.add_argument(
        "--version",
        type=int,
        help="put an earlier version back in service (a rollback: published anew)",
    )
    p.set_defaults(func=cmd_nlu_publish)
    p = nlu.add_parser(
        "run",
        help="run the parse service on a Unix socket, kept running and following the "
        "model in service (for JALERTE_NLU=unix:PATH)",
    )
    p.add_argument("--socket", required=True, help="the Unix socket to listen on")
    p.set_defaults(func=cmd_nlu_run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    config = Config.from_env(os.environ)
    _setup_logging(config)
    return args.func(config, args)


if __name__ == "__main__":
    sys.exit(main())
