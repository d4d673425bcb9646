"""The web app carries the lake's questions without DuckDB, pyarrow or Spark (Lambda size)."""

from __future__ import annotations

import subprocess
import sys
import textwrap

SCRIPT = """
import sys
BANNED = {"duckdb", "pyarrow", "pyspark", "pandas", "pysam", "workers"}
class Block:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in BANNED:
            raise ImportError(f"{name} is walled off here")
sys.meta_path.insert(0, Block())
import os
os.environ.update(AWS_DEFAULT_REGION="us-east-1", AWS_ACCESS_KEY_ID="x", AWS_SECRET_ACCESS_KEY="x")
import app.wsgi, app.lake.views, lake.questions, lake.athena, lake.glue, lake.readonly, lake.schema
from app import create_app
from gems.config import Config
app = create_app(Config.from_env(dict()).with_(region="us-east-1"))
assert any(r.rule == "/lake/af" for r in app.url_map.iter_rules())
from lake.glue import ddl
from lake.schema import TABLES
assert "PARTITIONED BY" in ddl(TABLES["qc"], "b")
print("ok")
"""


def test_app_and_athena_path_load_without_the_embedded_engine():
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(SCRIPT)], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0 and result.stdout.strip().endswith("ok"), result.stderr[-3000:]
