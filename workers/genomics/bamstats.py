"""Alignment counts of a finished BAM, in one pass: what the align step reports.

Counted over primary records (secondary and supplementary ones are counted apart), the way
`samtools flagstat` counts: mapped reads, properly paired reads, mapped reads at MAPQ 0, and the
median insert size of properly paired templates (each template once, from its leftmost mate).
It also counts what `samtools markdup` reports examining (mapped primary reads that pass QC) and
marking, so a BAM marked in windows (workers.genomics.windows) reports markdup's own figures.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from pathlib import Path

import pysam

_SECONDARY, _SUPPLEMENTARY, _UNMAPPED, _PROPER = 0x100, 0x800, 0x4, 0x2
_QCFAIL, _DUPLICATE = 0x200, 0x400


@dataclass
class AlignmentCounts:
    reads: int = 0  # primary records: every input read once
    mapped: int = 0
    proper: int = 0
    mapq0: int = 0
    supplementary: int = 0
    examined: int = 0  # markdup's EXAMINED
    duplicates: int = 0  # markdup's DUPLICATE TOTAL (it marks primary reads only: no -S)
    inserts: list[int] = field(default_factory=list)

    def insert_median(self) -> float | None:
        return statistics.median(self.inserts) if self.inserts else None

    def markdup(self) -> dict:
        """The figures of markdup's JSON that the report reads."""
        return {"EXAMINED": self.examined, "DUPLICATE TOTAL": self.duplicates}


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
            if not flag & _QCFAIL:
                c.examined += 1
                if flag & _DUPLICATE:
                    c.duplicates += 1
            if r.mapping_quality == 0:
                c.mapq0 += 1
            if flag & _PROPER:
                c.proper += 1
                tlen = r.template_length
                if tlen > 0:
                    inserts.append(tlen)
    return c
