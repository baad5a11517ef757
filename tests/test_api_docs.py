"""docs/api.md is run as written: its shell blocks, in order, against a real server."""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import TEST_URL_ENV, scratch_database
from tests.test_serve import _audit_verifies, _serve, _stop

pytestmark = pytest.mark.slow
DOC = Path(__file__).resolve().parents[1] / "docs" / "api.md"


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
def test_the_walkthrough_gets_from_nothing_to_a_decision(tmp_path):
    blocks = re.findall(r"```sh\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)
    assert len(blocks) >= 4
    script = "set -euo pipefail\n" + "\n".join(blocks)
    if os.environ.get(TEST_URL_ENV):
        with scratch_database(tmp_path, "docs") as url:
            _walk(tmp_path, {"VETTING_DATABASE_URL": url, "VETTING_DEMO": "true"}, script)
    else:
        _walk(tmp_path, {}, script)


def _walk(tmp_path, env_extra, script):
    proc, base, log = _serve(tmp_path, env_extra, [])
    try:
        env = {k: v for k, v in os.environ.items() if not k.startswith("VETTING_")}
        env.update(env_extra, BASE=base, VETTING_INSTANCE_PATH=str(tmp_path / "instance"))
        env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
        work = tmp_path / "walk"
        work.mkdir()
        result = subprocess.run(["bash", "-c", script], cwd=work, env=env, capture_output=True, text=True, timeout=180)
        assert result.returncode == 0, result.stdout + result.stderr
        assert "NONE ['QUORUM_NOT_MET']" in result.stdout
        assert "NONE - Too few independent counted assessments" in result.stdout
        assert re.search(r"Lanting Harbour Works Co\., Ltd\. (0\.[6-9]\d*|1\.0)\n", result.stdout)  # found by part of its name
        assert "\nTrue\n" in result.stdout  # the Chinese name and the USCC lead to the same enterprise
    finally:
        _stop(proc, log)
    _audit_verifies(tmp_path, env_extra)
