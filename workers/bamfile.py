"""From unsorted SAM text to a coordinate-sorted, duplicate-marked, indexed BAM.

The samtools that pysam bundles holds the GIL while it runs, so it cannot overlap with mapping
in threads of the same interpreter. `BamSink` therefore runs it in a child Python process that
reads the SAM text on its stdin: `samtools sort` (while the parent maps), then `samtools markdup`
and `samtools index`. The result is written as `<name>.part` and renamed only when it and its
index are complete.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
from pathlib import Path

from gems.errors import InputError

_CHILD = "from workers.bamfile import _child_main; _child_main()"


def _child_main() -> None:
    """Run in the child: sort stdin, mark duplicates, index (argv: JSON settings)."""
    import pysam

    cfg = json.loads(sys.argv[1])
    threads, work, final = str(cfg["threads"]), Path(cfg["work"]), Path(cfg["final"])
    sorted_bam = work / "sorted.bam"
    part = Path(str(final) + ".part")
    mem = f"{cfg['sort_mem_mb']}M"
    pysam.samtools.sort(
        "-@", threads, "-m", mem, "-l", "0", "-T", str(work / "sort"), "-o", str(sorted_bam), "-",
        catch_stdout=False,
    )  # fmt: skip
    pysam.samtools.markdup(
        "-@", threads, "-f", str(work / "markdup.json"), "--json",
        str(sorted_bam), str(part),
        catch_stdout=False,
    )  # fmt: skip
    sorted_bam.unlink()
    pysam.samtools.index("-@", threads, str(part), str(part) + ".bai", catch_stdout=False)


def sam_header(contigs: dict[str, int], sample: str, program: dict[str, str]) -> str:
    rg = f"@RG\tID:{sample}\tSM:{sample}\tLB:{sample}\tPL:ILLUMINA"
    lines = ["@HD\tVN:1.6\tSO:unsorted"]
    lines += [f"@SQ\tSN:{name}\tLN:{length}" for name, length in contigs.items()]
    lines.append(rg)
    lines.append("\t".join(["@PG"] + [f"{k}:{v}" for k, v in program.items()]))
    return "\n".join(lines) + "\n"


class BamSink:
    """Takes SAM text (header first) and leaves `final` (+ .bai) once `close()` succeeds."""

    def __init__(self, final: Path, work: Path, threads: int = 1, sort_mem_mb: int = 512):
        self.final = Path(final)
        self.work = Path(work)
        self.work.mkdir(parents=True, exist_ok=True)
        for stale in (self.final, Path(str(self.final) + ".bai")):
            stale.unlink(missing_ok=True)
        cfg = dict(
            threads=max(threads, 1), work=str(self.work), final=str(self.final), sort_mem_mb=sort_mem_mb
        )
        self._stderr = open(self.work / "samtools.log", "w+b")  # noqa: SIM115 - lives as long as the child
        env = dict(os.environ)
        repo_root = str(Path(__file__).resolve().parent.parent)
        env["PYTHONPATH"] = repo_root + os.pathsep + env.get("PYTHONPATH", "")
        self._proc = subprocess.Popen(
            [sys.executable, "-c", _CHILD, json.dumps(cfg)],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=self._stderr,
            env=env,
            bufsize=1 << 20,
        )
        assert self._proc.stdin is not None  # stdin=PIPE
        self._pipe = self._proc.stdin

    def write(self, text: str) -> None:
        try:
            self._pipe.write(text.encode())
        except BrokenPipeError:
            self._proc.wait()
            raise RuntimeError(f"samtools sort stopped early: {self._error_text()}") from None

    def _error_text(self) -> str:
        self._stderr.seek(0)
        lines = [ln for ln in self._stderr.read().decode(errors="replace").splitlines() if ln.strip()]
        return lines[-1][:300] if lines else "no message"

    def _cleanup(self) -> None:
        part = Path(str(self.final) + ".part")
        for p in (part, Path(str(part) + ".bai"), self.work / "sorted.bam"):
            p.unlink(missing_ok=True)
        for p in self.work.glob("sort.*.bam"):
            p.unlink(missing_ok=True)

    def abort(self) -> None:
        if self._proc.poll() is None:
            self._proc.kill()
        self._proc.wait()
        self._stderr.close()
        self._cleanup()

    def close(self) -> dict:
        """Finish sorting/marking/indexing; rename into place; return markdup's counts."""
        with contextlib.suppress(BrokenPipeError):
            self._pipe.close()
        rc = self._proc.wait()
        if rc != 0:
            msg = self._error_text()
            self._stderr.close()
            self._cleanup()
            if "no space" in msg.lower():
                raise InputError(f"BAM sorting failed: {msg}")
            raise RuntimeError(f"BAM sorting/duplicate marking failed: {msg}")
        self._stderr.close()
        (self.work / "samtools.log").unlink(missing_ok=True)
        part = Path(str(self.final) + ".part")
        # Index first, BAM last: a `sample.bam` only ever appears complete and indexed.
        Path(str(part) + ".bai").replace(Path(str(self.final) + ".bai"))
        part.replace(self.final)
        stats_path = self.work / "markdup.json"
        try:
            stats = json.loads(stats_path.read_text())
        except (OSError, ValueError):
            stats = {}
        stats_path.unlink(missing_ok=True)
        return stats
