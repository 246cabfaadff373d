"""The learning loop, measured: `jalerte nlu retrain --with-annotations`.

The reviewed staff annotations (exported by the bot as Rasa YAML, see
storage.exports.annotations_to_rasa_yaml) are trained on beside nlu/data/; the candidate
and the model in service are evaluated on the same held-out sets (nlu/evaluate.py); the
candidate replaces the model only when no figure of any set gets worse, atomically
(`os.replace`), the model it replaces being kept as `<name>.previous.tar.gz`.

Beside the model: `<name>.json` holds the figures of the model in service (and when it
came into service), `history.json` one entry per retrain (before, after, verdict,
durations). A running parse service notices the new file and swaps models
(bot/process/nlu_process.py).

This module imports no Rasa at import time: the bot reads the figure files with it.
"""

from __future__ import annotations

import re
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

from model_records.files import (
    HISTORY_KEEP,
    Change,
    changes_table,
    compare,
    figures_path,
    flat_figures,
    history_path,
    now_iso,
    promote,
    read_json,
    retrain_lock,
    sha256_of,
    verdict,
    write_json_atomic,
)

Progress = Callable[[str], None]


def _stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# -- the retrain -----------------------------------------------------------------------------
@dataclass
class RetrainResult:
    promoted: bool
    reasons: list[str]
    changes: list[Change]
    entry: dict[str, Any] = field(default_factory=dict)

    def to_text(self) -> str:
        seconds = self.entry.get("seconds", {})
        lines = [
            f"Annotations: {self.entry.get('annotations', 0)} examples"
            f" ({', '.join(self.entry.get('annotation_files') or []) or 'none'})"
            + (
                f"; {self.entry['held_out_dropped']} left out: they are held-out messages"
                if self.entry.get("held_out_dropped")
                else ""
            ),
            f"Training {seconds.get('training', 0):.0f} s, evaluation "
            f"{seconds.get('evaluation', 0):.0f} s",
            "",
            changes_table(self.changes),
            "",
        ]
        if self.promoted:
            lines.append(
                f"PROMOTED: the candidate replaces {self.entry['model']}"
                + (
                    f" (previous model kept as {self.entry['previous']})"
                    if self.entry.get("previous")
                    else ""
                )
                + ". Why:"
            )
        else:
            lines.append(f"KEPT the current model {self.entry['model']}: the candidate is worse on")
        lines += [f"  - {reason}" for reason in self.reasons]
        return "\n".join(lines)


def count_examples(paths: Sequence[Path]) -> int:
    import yaml

    total = 0
    for path in paths:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for entry in data.get("nlu") or []:
            if "intent" in entry:
                total += sum(
                    1
                    for line in str(entry.get("examples") or "").splitlines()
                    if line.strip().startswith("- ")
                )
    return total


_ENTITY = re.compile(r"\[([^\]]*)\]\([^)]*\)")


def without_held_out(
    paths: Sequence[Path], target: Path, sets: Mapping[str, Sequence[Path]] | None
) -> tuple[list[Path], int]:
    """Copies of the annotation files without the examples whose text is a held-out
    message (a message staff corrected may be one: training on it would flatter the
    figures it is judged by). Returns the copies and how many examples were dropped."""
    import yaml

    from nlu.evaluate import HELDOUT_SETS, load_cases
    from domain.text import fold

    def key(text: str) -> str:
        return " ".join(fold(_ENTITY.sub(r"\1", text)).split())

    held_out = {
        key(case["text"])
        for paths_ in (sets or HELDOUT_SETS).values()
        if paths_
        for case in load_cases(*paths_)
    }
    target.mkdir(parents=True, exist_ok=True)
    copies, dropped = [], 0
    for index, path in enumerate(paths):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for entry in data.get("nlu") or []:
            if "intent" not in entry:
                continue
            lines = str(entry.get("examples") or "").splitlines()
            kept = [
                line
                for line in lines
                if not (line.strip().startswith("- ") and key(line.strip()[2:]) in held_out)
            ]
            dropped += len(lines) - len(kept)
            entry["examples"] = "".join(f"{line}\n" for line in kept)
        data["nlu"] = [
            e for e in data.get("nlu") or [] if "intent" not in e or e["examples"].strip()
        ]
        copy = target / path.name if index == 0 else target / f"{index}_{path.name}"
        copy.write_text(
            yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=10**6), encoding="utf-8"
        )
        copies.append(copy)
    return copies, dropped


async def _figures(
    model: Path, sets: Mapping[str, Sequence[Path]] | None
) -> dict[str, dict[str, float]]:
    from nlu.evaluate import evaluate_parser
    from nlu.parser import NluParser

    parser = await NluParser.load(model)
    reports = await evaluate_parser(parser, sets)
    return {r.name: flat_figures(r.as_dict()) for r in reports}


def _set_sizes(sets: Mapping[str, Sequence[Path]] | None) -> dict[str, int]:
    from nlu.evaluate import HELDOUT_SETS, load_cases

    return {
        name: len(load_cases(*paths)) for name, paths in (sets or HELDOUT_SETS).items() if paths
    }


def retrain(
    model: Path,
    build_dir: Path,
    annotation_files: Sequence[Path] = (),
    *,
    sets: Mapping[str, Sequence[Path]] | None = None,
    examples_dir: Path | None = None,
    pipeline_config: Path | None = None,
    with_lexicon: bool = True,
    progress: Progress = _stderr,
) -> RetrainResult:
    """Trains a candidate with the annotations, evaluates it against `model` and promotes
    it when nothing gets worse. Writes the figure files beside `model`."""
    import asyncio

    from nlu.training import EXAMPLES_DIR, PIPELINE_CONFIG, train

    with retrain_lock(model):
        started_at, started = now_iso(), time.perf_counter()
        build_dir.mkdir(parents=True, exist_ok=True)
        annotation_files, held_out_dropped = without_held_out(
            [Path(p) for p in annotation_files], build_dir / "annotations", sets
        )
        if held_out_dropped:
            progress(f"{held_out_dropped} annotated examples are held-out messages: not trained on")
        candidate = build_dir / "candidate.tar.gz"
        progress(
            f"Retrain: training a candidate with {count_examples(annotation_files)} "
            "annotated examples"
        )
        train(
            candidate,
            build_dir / "candidate_build",
            progress=progress,
            examples_dir=examples_dir or EXAMPLES_DIR,
            extra_files=annotation_files,
            pipeline_config=pipeline_config or PIPELINE_CONFIG,
            with_lexicon=with_lexicon,
        )
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
            "seconds": {
                "training": round(trained - started, 1),
                "evaluation": round(evaluated - trained, 1),
            },
        }
        in_service = read_json(figures_path(model)) or {}
        if promoted:
            previous = promote(candidate, model)
            entry["previous"] = str(previous) if previous else None
            in_service = {
                "model": model.name,
                "sha256": entry["candidate_sha256"],
                "in_service_since": now_iso(),
                "trained_at": started_at,
                "annotations": entry["annotations"],
                "held_out": entry["held_out"],
                "figures": after,
            }
        elif has_current and (not in_service or in_service.get("figures") != before):
            # The model in service had no figures yet (trained by `make train`): now it has.
            stat = model.stat()
            in_service = {
                "model": model.name,
                "sha256": sha256_of(model),
                "in_service_since": datetime.fromtimestamp(stat.st_mtime, timezone.utc).isoformat(
                    timespec="seconds"
                ),
                "trained_at": None,
                "annotations": in_service.get("annotations"),
                "held_out": entry["held_out"],
                "figures": before,
            }
        entry["finished_at"] = now_iso()
        entry["seconds"]["total"] = round(time.perf_counter() - started, 1)
        write_json_atomic(figures_path(model), in_service)
        history = read_json(history_path(model), [])
        history = (history if isinstance(history, list) else [])[-(HISTORY_KEEP - 1) :]
        write_json_atomic(history_path(model), [*history, entry])
        return RetrainResult(promoted, reasons, changes, entry)
