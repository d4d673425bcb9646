"""Child Python processes of the analysis (samtools and bcftools, which hold pysam's GIL while
they run, each get one): gems's own code on their path, never the caller's folder.

`python -c` puts the working directory first on the path, and an empty entry in PYTHONPATH means
the working directory too; a `workers/` there (an old checkout, a user's project) would be what
the child imports. `-P` (Python 3.11) and a PYTHONPATH without empty entries keep it out.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO_ROOT = str(Path(__file__).resolve().parents[2])


def command(code: str, *args: str) -> list[str]:
    return [sys.executable, "-P", "-c", code, *args]


def env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The child's environment: ours, gems's code on the path, and `extra` (the settings htslib
    reads S3 with: gems.aws.htslib)."""
    out = dict(os.environ) | (extra or {})
    given = [p for p in out.get("PYTHONPATH", "").split(os.pathsep) if p]
    out["PYTHONPATH"] = os.pathsep.join([REPO_ROOT, *given])
    return out


_SAMTOOLS = (
    "import sys, pysam\n"
    "try:\n    getattr(pysam.samtools, sys.argv[1])(*sys.argv[2:], catch_stdout=False)\n"
    "except pysam.utils.SamtoolsError as e:\n    sys.exit(str(e.value).split('stderr=')[-1].strip(chr(39) + ' ' + chr(10)))"
)
# pysam keeps what a tool writes to its standard output only when it catches it
_SAMTOOLS_TEXT = _SAMTOOLS.replace(
    "getattr(pysam.samtools, sys.argv[1])(*sys.argv[2:], catch_stdout=False)",
    "sys.stdout.write(getattr(pysam.samtools, sys.argv[1])(*sys.argv[2:]))",
)


def output(
    code: str, *args: str, what: str, extra_env: dict[str, str] | None = None, cwd: Path | None = None
) -> bytes:
    """Run `code` in a child with `args` (in `cwd`: htslib leaves a remote file's index in its
    working folder); its stdout. RuntimeError naming `what` with the child's last line of stderr
    when it fails."""
    done = subprocess.run(command(code, *args), env=env(extra_env), capture_output=True, check=False, cwd=cwd)
    if done.returncode != 0:
        lines = [ln for ln in done.stderr.decode(errors="replace").splitlines() if ln.strip()]
        last = lines[-1][:300] if lines else "stopped with no message"
        raise RuntimeError(last if last.startswith(what) else f"{what}: {last}")
    return done.stdout


def samtools(tool: str, *args: str, extra_env: dict[str, str] | None = None, cwd: Path | None = None) -> None:
    """`samtools <tool> <args>` in a child, so that threads run several at once; RuntimeError with
    samtools' last line when it fails."""
    output(_SAMTOOLS, tool, *args, what=f"samtools {tool}", extra_env=extra_env, cwd=cwd)


def samtools_output(tool: str, *args: str) -> str:
    """`samtools <tool> <args>` in a child: what it writes to its standard output."""
    return output(_SAMTOOLS_TEXT, tool, *args, what=f"samtools {tool}").decode()
