"""Alignment counts of a finished BAM, in one pass: what the align step reports.

Counted over primary records (secondary and supplementary ones are counted apart), the way
`samtools flagstat` counts: mapped reads, properly paired reads, mapped reads at MAPQ 0, and the
median insert size of properly paired templates (each template once, from its leftmost mate).
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from pathlib import Path

import pysam

_SECONDARY, _SUPPLEMENTARY, _UNMAPPED, _PROPER = 0x100, 0x800, 0x4, 0x2


@dataclass
class AlignmentCounts:
    reads: int = 0  # primary records: every input read once
    mapped: int = 0
    proper: int = 0
    mapq0: int = 0
    supplementary: int = 0
    inserts: list[int] = field(default_factory=list)

    def insert_median(self) -> float | None:
        return statistics.median(self.inserts) if self.inserts else None


def count(bam: Path, threads: int = 1) -> AlignmentCounts:
    c = AlignmentCounts()
    inserts = c.inserts
    with pysam.AlignmentFile(str(bam), threads=max(threads, 1)) as fh:
        for r in fh.fetch(until_eof=True):
            flag = r.flag
            if flag & _SUPPLEMENTARY:
                c.supplementary += 1
                continue
            if flag & _SECONDARY:
                continue
            c.reads += 1
            if flag & _UNMAPPED:
                continue
            c.mapped += 1
            if r.mapping_quality == 0:
                c.mapq0 += 1
            if flag & _PROPER:
                c.proper += 1
                tlen = r.template_length
                if tlen > 0:
                    inserts.append(tlen)
    return c
