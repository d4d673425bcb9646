"""Adapter and quality trimming of read pairs with cutadapt's library API.

The same modifiers `cutadapt -q 20 -a AGATCGGAAGAGC -A AGATCGGAAGAGC` uses, applied record by
record inside the QC pass so the reads are read once.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import dnaio
from cutadapt.adapters import BackAdapter
from cutadapt.info import ModificationInfo
from cutadapt.modifiers import AdapterCutter, NextseqQualityTrimmer, QualityTrimmer

# The 13 bases shared by the TruSeq/Nextera-era Illumina read-1 and read-2 adapters (what
# Trim Galore and fastp auto-detect); matching the common prefix trims both mates.
ILLUMINA_ADAPTER = "AGATCGGAAGAGC"


@dataclass
class TrimSettings:
    quality_cutoff: int = 20
    adapter: str = ILLUMINA_ADAPTER
    # Two-colour chemistry (NextSeq/NovaSeq) reads a dark cycle as high-quality G.
    two_colour: bool = False
    quality_base: int = 33


@dataclass
class TrimCounts:
    adapters_r1: int = 0
    adapters_r2: int = 0
    bases_removed: int = 0
    extra: dict = field(default_factory=dict)


class PairTrimmer:
    """Trims one mate at a time; keeps counts for the QC report."""

    def __init__(self, settings: TrimSettings | None = None):
        s = settings or TrimSettings()
        qual_cls = NextseqQualityTrimmer if s.two_colour else QualityTrimmer
        self._quality = (
            qual_cls(s.quality_cutoff, s.quality_base)
            if s.two_colour
            else qual_cls(0, s.quality_cutoff, s.quality_base)
        )
        self._cutters = [
            AdapterCutter([BackAdapter(s.adapter, max_errors=0.1, min_overlap=3, name="illumina")])
            for _ in range(2)
        ]
        self.counts = TrimCounts()

    def _trim(self, rec: dnaio.SequenceRecord, mate: int) -> dnaio.SequenceRecord:
        before = len(rec)
        info = ModificationInfo(rec)
        # cutadapt's own order: quality trimming first, then adapter removal.
        rec = self._quality(rec, info)
        rec = self._cutters[mate](rec, info)
        if info.matches:
            if mate == 0:
                self.counts.adapters_r1 += 1
            else:
                self.counts.adapters_r2 += 1
        self.counts.bases_removed += before - len(rec)
        return rec

    def __call__(
        self, r1: dnaio.SequenceRecord, r2: dnaio.SequenceRecord
    ) -> tuple[dnaio.SequenceRecord, dnaio.SequenceRecord]:
        return self._trim(r1, 0), self._trim(r2, 1)
