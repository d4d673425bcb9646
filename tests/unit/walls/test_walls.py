"""The walls between rooms: Lambda's app never loads catboost/pysam; workers never load flask."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

BLOCKER = """
import sys
BANNED = set({banned!r})
class Block:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in BANNED:
            raise ImportError(f"{{name}} is walled off here")
sys.meta_path.insert(0, Block())
{code}
loaded = sorted(m for m in sys.modules if m.split(".")[0] in BANNED)
assert not loaded, loaded
print("ok")
"""


def run_walled(banned: list[str], code: str) -> None:
    script = BLOCKER.format(banned=banned, code=textwrap.dedent(code))
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0 and result.stdout.strip() == "ok", result.stderr[-3000:]


@pytest.mark.parametrize("entry", ["app.wsgi", "app.events"])
def test_lambda_app_loads_without_the_heavy_packages(entry):
    run_walled(
        [
            "catboost",
            "pysam",
            "mappy",
            "cutadapt",
            "pandas",
            "sklearn",
            "optuna",
            "moto",
            "workers",
            "embedded",
        ],
        f"""
        import os
        os.environ.update(AWS_DEFAULT_REGION="us-east-1", AWS_ACCESS_KEY_ID="x", AWS_SECRET_ACCESS_KEY="x")
        import {entry}
        from app import create_app
        from gems.config import Config
        app = create_app(Config.from_env(dict()).with_(region="us-east-1"))
        assert app.url_map is not None
        """,
    )


def test_core_never_loads_flask_or_heavy_packages():
    run_walled(
        ["flask", "catboost", "pysam", "mappy", "app", "workers"],
        "import gems.jobs.service, gems.plan, gems.status, gems.tags, gems.records, gems.api_client, gems.cli.main, gems.cli.remote",
    )


def test_worker_never_loads_flask():
    run_walled(["flask", "app"], "import workers.program.worker, workers.pipeline.framework")
