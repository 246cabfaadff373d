"""`jalerte run` as a real process: serves, answers health checks, stops cleanly."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(model: Path, data_dir: Path, **env: str) -> tuple[subprocess.Popen, str]:
    port = free_port()
    environ = {
        **os.environ,
        "JALERTE_MODEL_PATH": str(model),
        "JALERTE_DATA_DIR": str(data_dir),
        "JALERTE_PORT": str(port),
        **env,
    }
    environ.pop("JALERTE_DATABASE_URL", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot.process.cli", "run"],
        env=environ,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(proc.stderr.read().decode()[-3000:])
        try:
            with urllib.request.urlopen(f"{base}/healthz", timeout=2) as response:
                if response.status == 200:
                    return proc, base
        except OSError:
            time.sleep(0.3)
    proc.kill()
    raise AssertionError("server did not become healthy in 90 s")


def stop_server(proc: subprocess.Popen) -> tuple[int, str, str]:
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=30)
    return proc.returncode, out.decode(), err.decode()


def test_run_serves_and_stops_cleanly_on_sigterm(trained_model, tmp_path) -> None:
    proc, base = start_server(trained_model, tmp_path / "data")
    with urllib.request.urlopen(f"{base}/") as response:
        assert b"widget.js" in response.read()
    code, out, err = stop_server(proc)
    assert code == 0, err[-2000:]
    assert f"{base}/" in out  # where to open the demo page
    assert (tmp_path / "data" / "jalerte.db").exists()


def _nlu_children(data_dir: Path) -> list[int]:
    found = subprocess.run(
        ["pgrep", "-f", f"nlu.cli serve .*{data_dir / 'nlu.sock'}"], capture_output=True, text=True
    ).stdout.split()
    return [int(pid) for pid in found]


def test_run_supervises_its_parse_service(trained_model, tmp_path) -> None:
    """One command starts the bot and its NLU process; the NLU comes back if it dies,
    without restarting the bot; stopping the bot stops it."""
    data = tmp_path / "data"
    proc, base = start_server(trained_model, data)
    try:
        children = _nlu_children(data)
        assert len(children) == 1
        os.kill(children[0], signal.SIGKILL)
        deadline = time.monotonic() + 90
        back = False
        while time.monotonic() < deadline and not back:
            time.sleep(0.5)
            try:
                with urllib.request.urlopen(f"{base}/healthz", timeout=2) as response:
                    back = response.status == 200 and _nlu_children(data) not in ([], children)
            except OSError:
                pass
        assert back, "the parse service did not come back"
        assert proc.poll() is None  # the bot kept running
    finally:
        code, _out, err = stop_server(proc)
    assert code == 0, err[-2000:]
    assert _nlu_children(data) == []
    assert "Warning" not in err  # no third-party noise on the terminal
