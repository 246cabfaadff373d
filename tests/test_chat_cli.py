"""`jalerte chat --json`: the scripted-user interface, one JSON turn per input line."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from PIL import Image

from tests.images import GPS_IFD, PDF, jpeg_with_gps


def chat(lines: list[str], model: Path, data_dir: Path) -> list[dict]:
    env = {**os.environ, "JALERTE_MODEL_PATH": str(model), "JALERTE_DATA_DIR": str(data_dir)}
    env.pop("JALERTE_DATABASE_URL", None)
    proc = subprocess.run(
        [sys.executable, "-m", "bot.process.cli", "chat", "--json"],
        input=("\n".join(lines) + "\n").encode(),
        capture_output=True,
        env=env,
        timeout=180,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr.decode()[-3000:]
    out = proc.stdout.decode().splitlines()
    assert len(out) == len(lines), proc.stderr.decode()[-3000:]
    return [json.loads(line) for line in out]


def test_scripted_user_reaches_a_saved_alert_with_a_clean_photo(trained_model, tmp_path) -> None:
    photo = tmp_path / "IMG_0001.jpg"
    photo.write_bytes(jpeg_with_gps())
    pdf = tmp_path / "facture.pdf"
    pdf.write_bytes(PDF)
    turns = chat(
        [
            "slt g pa de reseau ac orange dan mon village",
            '{"choice": "technology:4g"}',
            json.dumps({"photo": str(pdf)}),
            "Plouha",
            "{}",
            "depuis hier",
            "non",
            json.dumps({"photo": str(photo)}),
            '{"choice": "confirm:send"}',
            '{"choice": "rating:useful"}',
        ],
        trained_model,
        tmp_path / "data",
    )

    assert [t["expecting"] for t in turns] == [
        "technology",
        "location",
        "location",
        "started_on",
        "started_on",
        "contacted_customer_service",
        "confirmation",
        "confirmation",
        "rating",
        None,
    ]
    for turn in turns:
        assert set(turn) == {"replies", "expecting", "alert_id", "alert"}
        for reply in turn["replies"]:
            assert isinstance(reply["text"], str) and isinstance(reply["choices"], list)
    assert "JPEG, PNG ou WEBP" in turns[2]["replies"][0]["text"]
    saved = turns[8]
    assert saved["alert_id"] and saved["alert"]["id"] == saved["alert_id"]
    alert = saved["alert"]
    assert (
        alert["category"],
        alert["operator"],
        alert["sector"],
        alert["technology"],
        alert["location"],
        alert["channel"],
    ) == ("coverage", "orange", "mobile", "4g", "Plouha (22580)", "cli")
    assert alert["description"] == "slt g pa de reseau ac orange dan mon village"
    [stored] = alert["photos"]
    with Image.open(tmp_path / "data" / "photos" / stored["path"]) as im:
        assert not im.getexif().get_ifd(GPS_IFD)
    assert alert["started_on"] is not None  # « depuis hier »
    assert turns[9]["alert"]["advice_rating"] == "useful"


def test_forget_is_a_json_command() -> None:
    from bot.channels.terminal import event_from_json_line
    from dialogues.events import CommandEvent

    assert event_from_json_line('{"command": "forget"}') == CommandEvent("forget")
