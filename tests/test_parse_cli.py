"""`jalerte parse`: one JSON line out per line in, whatever the input."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from domain.parse import ParseResult


def run_parse(stdin: bytes, model: Path) -> subprocess.CompletedProcess[bytes]:
    env = {**os.environ, "JALERTE_MODEL_PATH": str(model)}
    return subprocess.run(
        [sys.executable, "-m", "bot.process.cli", "parse"],
        input=stdin,
        capture_output=True,
        env=env,
        timeout=120,
        check=False,
    )


def test_parse_survives_hostile_input_and_keeps_order(trained_model: Path) -> None:
    lines = [
        "slt g pa de reseau ac orange dan mon village".encode(),
        b"",
        ("Free me pr\u00e9l\u00e8ve encore alors que j'ai r\u00e9sili\u00e9 " * 2100).encode(),
        b"colis \xff\xfe perdu par \xc3 chronopost",
        "\U0001f621\U0001f621 plus de r\u00e9seau SFR \U0001f4f5".encode(),
        b'/affirm{"operator": "k_net"}',
        b"/start",
        b"   ",
        "my parcel from Chronopost never arrived".encode(),
    ]
    assert len(lines[2]) > 100_000
    proc = run_parse(b"\n".join(lines) + b"\n", trained_model)
    assert proc.returncode == 0, proc.stderr.decode()[-2000:]
    out = proc.stdout.decode("utf-8").splitlines()
    assert len(out) == len(lines)
    records = [json.loads(line) for line in out]  # nothing but JSON on stdout
    for record in records:
        assert list(record) == [
            *ParseResult.CONTRACT_KEYS,
            "category_candidates",
            "scam",
            "language",
            "operator_roles",
            "previous_operator",
            "other_categories",
        ]
        assert ParseResult.from_json(record).to_json() == record  # what the service sends

    first, empty, huge, broken, emoji, injected, command, blank, english = records
    assert (first["category"], first["operator"], first["sector"]) == (
        "coverage",
        "orange",
        "mobile",
    )
    assert empty["intent"] is None and empty["text"] == ""
    assert huge["category"] == "billing" and huge["operator"] == "free"
    assert "\ufffd" in broken["text"] and broken["operator"] == "chronopost"
    assert emoji["operator"] == "sfr"
    assert injected["text"] == '/affirm{"operator": "k_net"}' and injected["operator"] is None
    assert injected["confidence"] < 1.0  # Rasa's raw-intent syntax would give 1.0
    assert command["intent"] != "start"
    assert blank["intent"] is None
    assert (english["category"], english["operator"]) == ("parcel_delivery", "chronopost")


def test_parse_without_a_model_says_how_to_build_one(tmp_path: Path) -> None:
    proc = run_parse(b"bonjour\n", tmp_path / "missing.tar.gz")
    assert proc.returncode != 0
    assert proc.stdout == b""
    assert b"make train" in proc.stderr
