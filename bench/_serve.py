"""Run the application under gunicorn on 127.0.0.1 for the HTTP benchmarks.

``serve(url)`` starts gunicorn with the options `vetting serve` uses (``vetting.cli.gunicorn_options``:
2 workers of 4 threads, 60 s timeout, access log on) on a free port, serving ``bench._wsgi:app`` against the database at ``url`` with
public rate limits raised far above what one machine can send, waits until /healthz answers,
yields the port and stops the server afterwards.
"""

from __future__ import annotations

import contextlib
import http.client
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

#: Far above any rate the bench can reach, so the limiter is still consulted on every public
#: read (as in production) but never refuses one.
RATE_LIMIT = "1000000 per minute"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def serve(url: str, *, workers: int = 2, threads: int = 4, startup: float = 120, env_extra: dict[str, str] | None = None,
          log_copy: Path | None = None) -> Iterator[int]:
    """``env_extra``: more VETTING_* settings for the server; ``log_copy``: where to keep the
    server's log (access and error lines) once it has stopped."""
    work = Path(tempfile.mkdtemp(prefix="vetting-bench-serve-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("VETTING_")}
    env.update(VETTING_DATABASE_URL=url, VETTING_DEMO="false", VETTING_LOG_LEVEL="WARNING",
               VETTING_INSTANCE_PATH=str(work / "instance"), VETTING_SECRET_KEY=secrets.token_urlsafe(32),
               VETTING_RATELIMIT_PUBLIC=RATE_LIMIT)
    env.update(env_extra or {})
    port = free_port()
    log = open(work / "gunicorn.log", "w+b")  # noqa: SIM115
    from vetting.cli import gunicorn_options

    options = gunicorn_options(f"127.0.0.1:{port}", workers, threads)
    flags = {"accesslog": "--access-logfile", "errorlog": "--error-logfile", "worker_class": "--worker-class",
             "graceful_timeout": "--graceful-timeout"}
    args = [item for key, value in options.items() for item in (flags.get(key, f"--{key}"), str(value))]
    proc = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--chdir", str(ROOT), *args, "bench._wsgi:app"],
        cwd=work, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + startup
        while True:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
                conn.request("GET", "/healthz")
                if conn.getresponse().status == 200:
                    conn.close()
                    break
            except OSError:
                pass
            if time.monotonic() > deadline or proc.poll() is not None:
                log.seek(0)
                raise SystemExit("the server did not start:\n" + log.read().decode(errors="replace")[-4000:])
            time.sleep(0.3)
        yield port
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        log.close()
        if log_copy is not None:
            shutil.copyfile(work / "gunicorn.log", log_copy)
        shutil.rmtree(work, ignore_errors=True)
