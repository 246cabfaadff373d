"""The learning loop on a tiny data set (a few seconds per training): a candidate trained
with annotations is promoted when nothing gets worse, refused when something does; the
figure files beside the model; the command's output."""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from model_records.files import (
    RetrainRunning,
    figures_path,
    history_path,
    lock_path,
    previous_path,
    retrain_lock,
)
from nlu.retrain import retrain, without_held_out

DATA = Path(__file__).with_name("retrain_data")
TINY = {
    "examples_dir": DATA / "examples",
    "with_lexicon": False,
    "sets": {"tiny": [DATA / "heldout.yml"]},
}
PROJECT = Path(__file__).resolve().parents[2]


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A model in service trained on the tiny examples alone (the first retrain: no model
    yet, so it is promoted)."""
    model = tmp_path_factory.mktemp("base") / "nlu.tar.gz"
    result = retrain(model, model.parent / "build", progress=lambda _m: None, **TINY)
    assert result.promoted and result.reasons == ["no model in service: the candidate becomes it"]
    return model


@pytest.fixture
def model(base: Path, tmp_path: Path) -> Path:
    """A private copy of the base model and its figures (tests never share a model)."""
    target = tmp_path / "models" / "nlu.tar.gz"
    target.parent.mkdir()
    target.write_bytes(base.read_bytes())
    figures_path(target).write_text(figures_path(base).read_text())
    return target


def test_first_run_records_the_model_in_service(base: Path) -> None:
    figures = json.loads(figures_path(base).read_text())
    assert figures["model"] == "nlu.tar.gz" and figures["sha256"] == sha(base)
    assert figures["annotations"] == 0 and figures["held_out"] == {"tiny": 5}
    tiny = figures["figures"]["tiny"]
    # The parcel message is beyond the tiny examples: that is what annotations will fix.
    assert tiny["accuracy.intent"] == pytest.approx(0.8)
    assert tiny["category_accuracy_on_reports"] == pytest.approx(2 / 3, abs=1e-4)
    history = json.loads(history_path(base).read_text())
    assert len(history) == 1 and history[0]["before"] is None and history[0]["promoted"]


def test_better_annotations_are_promoted_and_the_previous_model_kept(model: Path) -> None:
    old = sha(model)
    result = retrain(
        model,
        model.parent / "build",
        [DATA / "good_annotations.yml"],
        progress=lambda _m: None,
        **TINY,
    )
    assert result.promoted
    assert sha(model) != old and sha(previous_path(model)) == old
    assert any(r.startswith("tiny: category|report 0.667 → 1.000") for r in result.reasons)
    figures = json.loads(figures_path(model).read_text())
    assert figures["sha256"] == sha(model) and figures["annotations"] == 6
    assert figures["figures"]["tiny"]["accuracy.category"] == 1.0
    entry = json.loads(history_path(model).read_text())[-1]
    assert entry["promoted"] and entry["annotations"] == 6
    assert entry["before"]["tiny"]["accuracy.category"] == pytest.approx(0.8)
    assert entry["after"]["tiny"]["accuracy.category"] == 1.0
    assert entry["seconds"]["training"] > 0 and entry["previous"] == str(previous_path(model))
    assert not lock_path(model).exists()
    assert not list(model.parent.glob(".*"))  # no staged file left behind


def test_equal_figures_are_promoted(model: Path) -> None:
    # The same data again: training is deterministic, every figure equal.
    result = retrain(model, model.parent / "build", progress=lambda _m: None, **TINY)
    assert result.promoted and result.reasons == ["every figure equal: nothing gets worse"]
    assert all(not c.worse and not c.better for c in result.changes)
    assert previous_path(model).exists()


def test_wrong_annotations_are_refused_and_the_model_kept(model: Path) -> None:
    old, old_figures = sha(model), figures_path(model).read_text()
    result = retrain(
        model,
        model.parent / "build",
        [DATA / "wrong_annotations.yml"],
        progress=lambda _m: None,
        **TINY,
    )
    assert not result.promoted
    assert sha(model) == old and not previous_path(model).exists()
    assert figures_path(model).read_text() == old_figures  # still the model in service
    assert any(r.startswith("tiny: category|report") for r in result.reasons)
    entry = json.loads(history_path(model).read_text())[-1]
    assert not entry["promoted"] and entry["reasons"] == result.reasons
    assert entry["after"]["tiny"]["confidently_wrong_category"] > 0


def test_one_retrain_at_a_time(model: Path) -> None:
    with retrain_lock(model):
        with pytest.raises(RetrainRunning):
            retrain(model, model.parent / "build", progress=lambda _m: None, **TINY)
    # A lock left by a dead process is taken over.
    lock_path(model).write_text("999999999")
    with retrain_lock(model):
        assert lock_path(model).read_text() == str(os.getpid())


def test_the_command_prints_before_after_and_the_verdict(model: Path) -> None:
    old = sha(model)
    command = [
        sys.executable,
        "-m",
        "nlu.cli",
        "retrain",
        "--model",
        str(model),
        "--build-dir",
        str(model.parent / "build"),
        "--examples-dir",
        str(DATA / "examples"),
        "--no-lexicon",
        "--heldout",
        f"tiny={DATA / 'heldout.yml'}",
    ]
    done = subprocess.run(
        command + ["--annotations", str(DATA / "wrong_annotations.yml")],
        capture_output=True,
        text=True,
        cwd=PROJECT,
        stdin=subprocess.DEVNULL,
        timeout=300,
    )
    assert done.returncode == 1, done.stderr[-2000:]
    out = done.stdout
    assert "Annotations: 16 examples (wrong_annotations.yml)" in out
    assert "== tiny" in out and "before" in out and "after" in out
    assert re.search(r"^  category\|report +0\.667 +0\.\d{3} +-0\.\d{3}  worse$", out, re.M), out
    assert f"KEPT the current model {model}" in out
    assert sha(model) == old
    assert "Training with config.yml" in done.stderr  # progress on stderr, not stdout

    as_json = subprocess.run(
        command + ["--json"],
        capture_output=True,
        text=True,
        cwd=PROJECT,
        stdin=subprocess.DEVNULL,
        timeout=300,
    )
    assert as_json.returncode == 0, as_json.stderr[-2000:]  # the same data again: equal
    entry = json.loads(as_json.stdout)
    assert entry["promoted"] and set(entry) >= {"before", "after", "reasons", "seconds"}


def test_annotations_that_are_held_out_messages_are_not_trained_on(tmp_path: Path) -> None:
    import yaml

    source = tmp_path / "annotations.yml"
    source.write_text(
        'version: "3.1"\nnlu:\n- intent: greet\n  examples: |\n    - Bonjour a vous\n'
        "- intent: report_billing\n  examples: |\n    - erreur de [facture](operator) ce mois-ci\n"
        "    - deux fois le forfait\n",
        encoding="utf-8",
    )
    copies, dropped = without_held_out([source], tmp_path / "out", TINY["sets"])
    assert dropped == 2  # case, accents and entity markup do not hide a held-out text
    data = yaml.safe_load(copies[0].read_text(encoding="utf-8"))
    assert data["nlu"] == [{"intent": "report_billing", "examples": "- deux fois le forfait\n"}]
