"""The model in service and its records, as files beside it (`models/nlu.tar.gz`).

`<name>.json` holds the figures of the model in service (and when it came into service),
`history.json` one entry per retrain, `<name>.previous.tar.gz` the model it replaced, and
a lock file the running retrain holds. The retraining job (nlu/retrain.py, NLU side)
writes them; the staff console (bot side) reads them and starts a retrain. Standard
library and the parse record's field names only: both environments import it.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
import shutil
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterator, Mapping, Sequence

from domain.parse import EVALUATED

# (key in the figures, label, higher is better). The figures `jalerte nlu eval` reports per
# held-out set; the abstention curve and the confusion matrix are not verdicts.
FIELD_METRICS = EVALUATED
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


def compare(
    before: Mapping[str, Mapping[str, float]] | None, after: Mapping[str, Mapping[str, float]]
) -> list[Change]:
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
            lines += [
                "" if lines else "",
                f"== {current}",
                f"  {'':<28}{'before':>8}{'after':>8}{'change':>9}",
            ]
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
