"""Child Python processes of the analysis (samtools and bcftools, which hold pysam's GIL while
they run, each get one): gems's own code on their path, never the caller's folder.

`python -c` puts the working directory first on the path, and an empty entry in PYTHONPATH means
the working directory too; a `workers/` there (an old checkout, a user's project) would be what
the child imports. `-P` (Python 3.11) and a PYTHONPATH without empty entries keep it out.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

REPO_ROOT = str(Path(__file__).resolve().parents[2])


def command(code: str, *args: str) -> list[str]:
    return [sys.executable, "-P", "-c", code, *args]


def env() -> dict[str, str]:
    out = dict(os.environ)
    given = [p for p in out.get("PYTHONPATH", "").split(os.pathsep) if p]
    out["PYTHONPATH"] = os.pathsep.join([REPO_ROOT, *given])
    return out
