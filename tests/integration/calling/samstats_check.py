"""How a `samtools stats` merged from windows (workers.genomics.samstats) must compare with the
whole BAM's own: exact where samtools prints counters, within stated bounds where it does not."""

from __future__ import annotations

import bisect
from collections import defaultdict
from pathlib import Path

import pysam

from workers.genomics import windows

# SN figures a pair whose mates start in different windows can change (samtools halves and rounds
# down each window's pair counts)
PAIR_FIGURES = {
    "insert size average", "insert size standard deviation", "inward oriented pairs",
    "outward oriented pairs", "pairs with other orientation", "pairs on different chromosomes",
}  # fmt: skip
EXACT = ("CHK", "FFQ", "LFQ", "MPC", "GCF", "GCL", "FTC", "LTC", "RL", "FRL", "LRL", "MAPQ", "ID", "IC")


def _sections(text: str) -> dict[str, list[list[str]]]:
    out: dict[str, list[list[str]]] = defaultdict(list)
    for line in text.splitlines():
        if line and not line.startswith("#"):
            tag, *cols = line.split("\t")
            out[tag].append(cols)
    return out


def crossing_pairs(bam: Path, planned: list[windows.Window]) -> int:
    """Pairs (both mates mapped, counted once) whose mates start in different windows."""
    starts = [(w.intervals[0][0], w.intervals[0][1], w.index) for w in planned]
    with pysam.AlignmentFile(str(bam)) as fh:
        order = {name: i for i, name in enumerate(fh.references)}
        keys = [(order[c], s) for c, s, _ in starts]

        def window(tid: int, pos: int) -> int:
            return starts[max(0, bisect.bisect_left(keys, (tid, pos)) - 1)][2]

        return sum(
            1
            for r in fh.fetch(until_eof=True)
            if r.is_paired and not (r.is_unmapped or r.mate_is_unmapped or r.flag & 0x900) and r.is_read1
            and window(r.reference_id, r.reference_start) != window(r.next_reference_id, r.next_reference_start)
        )  # fmt: skip


def assert_merged_like_whole(whole_text: str, merged_text: str, crossing: int, boundaries: int) -> None:
    whole, merged = _sections(whole_text), _sections(merged_text)
    for tag in EXACT:
        assert merged[tag] == whole[tag], tag
    sn_whole = {r[0].rstrip(":"): r[1] for r in whole["SN"]}
    sn_merged = {r[0].rstrip(":"): r[1] for r in merged["SN"]}
    assert sn_merged.keys() == sn_whole.keys()
    for name in sn_whole.keys() - PAIR_FIGURES:
        assert sn_merged[name] == sn_whole[name], name
    pairs = ("inward oriented pairs", "outward oriented pairs", "pairs with other orientation")
    lost = sum(int(sn_whole[n]) for n in pairs) - sum(int(sn_merged[n]) for n in pairs)
    assert 0 <= lost <= crossing
    if crossing < 0.01 * int(sn_whole["inward oriented pairs"]):
        assert abs(float(sn_merged["insert size average"]) - float(sn_whole["insert size average"])) <= 1.0
    for tag in ("GCC", "GCT", "FBC", "LBC"):  # percentages re-weighted: within the printed rounding
        assert [r[0] for r in merged[tag]] == [r[0] for r in whole[tag]], tag
        for a, b in zip(merged[tag], whole[tag], strict=True):
            assert all(abs(float(x) - float(y)) <= 0.02 for x, y in zip(a[1:], b[1:], strict=True)), (
                tag,
                a,
                b,
            )
    # depth: every aligned base is counted once; only positions by a window's edge are split
    depth = {k: sum(int(r[1]) * int(r[2]) for r in s["COV"]) for k, s in (("w", whole), ("m", merged))}
    assert depth["w"] == depth["m"]
    positions = {k: sum(int(r[2]) for r in s["COV"]) for k, s in (("w", whole), ("m", merged))}
    assert 0 <= positions["m"] - positions["w"] <= boundaries * 1000
    cums = [float(r[1]) for r in merged["GCD"]]
    assert cums == sorted(cums) and (not cums or cums[-1] == 100.0)
