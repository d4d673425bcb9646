"""The gather as the fleet runs it, on one machine, for tests: every window worked by `units`
workers' shares (workers.pipeline.windowphase), then put together by the lead."""

from __future__ import annotations

import random
from pathlib import Path

from workers.genomics import windows
from workers.genomics.reference import Reference, prepare_reference
from workers.pipeline import windowphase


def reference_for(folder: Path, contigs: dict[str, int]) -> Reference:
    """A FASTA for synthetic reads' contigs (the windows' stats and calls read one)."""
    rng = random.Random(7)
    folder.mkdir(parents=True, exist_ok=True)
    fasta = folder / "synthetic.fa"
    fasta.write_text(
        "".join(f">{c}\n{''.join(rng.choice('ACGT') for _ in range(n))}\n" for c, n in contigs.items())
    )
    return prepare_reference(fasta)


def gather(
    bams: list[Path], out: Path, work: Path, ref: Reference, n: int, units: int = 1, threads: int = 2
) -> windowphase.Assembled:
    """`out` (+ .bai) from shard BAMs over `n` windows shared by `units` workers."""
    windows.index_inputs(bams, threads)
    planned = windows.plan(ref.contigs, n)
    inputs = [str(b) for b in bams]
    parts: list[windowphase.WindowParts] = []
    for unit in range(units):
        mine = windowphase.owned(planned, units, unit)
        parts += windowphase.work_windows(
            mine, inputs, ref.contigs, ref, Path(work) / f"unit{unit}", threads, None
        )
    return windowphase.assemble(parts, inputs, planned, out, Path(work) / "lead", threads, ref)
