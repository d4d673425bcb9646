"""Gene models for consequence annotation: transcripts with exons and CDS, and a position index.

Coordinates are 1-based and inclusive, as in GFF3 and VCF. "mRNA index" means a 0-based offset
into the spliced transcript sequence read 5'->3' on the transcript's own strand.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field

from workers.genomics.protein import revcomp


@dataclass
class Transcript:
    id: str
    chrom: str
    strand: int  # +1 or -1
    gene_id: str = ""
    gene_name: str = ""
    biotype: str = ""
    exons: list[tuple[int, int]] = field(default_factory=list)  # genomic order
    cds: list[tuple[int, int, int]] = field(default_factory=list)  # (start, end, phase), genomic order
    tags: tuple[str, ...] = ()
    # The transcript feature's own extent: wider than its exons when a region slice cut exons off.
    span: tuple[int, int] | None = None

    def __post_init__(self) -> None:
        self.finish()

    def finish(self) -> None:
        """Sort features and derive the spliced layout; call again after editing exons/cds."""
        self.exons.sort()
        self.cds.sort()
        if not self.exons and self.cds:
            self.exons = [(s, e) for s, e, _ in self.cds]
        ordered = self.exons if self.strand > 0 else self.exons[::-1]
        self._tx_exons = ordered
        self._tx_offsets = []
        total = 0
        for s, e in ordered:
            self._tx_offsets.append(total)
            total += e - s + 1
        self.length = total
        self._starts = [s for s, _ in self.exons]
        pairs = zip(self.exons, self.exons[1:], strict=False)
        self._introns = [(a[1] + 1, b[0] - 1) for a, b in pairs if b[0] > a[1] + 1]
        self.cds_range: tuple[int, int] | None = None  # [first, last) mRNA index of the CDS
        self.phase = 0
        if self.cds:
            lo, hi = self.cds[0][0], self.cds[-1][1]
            first = self.cds[0] if self.strand > 0 else self.cds[-1]
            self.phase = first[2]
            a, b = self.mrna_index(lo), self.mrna_index(hi)
            if a is not None and b is not None:
                self.cds_range = (min(a, b), max(a, b) + 1)

    @property
    def start(self) -> int:
        return min(self.exons[0][0], self.span[0]) if self.span else self.exons[0][0]

    @property
    def end(self) -> int:
        return max(self.exons[-1][1], self.span[1]) if self.span else self.exons[-1][1]

    @property
    def coding(self) -> bool:
        return self.cds_range is not None

    @property
    def cds_genomic(self) -> tuple[int, int] | None:
        return (self.cds[0][0], self.cds[-1][1]) if self.cds else None

    def coding_bounds(self) -> tuple[tuple[int, int], tuple[int, int]]:
        """The CDS as ([first, last) mRNA index, (first, last) genomic), for code past a `coding` check."""
        if self.cds_range is None or not self.cds:
            raise ValueError(f"transcript {self.id} has no CDS")
        return self.cds_range, (self.cds[0][0], self.cds[-1][1])

    def exonic_index(self, pos: int) -> int:
        """mrna_index for a position known to lie in an exon (an exon's own bounds)."""
        index = self.mrna_index(pos)
        if index is None:
            raise ValueError(f"{pos} is not in an exon of transcript {self.id}")
        return index

    def exon_at(self, pos: int) -> int | None:
        """Index (genomic order) of the exon holding pos, or None."""
        i = bisect.bisect_right(self._starts, pos) - 1
        if i >= 0 and self.exons[i][0] <= pos <= self.exons[i][1]:
            return i
        return None

    def mrna_index(self, pos: int) -> int | None:
        """0-based index of genomic pos in the spliced transcript (transcript strand), or None in introns."""
        i = self.exon_at(pos)
        if i is None:
            return None
        s, e = self.exons[i]
        k = i if self.strand > 0 else len(self.exons) - 1 - i
        return self._tx_offsets[k] + (pos - s if self.strand > 0 else e - pos)

    def genomic_pos(self, index: int) -> int:
        """Inverse of mrna_index."""
        k = bisect.bisect_right(self._tx_offsets, index) - 1
        s, e = self._tx_exons[k]
        d = index - self._tx_offsets[k]
        return s + d if self.strand > 0 else e - d

    def introns(self) -> list[tuple[int, int]]:
        """Introns in genomic order as (first, last) genomic positions."""
        return self._introns

    def nearest_exon_base(self, pos: int) -> tuple[int, int]:
        """For an intronic pos: (mRNA index of the closest exon base, signed offset on the transcript strand).

        The offset is positive after an exon's 3' end (c.123+5) and negative before a 5' start (c.124-2);
        ties go to the upstream exon, as HGVS does.
        """
        i = bisect.bisect_right(self._starts, pos) - 1  # exon to the left in genomic order
        far = 1 << 62  # no exon on that side (a transcript whose span reaches past its known exons)
        d_left = pos - self.exons[i][1] if i >= 0 else far
        d_right = self.exons[i + 1][0] - pos if i + 1 < len(self.exons) else far
        if self.strand > 0:
            if d_left <= d_right:
                return self.exonic_index(self.exons[i][1]), d_left
            return self.exonic_index(self.exons[i + 1][0]), -d_right
        if d_right <= d_left:
            return self.exonic_index(self.exons[i + 1][0]), d_right
        return self.exonic_index(self.exons[i][1]), -d_left

    def sequence(self, fetch) -> str:
        """The spliced transcript sequence; fetch(chrom, start0, end0) returns upper-case genomic bases."""
        parts = [fetch(self.chrom, s - 1, e) for s, e in self.exons]
        seq = "".join(parts).upper()
        return seq if self.strand > 0 else revcomp(seq)


class GeneModels:
    """Transcripts indexed by chromosome for overlap queries."""

    def __init__(self, transcripts: list[Transcript]):
        self.transcripts = transcripts
        self._by_chrom: dict[str, list[Transcript]] = {}
        for t in sorted(transcripts, key=lambda t: (t.chrom, t.start, t.end, t.id)):
            self._by_chrom.setdefault(t.chrom, []).append(t)
        self._starts = {c: [t.start for t in ts] for c, ts in self._by_chrom.items()}
        self._longest = {c: max(t.end - t.start + 1 for t in ts) for c, ts in self._by_chrom.items()}

    def __len__(self) -> int:
        return len(self.transcripts)

    @property
    def contigs(self) -> set[str]:
        return set(self._by_chrom)

    @property
    def genes(self) -> set[str]:
        return {t.gene_id or t.id for t in self.transcripts}

    def near(self, chrom: str, start: int, end: int, flank: int = 0) -> list[Transcript]:
        """Transcripts overlapping [start - flank, end + flank]."""
        ts = self._by_chrom.get(chrom)
        if not ts:
            return []
        lo, hi = start - flank, end + flank
        starts = self._starts[chrom]
        first = bisect.bisect_left(starts, lo - self._longest[chrom])
        last = bisect.bisect_right(starts, hi)
        return [t for t in ts[first:last] if t.end >= lo]
