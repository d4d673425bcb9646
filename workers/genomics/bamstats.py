"""Alignment counts of a finished BAM, in one pass: what the align step reports.

Counted over primary records (secondary and supplementary ones are counted apart), the way
`samtools flagstat` counts: mapped reads, properly paired reads, mapped reads at MAPQ 0, and the
median insert size of properly paired templates (each template once, from its leftmost mate).
It also counts what `samtools markdup` reports examining (mapped primary reads that pass QC) and
marking, so a BAM marked in windows (workers.genomics.windows) reports markdup's own figures.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pysam

from workers.genomics import children

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
    # insert size -> templates: a genome has 400 M of them, too many to keep one by one
    inserts: Counter[int] = field(default_factory=Counter)

    def insert_median(self) -> float | None:
        """The median of every template's insert size (statistics.median of them, one by one)."""
        n = self.inserts.total()
        if not n:
            return None
        wanted, seen, found = ((n - 1) // 2, n // 2), 0, list[int]()
        for size in sorted(self.inserts):
            seen += self.inserts[size]
            while len(found) < 2 and wanted[len(found)] < seen:
                found.append(size)
            if len(found) == 2:
                break
        middle = (found[0] + found[1]) / 2
        return int(middle) if n % 2 else middle

    def markdup(self) -> dict:
        """The figures of markdup's JSON that the report reads."""
        return {"EXAMINED": self.examined, "DUPLICATE TOTAL": self.duplicates}

    def to_json(self) -> str:
        return json.dumps({**{f: getattr(self, f) for f in _FIGURES}, "inserts": list(self.inserts.items())})

    @classmethod
    def from_json(cls, text: str) -> AlignmentCounts:
        data = json.loads(text)
        return cls(**{f: int(data[f]) for f in _FIGURES}, inserts=Counter(dict(data["inserts"])))

    @classmethod
    def added(cls, parts: list[AlignmentCounts]) -> AlignmentCounts:
        """The counts of the BAMs of `parts`, concatenated."""
        out = cls()
        for part in parts:
            for f in _FIGURES:
                setattr(out, f, getattr(out, f) + getattr(part, f))
            out.inserts.update(part.inserts)
        return out


_FIGURES = ("reads", "mapped", "proper", "mapq0", "supplementary", "examined", "duplicates")


def count(bam: Path, threads: int = 1) -> AlignmentCounts:
    c = AlignmentCounts()
    inserts: list[int] = []
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
                    if len(inserts) == 1_000_000:
                        c.inserts.update(inserts)
                        inserts.clear()
    c.inserts.update(inserts)
    return c


_CHILD = "from workers.genomics.bamstats import _child_main; _child_main()"


def _child_main() -> None:
    """Count the BAM named in argv in this child; its counts as JSON on stdout."""
    sys.stdout.write(count(Path(sys.argv[1])).to_json())


def count_apart(bam: Path) -> AlignmentCounts:
    """`count` in a child process, so that threads count BAMs at once (pysam holds the GIL)."""
    return AlignmentCounts.from_json(
        children.output(_CHILD, str(bam), what=f"counting {bam.name} failed").decode()
    )
