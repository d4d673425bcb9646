"""From an aligner's SAM stream to a coordinate-sorted, duplicate-marked, indexed BAM.

The field's usual line, `samtools fixmate -m | samtools sort | samtools markdup --write-index`,
run with the samtools that pysam bundles. That samtools holds the GIL while it runs, so each
tool gets its own child Python process and the tools run at once, joined by pipes (uncompressed
BAM between them). The BAM is compressed once, by markdup, at level 2: the level GATK writes by
default, about 17% larger than samtools' 6 and half its compression time on our benchmark
(docs/pipeline-calling.md). The result is written as `<name>.part` and renamed only when it and
its index are complete.

A sharded sample splits the line: each shard stops after the sort (`SHARD_STAGES`, a sorted BAM
whose duplicates are not yet marked), and each window of the reference runs `samtools merge |
samtools markdup` over all shards (`WINDOW_STAGES`, workers.pipeline.windowphase), so duplicates
are found across shards, once.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import IO

from gems.errors import InputError
from workers.genomics import children

_CHILD = "from workers.genomics.bamfile import _child_main; _child_main()"
TOOLS = ("fixmate", "sort", "markdup")
SHARD_STAGES = ("fixmate", "sort")
WINDOW_STAGES = ("merge", "markdup")  # one window of a sharded sample, with its margins
COMPRESSION_LEVEL = 2
# A shard's BAM is read once, by the gather, after a trip through S3: fast to write, still small.
SHARD_COMPRESSION_LEVEL = 1


def _child_main() -> None:
    """Run one samtools tool in this child (argv: tool name, JSON settings)."""
    import pysam

    tool, cfg = sys.argv[1], json.loads(sys.argv[2])
    threads, work = str(cfg["threads"]), Path(cfg["work"])
    part = cfg["final"] + ".part"
    last = tool == cfg["last"]
    if tool == "fixmate":  # mates' MC and ms tags, which markdup needs; stdin SAM -> stdout BAM
        args = ["-m", "-O", "bam,level=0", "-", "-"]
    elif tool == "sort":
        out = ["-l", str(SHARD_COMPRESSION_LEVEL), "-o", part] if last else ["-u"]
        args = [*out, "-@", threads, "-m", f"{cfg['sort_mem_mb']}M", "-T", str(work / "sort"), "-"]
    elif tool == "merge":
        # -c/-p: the shards share one read group and program line; without them merge renames
        # the copies. Ties in position keep file order, and the shards are in read order.
        window = ["--no-PG", "-L", cfg["bed"]] if cfg.get("bed") else []  # a window's reads (indexed inputs)
        args = ["-u", "-c", "-p", *window, "-@", threads, "-o", "-", *cfg["inputs"]]
    else:
        args = [
            "-@", threads, "-O", "bam", "--output-fmt-option", f"level={cfg['level']}", "-f", str(work / "markdup.json"),
            "--json", "--write-index", "-", f"{part}##idx##{part}.bai",
        ]  # fmt: skip
    getattr(pysam.samtools, tool)(*args, catch_stdout=False)


class BamWriter:
    """Reads SAM from `source` (a pipe's read end) and leaves `final` (+ .bai) once `close()` succeeds.

    `stages` picks the line: the whole of it (`TOOLS`), a shard's (`SHARD_STAGES`: no index, no
    duplicate marks), or one window of a sharded sample (`WINDOW_STAGES`: the inputs' reads in `bed`,
    duplicate-marked, indexed; `level` for its compression).
    """

    def __init__(
        self,
        source: IO[bytes] | None,
        final: Path,
        work: Path,
        threads: int = 1,
        sort_mem_mb: int = 768,
        stages: tuple[str, ...] = TOOLS,
        inputs: tuple[Path | str, ...] = (),  # paths, or S3 URLs (with extra_env)
        bed: Path | None = None,
        extra_env: dict[str, str] | None = None,
        level: int = COMPRESSION_LEVEL,
    ):
        self.final = Path(final)
        self.stages = stages
        self.indexed = stages[-1] == "markdup"
        self.work = Path(work)
        self.work.mkdir(parents=True, exist_ok=True)
        for stale in (self.final, Path(str(self.final) + ".bai")):
            stale.unlink(missing_ok=True)
        cfg = json.dumps(
            dict(
                threads=max(threads, 1), work=str(self.work), final=str(self.final), sort_mem_mb=sort_mem_mb,
                last=stages[-1], inputs=[str(p) for p in inputs], bed=str(bed) if bed else "",
                level=level,
            )
        )  # fmt: skip
        env = children.env(extra_env)  # inputs in S3: the settings htslib reads them with
        self._logs: dict[str, IO[bytes]] = {}
        self._procs: dict[str, subprocess.Popen] = {}
        upstream: IO[bytes] | None = source
        for tool in stages:
            log = self._logs[tool] = open(self.work / f"{tool}.log", "w+b")  # noqa: SIM115 - lives as long as the child
            proc = subprocess.Popen(
                children.command(_CHILD, tool, cfg),
                stdin=upstream if upstream is not None else subprocess.DEVNULL,
                stdout=subprocess.DEVNULL if tool == stages[-1] else subprocess.PIPE,
                stderr=log,
                env=env,
                cwd=self.work,  # htslib leaves a remote input's index in the working folder
            )
            if upstream is not source and upstream is not None:
                upstream.close()  # the child holds its own copy
            upstream = proc.stdout  # the next tool's input (None after the last)
            self._procs[tool] = proc

    def _error(self, tool: str) -> str:
        log = self._logs[tool]
        log.seek(0)
        lines = [ln for ln in log.read().decode(errors="replace").splitlines() if ln.strip()]
        return f"samtools {tool}: {lines[-1][:300] if lines else 'stopped with no message'}"

    def _cleanup(self) -> None:
        part = Path(str(self.final) + ".part")
        for p in (part, Path(str(part) + ".bai"), self.work / "markdup.json"):
            p.unlink(missing_ok=True)
        for p in self.work.glob("sort.*.bam"):
            p.unlink(missing_ok=True)

    def _close_logs(self, remove: bool) -> None:
        for tool, log in self._logs.items():
            log.close()
            if remove:
                (self.work / f"{tool}.log").unlink(missing_ok=True)

    def abort(self) -> None:
        for proc in self._procs.values():
            if proc.poll() is None:
                proc.kill()
        for proc in self._procs.values():
            proc.wait()
        self._close_logs(remove=False)
        self._cleanup()

    def close(self) -> dict:
        """Wait for the three tools; rename into place; return markdup's counts."""
        failed = [tool for tool, proc in self._procs.items() if proc.wait() != 0]
        if failed:
            # The first tool that failed explains the others (they saw a broken pipe or no input).
            msg = self._error(failed[0])
            self._close_logs(remove=False)
            self._cleanup()
            if "no space" in msg.lower():
                raise InputError(f"BAM sorting failed: {msg}")
            raise RuntimeError(f"BAM sorting/duplicate marking failed: {msg}")
        self._close_logs(remove=True)
        part = Path(str(self.final) + ".part")
        # Index first, BAM last: a `sample.bam` only ever appears complete and indexed.
        if self.indexed:
            Path(str(part) + ".bai").replace(Path(str(self.final) + ".bai"))
        part.replace(self.final)
        stats_path = self.work / "markdup.json"
        try:
            stats = json.loads(stats_path.read_text())
        except (OSError, ValueError):  # a shard's or a window's line, which writes no counts
            stats = {}
        stats_path.unlink(missing_ok=True)
        return stats
