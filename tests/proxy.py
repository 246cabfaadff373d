"""A deployment on one machine for tests: real nginx in front, `jalerte run` hosts behind.

`nginx()` renders the shipped site, deploy/nginx/jalerte.conf, by plain substitution of
its @PLACEHOLDERS@ (loopback addresses on free ports, the given app hosts, a self-signed
certificate) and runs it inside a top-level nginx.conf of its own whose every path lies
in a temporary directory. `app_host()` starts one app host as a process, as
deploy/systemd/jalerte.service does (`jalerte run --workers 2`).

Root: nginx's master process drops its workers to `nobody` unless told otherwise, and
`nobody` may not enter the temporary directory (0700, root's) where nginx keeps request
bodies over 16 KB (a staff form, the printable summary's) and large responses: they
would get a 500 (« open() … failed (13: Permission denied) »). So as root the workers
stay root (`user root root;`); as anyone else there is no `user` line (nginx would only
warn that it cannot switch).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator, Mapping

ROOT = Path(__file__).resolve().parent.parent
SITE = ROOT / "deploy" / "nginx" / "jalerte.conf"
# Debian's nginx is in /usr/sbin, often not on a user's PATH.
NGINX = shutil.which("nginx", path=f"/usr/sbin:/usr/bin:{os.environ.get('PATH', '')}") or (
    "/usr/sbin/nginx"
)
JALERTE = Path(sys.executable).with_name("jalerte")  # the console script of this venv
PLACEHOLDER = re.compile(r"@[A-Z0-9_]+@")


def free_port(host: str = "127.0.0.1") -> int:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def free_port_v4_v6() -> int:
    """A port free on both 127.0.0.1 and ::1 (nginx listens on both)."""
    for _ in range(50):
        port = free_port()
        with contextlib.suppress(OSError), socket.socket(socket.AF_INET6) as s:
            s.bind(("::1", port))
            return port
    raise RuntimeError("no port free on both 127.0.0.1 and ::1")


def self_signed(directory: Path) -> tuple[Path, Path]:
    """A certificate for localhost, valid two days, and its key."""
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-subj",
            "/CN=localhost",
            "-days",
            "2",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


def render_site(values: Mapping[str, str]) -> str:
    """The shipped site with every placeholder replaced; each given one must be there
    and none may be left over."""
    text = SITE.read_text(encoding="utf-8")
    for name, value in values.items():
        token = f"@{name}@"
        assert token in text, f"{token} is not in {SITE}"
        text = text.replace(token, value)
    # The header comment shows a sed command full of tokens: only directives count.
    left = {
        m
        for line in text.splitlines()
        if not line.lstrip().startswith("#")
        for m in PLACEHOLDER.findall(line)
    }
    assert not left, f"placeholders left unreplaced in {SITE}: {sorted(left)}"
    return text


@dataclass
class Nginx:
    prefix: Path
    conf: Path
    https_port: int
    http_port: int
    process: subprocess.Popen | None = None

    @property
    def https(self) -> str:
        return f"https://127.0.0.1:{self.https_port}"

    @property
    def https_v6(self) -> str:
        return f"https://[::1]:{self.https_port}"

    @property
    def http(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    @property
    def access_log(self) -> Path:
        return self.prefix / "jalerte.access.log"

    @property
    def error_log(self) -> Path:
        return self.prefix / "error.log"

    def logs(self) -> str:
        """Both logs' ends, for assertion messages."""
        return "\n".join(
            f"--- {path.name}\n" + path.read_text(errors="replace")[-3000:]
            for path in (self.error_log, self.access_log)
            if path.exists()
        )

    def check(self) -> subprocess.CompletedProcess:
        """`nginx -t` on this configuration."""
        return subprocess.run(
            [NGINX, "-t", "-c", str(self.conf), "-p", f"{self.prefix}/"],
            capture_output=True,
            text=True,
        )


def configure(directory: Path, app_hosts: list[str]) -> Nginx:
    """Writes the rendered site and the top-level nginx.conf around it into `directory`."""
    assert len(app_hosts) == 2, "the shipped site names two app hosts"
    assert os.access(NGINX, os.X_OK), f"{NGINX} is missing: apt-get install nginx"
    cert, key = self_signed(directory)
    https_port, http_port = free_port_v4_v6(), free_port_v4_v6()
    server = Nginx(directory, directory / "nginx.conf", https_port, http_port)
    site = render_site(
        {
            "SERVER_NAME": "localhost",
            "LISTEN_HTTP": f"127.0.0.1:{http_port}",
            "LISTEN_HTTP_V6": f"[::1]:{http_port}",
            "LISTEN_HTTPS": f"127.0.0.1:{https_port}",
            "LISTEN_HTTPS_V6": f"[::1]:{https_port}",
            "CERT": str(cert),
            "KEY": str(key),
            "APP_HOST_1": app_hosts[0],
            "APP_HOST_2": app_hosts[1],
            "ACCESS_LOG": str(server.access_log),
        }
    )
    (directory / "jalerte.conf").write_text(site, encoding="utf-8")
    d = directory
    server.conf.write_text(
        f"""# tests/proxy.py: stands for Debian's /etc/nginx/nginx.conf, every path in {d}
{"user root root;" if os.geteuid() == 0 else ""}
daemon off;
worker_processes 1;
pid {d}/nginx.pid;
lock_file {d}/nginx.lock;
error_log {d}/error.log info;
events {{
    worker_connections 256;
}}
http {{
    access_log {d}/access.log;
    client_body_temp_path {d}/client_body;
    proxy_temp_path {d}/proxy;
    fastcgi_temp_path {d}/fastcgi;
    uwsgi_temp_path {d}/uwsgi;
    scgi_temp_path {d}/scgi;
    include {d}/jalerte.conf;
}}
""",
        encoding="utf-8",
    )
    return server


def _accepts(host: str, port: int) -> bool:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family) as s:
        s.settimeout(0.5)
        return s.connect_ex((host, port)) == 0


@contextlib.contextmanager
def nginx(app_hosts: list[str], directory: Path | None = None) -> Iterator[Nginx]:
    """nginx with the shipped site in front of `app_hosts` ("127.0.0.1:PORT"), running
    until the block ends (then stopped, whatever happened)."""
    with contextlib.ExitStack() as stack:
        if directory is None:
            directory = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="nginx-")))
        directory.mkdir(parents=True, exist_ok=True)
        server = configure(directory, app_hosts)
        checked = server.check()
        assert checked.returncode == 0, checked.stderr
        out = stack.enter_context((directory / "nginx.out").open("wb"))
        server.process = subprocess.Popen(
            [NGINX, "-c", str(server.conf), "-p", f"{directory}/"],
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + 10
            while not all(
                _accepts(h, p)
                for h in ("127.0.0.1", "::1")
                for p in (server.https_port, server.http_port)
            ):
                assert server.process.poll() is None, server.logs()
                assert time.monotonic() < deadline, "nginx did not listen:\n" + server.logs()
                time.sleep(0.05)
            yield server
        finally:
            server.process.terminate()  # SIGTERM: nginx's fast shutdown
            try:
                server.process.wait(10)
            except subprocess.TimeoutExpired:
                server.process.kill()
                server.process.wait()


# -- app hosts ------------------------------------------------------------------------
@dataclass
class Host:
    """One app host: `jalerte run --workers N` with a data directory of its own."""

    port: int
    data_dir: Path
    log: Path
    process: subprocess.Popen
    env: dict[str, str] = field(repr=False)

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        return f"http://{self.address}"

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")[-4000:] if self.log.exists() else ""

    def health(self) -> dict | None:
        """/healthz's answer when it says ok, else None."""
        request = urllib.request.Request(f"{self.url}/healthz", headers={"Connection": "close"})
        try:
            with urllib.request.urlopen(request, timeout=2) as response:
                body = json.loads(response.read())
                return body if response.status == 200 else None
        except OSError:
            return None

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while self.health() is None:
            assert self.process.poll() is None, f"host {self.address} died:\n{self.log_text()}"
            assert time.monotonic() < deadline, f"host {self.address} not ready:\n{self.log_text()}"
            time.sleep(0.2)

    def stop(self, timeout: float = 30) -> int:
        """SIGTERM to the host's main process, as systemd's KillMode=mixed does; its exit
        code. Killed (and AssertionError) if it is not gone within `timeout`."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.kill()
                raise AssertionError(f"host {self.address} ignored SIGTERM:\n{self.log_text()}")
        return self.process.returncode

    def kill(self) -> None:
        """SIGKILL to every process the host started (its own process group)."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()


def host_env(
    *,
    data_dir: Path,
    port: int,
    database_url: str,
    secret_key: str,
    model: Path,
    nlu: str | None = None,
    **extra: str,
) -> dict[str, str]:
    """The host's environment: nothing from the caller's JALERTE_* but the NLU interpreter."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("JALERTE_") or k == "JALERTE_NLU_PYTHON"
    }
    env.update(
        JALERTE_DATA_DIR=str(data_dir),
        JALERTE_HOST="127.0.0.1",
        JALERTE_PORT=str(port),
        JALERTE_DATABASE_URL=database_url,
        JALERTE_SECRET_KEY=secret_key,
        JALERTE_TRUSTED_PROXIES="127.0.0.1",
        JALERTE_MODEL_PATH=str(model),
        **extra,
    )
    if nlu:
        env["JALERTE_NLU"] = nlu
    return env


@contextlib.contextmanager
def app_host(
    data_dir: Path,
    *,
    database_url: str,
    secret_key: str,
    model: Path,
    nlu: str | None = None,
    workers: int = 2,
    wait: bool = True,
    **extra: str,
) -> Iterator[Host]:
    """One app host on a free port of 127.0.0.1, started now (ready when `wait`), and
    stopped at the end of the block: SIGTERM, then SIGKILL to its whole process group
    (workers included) if anything is left."""
    data_dir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    env = host_env(
        data_dir=data_dir,
        port=port,
        database_url=database_url,
        secret_key=secret_key,
        model=model,
        nlu=nlu,
        **extra,
    )
    log = data_dir.parent / f"{data_dir.name}.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [str(JALERTE), "run", "--workers", str(workers)],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: cleaned up whole
        )
    host = Host(port, data_dir, log, process, env)
    try:
        if wait:
            host.wait_ready()
        yield host
    finally:
        try:
            if process.poll() is None:
                host.stop(timeout=30)
        finally:
            host.kill()  # workers a killed parent left behind, if any
