"""The learning loop, measured: `jalerte nlu retrain --with-annotations`.

The reviewed staff annotations (exported by the bot as Rasa YAML, see
storage.exports.annotations_to_rasa_yaml) are trained on beside nlu/data/; the candidate
and the model in service are evaluated on the same held-out sets (nlu/evaluate.py); the
candidate replaces the model only when no figure of any set gets worse, atomically
(`os.replace`), the model it replaces being kept as `<name>.previous.tar.gz`.

Beside the model: `<name>.json` holds the figures of the model in service (and when it
came into service), `history.json` one entry per retrain (before, after, verdict,
durations). A running parse service notices the new file and swaps models
(bot/nlu_process.py).

This module imports no Rasa at import time: the bot reads the figure files with it.
"""
from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
import re
import shutil
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping, Sequence

# (key in the figures, label, higher is better). The figures `jalerte nlu eval` reports per
# held-out set; the abstention curve and the confusion matrix are not verdicts.
FIELD_METRICS = ("intent", "is_report", "category", "sector", "operator", "operator_text",
                 "user_type", "technology", "location")
METRICS: tuple[tuple[str, str, bool], ...] = (
    *((f"accuracy.{name}", name, True) for name in FIELD_METRICS),
    ("category_accuracy_on_reports", "category|report", True),
    ("confidently_wrong_category", "confidently wrong category", False),
    ("confidently_wrong_sector", "confidently wrong sector", False),
    ("non_reports_left_alone", "non-reports left alone", True),
)
HISTORY_KEEP = 100
# Figures are rounded to 4 decimals (as `jalerte nlu eval --json`): equal below that.
EPSILON = 5e-5

Progress = Callable[[str], None]


def _stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def model_base(model: Path) -> str:
    name = model.name
    for suffix in (".tar.gz", ".tgz", ".gz"):
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return model.stem


def figures_path(model: Path) -> Path:
    """The figures of the model in service: models/nlu.json beside models/nlu.tar.gz."""
    return model.with_name(model_base(model) + ".json")


def history_path(model: Path) -> Path:
    return model.with_name("history.json")


def previous_path(model: Path) -> Path:
    return model.with_name(model_base(model) + ".previous.tar.gz")


def lock_path(model: Path) -> Path:
    return model.with_name(f".{model_base(model)}.retrain.lock")


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def flat_figures(report: Mapping[str, Any]) -> dict[str, float]:
    """One held-out set's `EvalReport.as_dict()` as {metric key: value}."""
    flat = {f"accuracy.{name}": float(report["accuracy"][name]) for name in FIELD_METRICS}
    for key, _label, _higher in METRICS:
        if not key.startswith("accuracy."):
            flat[key] = float(report[key])
    return flat


@dataclass
class Change:
    set_name: str
    key: str
    label: str
    before: float | None
    after: float

    @property
    def higher_is_better(self) -> bool:
        return next(h for k, _l, h in METRICS if k == self.key)

    @property
    def delta(self) -> float | None:
        return None if self.before is None else self.after - self.before

    @property
    def worse(self) -> bool:
        if self.before is None:
            return False
        gain = self.after - self.before if self.higher_is_better else self.before - self.after
        return gain < -EPSILON

    @property
    def better(self) -> bool:
        if self.before is None:
            return False
        gain = self.after - self.before if self.higher_is_better else self.before - self.after
        return gain > EPSILON


def compare(before: Mapping[str, Mapping[str, float]] | None,
            after: Mapping[str, Mapping[str, float]]) -> list[Change]:
    """Every metric of every held-out set, before (None: no model in service) and after."""
    changes = []
    for set_name, figures in after.items():
        old = (before or {}).get(set_name) or {}
        for key, label, _higher in METRICS:
            if key in figures:
                changes.append(Change(set_name, key, label, old.get(key), figures[key]))
    return changes


def verdict(changes: Sequence[Change], has_current: bool) -> tuple[bool, list[str]]:
    """(promote?, reasons): promoted only when nothing gets worse on any set."""
    if not has_current:
        return True, ["no model in service: the candidate becomes it"]
    worse = [c for c in changes if c.worse]
    if worse:
        return False, [f"{c.set_name}: {c.label} {c.before:.3f} → {c.after:.3f}" for c in worse]
    better = [c for c in changes if c.better]
    if better:
        return True, [f"{c.set_name}: {c.label} {c.before:.3f} → {c.after:.3f}" for c in better]
    return True, ["every figure equal: nothing gets worse"]


def changes_table(changes: Sequence[Change]) -> str:
    """Before/after per held-out set and field, as `jalerte nlu retrain` prints it."""
    lines: list[str] = []
    current = None
    for change in changes:
        if change.set_name != current:
            current = change.set_name
            lines += ["" if lines else "", f"== {current}",
                      f"  {'':<28}{'before':>8}{'after':>8}{'change':>9}"]
        before = "—" if change.before is None else f"{change.before:.3f}"
        delta = change.delta
        shown = "" if delta is None else f"{delta:+.3f}"
        mark = "  worse" if change.worse else ("  better" if change.better else "")
        lines.append(f"  {change.label:<28}{before:>8}{change.after:>8.3f}{shown:>9}{mark}")
    return "\n".join(lines).lstrip("\n")


# -- files ---------------------------------------------------------------------------------
def read_json(path: Path, default: Any = None) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return default


def write_json_atomic(path: Path, data: Any, mode: int = 0o644) -> None:
    """`mode`: 0o600 for a file of the data directory (never more than the umask allows)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.unlink(missing_ok=True)  # born with `mode`, never a leftover's
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(json.dumps(data, ensure_ascii=False, indent=2) + "\n")
    os.replace(tmp, path)


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def lock_holder(model: Path) -> int | None:
    """The pid of a retrain running on this model, if any (stale locks are ignored)."""
    try:
        pid = int(lock_path(model).read_text().strip() or 0)
    except (OSError, ValueError):
        return None
    return pid if pid and _pid_alive(pid) else None


class RetrainRunning(RuntimeError):
    pass


@contextlib.contextmanager
def retrain_lock(model: Path) -> Iterator[None]:
    """One retrain at a time per model (a lock file holding the pid; a dead pid's lock
    is taken over)."""
    path = lock_path(model)
    path.parent.mkdir(parents=True, exist_ok=True)
    for _ in range(2):
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        except OSError as exc:
            if exc.errno != errno.EEXIST:
                raise
            holder = lock_holder(model)
            if holder is not None:
                raise RetrainRunning(f"a retrain is already running (pid {holder})") from None
            path.unlink(missing_ok=True)
            continue
        with os.fdopen(fd, "w") as fh:
            fh.write(str(os.getpid()))
        break
    else:
        raise RetrainRunning("could not take the retrain lock")
    try:
        yield
    finally:
        path.unlink(missing_ok=True)


def promote(candidate: Path, model: Path) -> Path | None:
    """Puts `candidate` in service at `model` atomically; the model it replaces is kept
    as `<name>.previous.tar.gz` (returned)."""
    previous = None
    if model.exists():
        previous = previous_path(model)
        staged_previous = previous.with_name(f".{previous.name}.tmp")
        staged_previous.unlink(missing_ok=True)
        try:
            os.link(model, staged_previous)
        except OSError:
            shutil.copy2(model, staged_previous)
        os.replace(staged_previous, previous)
    staged = model.with_name(f".{model.name}.incoming")
    shutil.copyfile(candidate, staged)
    with open(staged, "rb") as fh:
        os.fsync(fh.fileno())
    os.replace(staged, model)
    return previous


# -- the retrain -----------------------------------------------------------------------------
@dataclass
class RetrainResult:
    promoted: bool
    reasons: list[str]
    changes: list[Change]
    entry: dict[str, Any] = field(default_factory=dict)

    def to_text(self) -> str:
        seconds = self.entry.get("seconds", {})
        lines = [f"Annotations: {self.entry.get('annotations', 0)} examples"
                 f" ({', '.join(self.entry.get('annotation_files') or []) or 'none'})"
                 + (f"; {self.entry['held_out_dropped']} left out: they are held-out messages"
                    if self.entry.get("held_out_dropped") else ""),
                 f"Training {seconds.get('training', 0):.0f} s, evaluation "
                 f"{seconds.get('evaluation', 0):.0f} s", "",
                 changes_table(self.changes), ""]
        if self.promoted:
            lines.append(f"PROMOTED: the candidate replaces {self.entry['model']}"
                         + (f" (previous model kept as {self.entry['previous']})"
                            if self.entry.get("previous") else "") + ". Why:")
        else:
            lines.append(f"KEPT the current model {self.entry['model']}: the candidate is "
                         "worse on")
        lines += [f"  - {reason}" for reason in self.reasons]
        return "\n".join(lines)


def count_examples(paths: Sequence[Path]) -> int:
    import yaml

    total = 0
    for path in paths:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for entry in data.get("nlu") or []:
            if "intent" in entry:
                total += sum(1 for line in str(entry.get("examples") or "").splitlines()
                             if line.strip().startswith("- "))
    return total


_ENTITY = re.compile(r"\[([^\]]*)\]\([^)]*\)")


def without_held_out(paths: Sequence[Path], target: Path,
                     sets: Mapping[str, Sequence[Path]] | None) -> tuple[list[Path], int]:
    """Copies of the annotation files without the examples whose text is a held-out
    message (a message staff corrected may be one: training on it would flatter the
    figures it is judged by). Returns the copies and how many examples were dropped."""
    import yaml

    from nlu.evaluate import HELDOUT_SETS, load_cases
    from nlu.text import fold

    def key(text: str) -> str:
        return " ".join(fold(_ENTITY.sub(r"\1", text)).split())

    held_out = {key(case["text"]) for paths_ in (sets or HELDOUT_SETS).values() if paths_
                for case in load_cases(*paths_)}
    target.mkdir(parents=True, exist_ok=True)
    copies, dropped = [], 0
    for index, path in enumerate(paths):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for entry in data.get("nlu") or []:
            if "intent" not in entry:
                continue
            lines = str(entry.get("examples") or "").splitlines()
            kept = [line for line in lines
                    if not (line.strip().startswith("- ") and key(line.strip()[2:]) in held_out)]
            dropped += len(lines) - len(kept)
            entry["examples"] = "".join(f"{line}\n" for line in kept)
        data["nlu"] = [e for e in data.get("nlu") or []
                       if "intent" not in e or e["examples"].strip()]
        copy = target / path.name if index == 0 else target / f"{index}_{path.name}"
        copy.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=10**6),
                        encoding="utf-8")
        copies.append(copy)
    return copies, dropped


async def _figures(model: Path, sets: Mapping[str, Sequence[Path]] | None
                   ) -> dict[str, dict[str, float]]:
    from nlu.evaluate import evaluate_parser
    from nlu.parser import NluParser

    parser = await NluParser.load(model)
    reports = await evaluate_parser(parser, sets)
    return {r.name: flat_figures(r.as_dict()) for r in reports}


def _set_sizes(sets: Mapping[str, Sequence[Path]] | None) -> dict[str, int]:
    from nlu.evaluate import HELDOUT_SETS, load_cases

    return {name: len(load_cases(*paths)) for name, paths in (sets or HELDOUT_SETS).items()
            if paths}


def retrain(model: Path, build_dir: Path, annotation_files: Sequence[Path] = (), *,
            sets: Mapping[str, Sequence[Path]] | None = None,
            examples_dir: Path | None = None, pipeline_config: Path | None = None,
            with_lexicon: bool = True, progress: Progress = _stderr) -> RetrainResult:
    """Trains a candidate with the annotations, evaluates it against `model` and promotes
    it when nothing gets worse. Writes the figure files beside `model`."""
    import asyncio

    from nlu.training import EXAMPLES_DIR, PIPELINE_CONFIG, train

    with retrain_lock(model):
        started_at, started = now_iso(), time.perf_counter()
        build_dir.mkdir(parents=True, exist_ok=True)
        annotation_files, held_out_dropped = without_held_out(
            [Path(p) for p in annotation_files], build_dir / "annotations", sets)
        if held_out_dropped:
            progress(f"{held_out_dropped} annotated examples are held-out messages: "
                     "not trained on")
        candidate = build_dir / "candidate.tar.gz"
        progress(f"Retrain: training a candidate with {count_examples(annotation_files)} "
                 "annotated examples")
        train(candidate, build_dir / "candidate_build", progress=progress,
              examples_dir=examples_dir or EXAMPLES_DIR, extra_files=annotation_files,
              pipeline_config=pipeline_config or PIPELINE_CONFIG, with_lexicon=with_lexicon)
        trained = time.perf_counter()

        has_current = model.exists()
        before = None
        if has_current:
            progress(f"Evaluating the model in service ({model.name}) on the held-out sets")
            before = asyncio.run(_figures(model, sets))
        progress("Evaluating the candidate on the held-out sets")
        after = asyncio.run(_figures(candidate, sets))
        evaluated = time.perf_counter()

        changes = compare(before, after)
        promoted, reasons = verdict(changes, has_current)
        entry: dict[str, Any] = {
            "started_at": started_at,
            "finished_at": None,
            "model": str(model),
            "annotations": count_examples(annotation_files),
            "annotation_files": [p.name for p in annotation_files],
            "held_out_dropped": held_out_dropped,
            "held_out": _set_sizes(sets),
            "before": before,
            "after": after,
            "promoted": promoted,
            "reasons": reasons,
            "candidate_sha256": sha256_of(candidate),
            "seconds": {"training": round(trained - started, 1),
                        "evaluation": round(evaluated - trained, 1)},
        }
        in_service = read_json(figures_path(model)) or {}
        if promoted:
            previous = promote(candidate, model)
            entry["previous"] = str(previous) if previous else None
            in_service = {"model": model.name, "sha256": entry["candidate_sha256"],
                          "in_service_since": now_iso(), "trained_at": started_at,
                          "annotations": entry["annotations"], "held_out": entry["held_out"],
                          "figures": after}
        elif has_current and (not in_service or in_service.get("figures") != before):
            # The model in service had no figures yet (trained by `make train`): now it has.
            stat = model.stat()
            in_service = {"model": model.name, "sha256": sha256_of(model),
                          "in_service_since": datetime.fromtimestamp(
                              stat.st_mtime, timezone.utc).isoformat(timespec="seconds"),
                          "trained_at": None, "annotations": in_service.get("annotations"),
                          "held_out": entry["held_out"], "figures": before}
        entry["finished_at"] = now_iso()
        entry["seconds"]["total"] = round(time.perf_counter() - started, 1)
        write_json_atomic(figures_path(model), in_service)
        history = read_json(history_path(model), [])
        history = (history if isinstance(history, list) else [])[-(HISTORY_KEEP - 1):]
        write_json_atomic(history_path(model), [*history, entry])
        return RetrainResult(promoted, reasons, changes, entry)


def last_run(model: Path) -> dict[str, Any] | None:
    history = read_json(history_path(model), [])
    return history[-1] if isinstance(history, list) and history else None
