"""The README's first command: `vetting serve` on a fresh instance folder, as a real server."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import TEST_URL_ENV, scratch_database

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _command() -> list[str]:
    script = Path(sys.executable).with_name("vetting")
    return [str(script)] if script.exists() else [sys.executable, "-m", "vetting.cli"]


def _get(url: str) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(url, timeout=5) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def _serve(tmp_path: Path, env_extra: dict[str, str], args: list[str]):
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("VETTING_")}
    env.update(env_extra)
    log = open(tmp_path / "serve.log", "w+b")
    proc = subprocess.Popen([*_command(), "serve", "--port", str(port), "--workers", "2", *args],
                            cwd=tmp_path, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            log.seek(0)
            raise AssertionError(f"server exited early:\n{log.read().decode(errors='replace')}")
        try:
            if _get(base + "/healthz")[0] == 200:
                break
        except (urllib.error.URLError, ConnectionError, OSError):
            time.sleep(0.3)
    else:
        proc.kill()
        raise AssertionError("server did not answer within 90 s")
    return proc, base, log


def _stop(proc, log) -> str:
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    log.seek(0)
    text = log.read().decode(errors="replace")
    log.close()
    return text


def test_first_command_serves_the_demo(tmp_path):
    """No configuration at all: SQLite under ./instance, migrated and seeded on first start."""
    if os.environ.get(TEST_URL_ENV):
        with scratch_database(tmp_path, "serve") as url:
            _run_and_check(tmp_path, {"VETTING_DATABASE_URL": url, "VETTING_DEMO": "true"})
    else:
        _run_and_check(tmp_path, {})
        assert (tmp_path / "instance" / "vetting.sqlite3").exists()
        assert (tmp_path / "instance" / "demo-credentials.txt").stat().st_mode & 0o777 == 0o600


def _run_and_check(tmp_path: Path, env: dict[str, str]) -> None:
    proc, base, log = _serve(tmp_path, env, [])
    try:
        assert _get(base + "/healthz") == (200, {"status": "ok"})
        status, body = _get(base + "/readyz")
        assert status == 200, body
        with urllib.request.urlopen(base + "/", timeout=5) as resp:
            page = resp.read().decode()
        assert "Enterprises registered" in page
    finally:
        output = _stop(proc, log)
    assert "demo data loaded" in output, output
    assert "Traceback" not in output, output


def _audit_verifies(tmp_path: Path, env_extra: dict[str, str]) -> str:
    """`vetting audit verify` on a served instance's database, after its activity."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("VETTING_")}
    env.update(env_extra)
    result = subprocess.run([*_command(), "audit", "verify"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "audit chain verified" in result.stdout
    return result.stdout
