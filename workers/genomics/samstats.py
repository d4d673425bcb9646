"""`samtools stats` of a whole BAM from the stats of its windows' own reads.

A genome's `samtools stats` is one thread reading 800 M records: half an hour, longer than
everything else after the gather. Its windows (workers.genomics.windows) each hold the reads
that start in them, so each window's stats run beside the others and `merge` adds them up into
the file one pass over the sample writes, the way samtools itself adds reads into its counters.

What samtools prints is mostly counters, and those add up exactly: the checksums (CRC32s added
with 32-bit overflow), every summary count and the figures it derives from them (re-derived here
with samtools' own arithmetic, its single-precision divisions included), the quality, mismatch,
read-length, MAPQ, indel and indel-per-cycle tables, and the GC histograms (printed run-length
coded, decoded here; samtools never prints the last run, the reads of the highest GC, in any
file). Some figures cannot be added exactly from what a window prints, and are as close as it
allows (tests/integration/calling/test_calling_samstats.py measures how close on real reads):

- a pair whose mates start in different windows is counted in halves that samtools rounds down
  in each window (the insert-size table, the pair-orientation counts, pairs on different
  chromosomes): a window's edges lose at most one such pair per table row;
- depth (COV) is counted in each window from its own reads, so the positions within a read's
  length of a window's edge are split between two windows;
- the base-content tables (GCC, GCT, FBC, LBC) are percentages: each window's are weighted by its
  bases at that cycle (from its read-length table), within rounding of the printed figures;
- GC-depth (GCD) prints percentiles of per-bin depths, which do not add up: each GC value's
  percentiles are its windows' weighted by how many bins each holds, an approximation.

Windows must be run with `-m 1` (the whole insert-size table: the 99% cut is made here, over the
sum) and the same other options as each other.
"""

from __future__ import annotations

import math
import re
import struct
from collections import defaultdict
from dataclasses import dataclass, field

NGC = 200  # samtools stats' GC-content bins
BULK = 0.99  # its default `-m`: the share of pairs the insert-size figures are taken over
GCD_BIN = 20_000  # its default `-GC-depth` bin

SUMMED = {
    "raw total sequences", "filtered sequences", "sequences", "1st fragments", "last fragments",
    "reads mapped", "reads mapped and paired", "reads unmapped", "reads properly paired",
    "reads paired", "reads duplicated", "reads MQ0", "reads QC failed", "non-primary alignments",
    "supplementary alignments", "total length", "total first fragment length",
    "total last fragment length", "bases mapped", "bases mapped (cigar)", "bases trimmed",
    "bases duplicated", "mismatches", "pairs on different chromosomes",
}  # fmt: skip
MAXED = {"maximum length", "maximum first fragment length", "maximum last fragment length"}
MATRICES = ("FFQ", "LFQ", "MPC")  # rows by cycle, columns by quality
KEYED = ("RL", "FRL", "LRL", "MAPQ", "ID", "IC")  # rows by their first column, counts after
PERCENT = ("GCC", "GCT", "FBC", "LBC")
_GREP = re.compile(r"grep \^(\w+)")


class Unmergeable(ValueError):
    """The parts hold something this merge does not know how to add (samtools grew a section)."""


def _f32(x: float) -> float:
    """x as C's float holds it: samtools divides some figures in single precision."""
    return struct.unpack("f", struct.pack("f", x))[0]


def _div32(a: float, b: float) -> float:
    return _f32(_f32(a) / _f32(b)) if b else 0.0


@dataclass
class _Part:
    chk: list[int] = field(default_factory=lambda: [0, 0, 0])
    sn: dict[str, str] = field(default_factory=dict)
    rows: dict[str, list[list[str]]] = field(default_factory=lambda: defaultdict(list))
    span: int = 0

    @classmethod
    def parse(cls, text: str, span: int) -> _Part:
        part = cls(span=span)
        for line in text.splitlines():
            if not line or line.startswith("#"):
                continue
            tag, *cols = line.split("\t")
            if tag == "CHK":
                part.chk = [int(c, 16) for c in cols[:3]]
            elif tag == "SN":
                part.sn[cols[0].rstrip(":")] = cols[1]
            else:
                part.rows[tag].append(cols)
        return part

    def number(self, name: str) -> int:
        return int(self.sn.get(name, "0"))

    def weights(self, tag: str) -> dict[int, int]:
        """Reads whose sequence reaches each cycle (1-based), from the read-length table `tag`."""
        lengths = {int(r[0]): int(r[1]) for r in self.rows.get(tag, [])}
        out, reaching = {}, sum(lengths.values())
        for cycle in range(1, max(lengths, default=0) + 1):
            out[cycle] = reaching
            reaching -= lengths.get(cycle, 0)
        return out


def _matrix(parts: list[_Part], tag: str) -> list[str]:
    rows = max((len(p.rows.get(tag, [])) for p in parts), default=0)
    cols = max((len(r) - 1 for p in parts for r in p.rows.get(tag, [])), default=0)
    sums = [[0] * cols for _ in range(rows)]
    for p in parts:
        for i, r in enumerate(p.rows.get(tag, [])):
            for j, v in enumerate(r[1:]):
                sums[i][j] += int(v)
    return [f"{tag}\t{i + 1}\t" + "\t".join(map(str, row)) for i, row in enumerate(sums)]


def _keyed(parts: list[_Part], tag: str) -> list[str]:
    sums: dict[int, list[int]] = {}
    for p in parts:
        for r in p.rows.get(tag, []):
            acc = sums.setdefault(int(r[0]), [0] * (len(r) - 1))
            for j, v in enumerate(r[1:]):
                acc[j] += int(v)
    return [f"{tag}\t{k}\t" + "\t".join(map(str, sums[k])) for k in sorted(sums)]


def _gc_bins(rows: list[list[str]]) -> list[int]:
    """The GC histogram's bins from samtools' run-length lines: each line is a run's midpoint
    (in %) and its count; the last run is never printed and is left at zero."""
    bins, start = [0] * NGC, 0
    for x, count in rows:
        end = round(float(x) * (NGC - 1) / 50) - start  # x = (start + end) * 50 / (NGC - 1)
        bins[start:end] = [int(count)] * (end - start)
        start = end
    return bins


def _gc(parts: list[_Part], tag: str) -> list[str]:
    bins = [sum(col) for col in zip(*(_gc_bins(p.rows.get(tag, [])) for p in parts), strict=True)]
    out, prev = [], 0
    for i in range(NGC):
        if bins[i] == bins[prev]:
            continue
        out.append(f"{tag}\t{(i + prev) * 0.5 * 100.0 / (NGC - 1):.2f}\t{bins[prev]}")
        prev = i
    return out


def _percent(parts: list[_Part], tag: str) -> list[str]:
    lengths = {"FBC": ("FRL",), "LBC": ("LRL",)}.get(tag, ("FRL", "LRL"))
    counts: dict[int, list[float]] = {}
    for p in parts:
        reach: dict[int, int] = defaultdict(int)
        for t in lengths:
            for cycle, n in p.weights(t).items():
                reach[cycle] += n
        for r in p.rows.get(tag, []):
            cycle, pct = int(r[0]), [float(v) for v in r[1:]]
            # reads at the cycle = A+C+G+T+N+other; the percentages are of A+C+G+T
            acgt = reach.get(cycle, 0) / (1 + sum(pct[4:]) / 100)
            acc = counts.setdefault(cycle, [0.0] * len(pct))
            for j, v in enumerate(pct):
                acc[j] += v * acgt / 100
    out = []
    for cycle in sorted(counts):
        acc = counts[cycle]
        total = sum(acc[:4])
        if total > 0:
            out.append(f"{tag}\t{cycle}\t" + "\t".join(f"{100.0 * v / total:.2f}" for v in acc))
    return out


def _base_totals(parts: list[_Part], tag: str) -> list[str]:
    sums = [0] * 5
    for p in parts:
        for r in p.rows.get(tag, []):
            sums = [a + int(b) for a, b in zip(sums, r, strict=False)]
    return [f"{tag}\t" + "\t".join(map(str, sums))]


def _inserts(parts: list[_Part]) -> tuple[list[list[int]], int, float, float]:
    """The summed insert-size table (size -> in, out, other), cut where samtools cuts it, with
    the average and standard deviation samtools derives from it, in its order of operations."""
    table: dict[int, list[int]] = {}
    for p in parts:
        for r in p.rows.get("IS", []):
            acc = table.setdefault(int(r[0]), [0, 0, 0])
            for j in range(3):
                acc[j] += int(r[2 + j])
    size = max(table, default=-1) + 1
    hist = [table.get(i, [0, 0, 0]) for i in range(size)]
    nisize = sum(sum(h) for h in hist)
    ibulk, bulk, avg = 0, 0.0, 0.0
    for i, h in enumerate(hist):
        num = sum(h)
        if num > 0:
            ibulk = i + 1
        bulk += num
        avg += i * num
        if bulk / nisize > BULK:
            ibulk, nisize = i + 1, int(bulk)
            break
    avg /= nisize or 1
    sd = 0.0
    for i in range(1, ibulk):
        sd += sum(hist[i]) * (i - avg) * (i - avg) / (nisize or 1)
    return hist[:ibulk], ibulk, avg, math.sqrt(sd)


def _cov(parts: list[_Part]) -> list[str]:
    sums: dict[tuple[str, int], int] = {}
    for p in parts:
        for label, top, n in p.rows.get("COV", []):
            sums[(label, int(top))] = sums.get((label, int(top)), 0) + int(n)
    return [f"COV\t{label}\t{top}\t{n}" for (label, top), n in sorted(sums.items(), key=lambda kv: kv[0][1])]


def _gcd_bins(cums: list[float]) -> float:
    """How many bins (plus one) a window's GC-depth table was taken over: samtools prints each
    GC value's cumulative share of them to three decimals, and every share is a whole number of
    bins, so the smallest count that fits every printed share is the window's."""
    steps = [b - a for a, b in zip([0.0, *cums], cums, strict=False) if b - a > 0]
    if not steps:
        return 1.0
    for total in range(1, int(200 / min(steps)) + 2):
        if all(abs(c * total / 100 - round(c * total / 100)) <= 0.0006 * total / 100 + 1e-9 for c in cums):
            return float(total)
    return 100 / min(steps)


def _gcd(parts: list[_Part], read_length: float) -> list[str]:
    """Each GC value's depth percentiles, its windows' weighted by their bins at that value."""
    groups: dict[float, list[tuple[float, list[float]]]] = defaultdict(list)
    for p in parts:
        rows = [[float(v) for v in r] for r in p.rows.get("GCD", [])]
        total = _gcd_bins([r[1] for r in rows])
        own_length = _div32(p.number("total length"), p.number("sequences")) or 1.0
        prev = 100 / total  # the first share counts one bin more than the first value holds
        for gc, cum, *pcts in rows:
            bins = (cum - prev) / 100 * total
            prev = cum
            # samtools prints depth x read length / bin: rescale to the whole sample's read length
            groups[gc].append((bins, [v * read_length / own_length for v in pcts]))
    total = sum(b for g in groups.values() for b, _ in g) or 1.0
    out, seen = [], 1.0
    for gc in sorted(groups):
        weight = sum(b for b, _ in groups[gc]) or 1.0
        seen += sum(b for b, _ in groups[gc])
        pcts = [sum(b * v[k] for b, v in groups[gc]) / weight for k in range(5)]
        out.append(f"GCD\t{gc:.1f}\t{seen * 100 / (total + 1):.3f}\t" + "\t".join(f"{v:.3f}" for v in pcts))
    return out


def _summary(parts: list[_Part], template: list[str], avg: float, sd: float) -> list[str]:
    """The SN lines of `template` (one window's), every figure the whole sample's."""
    total: dict[str, float] = {}
    for name in SUMMED:
        total[name] = sum(p.number(name) for p in parts)
    for name in MAXED:
        total[name] = max((p.number(name) for p in parts), default=0)
    sequences = total["sequences"]
    sum_qual = 0
    for tag in ("FFQ", "LFQ"):
        for p in parts:
            for r in p.rows.get(tag, []):
                sum_qual += sum(q * int(n) for q, n in enumerate(r[1:]))
    orient = [0, 0, 0]
    for p in parts:
        for r in p.rows.get("IS", []):
            orient = [o + int(v) for o, v in zip(orient, r[2:5], strict=True)]
    t = total
    derived: dict[str, str] = {
        "is sorted": "1" if all(p.sn.get("is sorted", "1") == "1" for p in parts) else "0",
        "error rate": f"{_div32(t['mismatches'], t['bases mapped (cigar)']):e}",
        "average length": f"{_div32(t['total length'], sequences):.0f}",
        "average first fragment length": f"{_div32(t['total first fragment length'], t['1st fragments']):.0f}",
        "average last fragment length": f"{_div32(t['total last fragment length'], t['last fragments']):.0f}",
        "average quality": f"{sum_qual / t['total length'] if t['total length'] else 0:.1f}",
        "insert size average": f"{avg:.1f}",
        "insert size standard deviation": f"{sd:.1f}",
        "inward oriented pairs": str(orient[0]),
        "outward oriented pairs": str(orient[1]),
        "pairs with other orientation": str(orient[2]),
        "percentage of properly paired reads (%)": f"{_div32(100 * t['reads properly paired'], sequences):.1f}",
    }  # fmt: skip
    out = []
    for line in template:
        fields = line.split("\t")
        name = fields[1].rstrip(":")
        if name in derived:
            fields[2] = derived[name]
        elif name in total:
            fields[2] = str(int(total[name]))
        else:
            raise Unmergeable(f"samtools stats' summary line {name!r} is not one this merge adds up")
        out.append("\t".join(fields))
    return out


def merge(texts: list[str], command: str, spans: list[int] | None = None) -> str:
    """One `samtools stats` file from the files of the windows (in the reference's order) that
    hold every read once; `spans` are the windows' lengths in bases (for GCD's weights) and
    `command` the line the file says made it."""
    if not texts:
        raise ValueError("no window stats to merge")
    parts = [_Part.parse(t, s) for t, s in zip(texts, spans or [0] * len(texts), strict=True)]
    template = texts[0].splitlines()
    hist, _, avg, sd = _inserts(parts)
    read_length = _div32(
        sum(p.number("total length") for p in parts), sum(p.number("sequences") for p in parts)
    )
    sections: dict[str, list[str]] = {
        **{t: _matrix(parts, t) for t in MATRICES},
        **{t: _keyed(parts, t) for t in KEYED},
        **{t: _percent(parts, t) for t in PERCENT},
        **{t: _gc(parts, t) for t in ("GCF", "GCL")},
        **{t: _base_totals(parts, t) for t in ("FTC", "LTC")},
        "IS": [f"IS\t{i}\t{sum(h)}\t{h[0]}\t{h[1]}\t{h[2]}" for i, h in enumerate(hist)],
        "COV": _cov(parts),
        "GCD": _gcd(parts, read_length),
    }
    known = {*sections, "CHK", "SN"}
    for p in parts:
        if extra := set(p.rows) - known:
            raise Unmergeable(f"samtools stats sections {sorted(extra)} are not ones this merge adds up")
    out: list[str] = []
    pending: str | None = None
    done: set[str] = set()

    def flush() -> None:
        nonlocal pending
        if pending is not None and pending in sections and pending not in done:
            out.extend(sections[pending])
            done.add(pending)
        pending = None

    sn = [line for line in template if line.startswith("SN\t")]
    for line in template:
        if line.startswith("#"):
            if match := _GREP.search(line):
                flush()
                pending = match.group(1)
            if line.startswith("# The command line was:"):
                line = f"# The command line was:  {command}"
            out.append(line)
        elif line.startswith("CHK\t"):
            flush()
            chk = [sum(p.chk[i] for p in parts) % 2**32 for i in range(3)]
            out.append("CHK\t" + "\t".join(f"{c:08x}" for c in chk))
        elif line.startswith("SN\t"):
            if "SN" not in done:
                out.extend(_summary(parts, sn, avg, sd))
                done.add("SN")
            pending = None
        else:
            flush()
    flush()
    return "\n".join(out) + "\n"
