"""Regions of the reference that variant calling is scattered over (pure).

bcftools mpileup with a region pulls in every read overlapping it and reports only the sites
inside it, but a site near the region's start is not always reported as one pass reports it: an
indel 83 bases into a region came out with another base-quality bias score (BQBZ) on real
reads, as the pileup started mid-read. So each region is called from `CALL_PAD` bases before its
start (every read over its first site then enters the pileup where one pass's does) and only
its own sites are kept (`calling`); with targets, it is called over the whole targets it cuts,
as one pass calls them. Calls over consecutive regions, concatenated in order, are then the
calls of one pass (tests/integration/calling/test_calling_shards.py holds us to that). Regions
are cut to equal numbers of bases, in the reference's order; one region may span the end of a
contig and the start of the next.
"""

from __future__ import annotations

import math

Interval = tuple[str, int, int]  # contig, 0-based start, end (BED)
CALL_PAD = 5_000  # far more than a read, its clips and its deletions span


def whole(contigs: dict[str, int]) -> list[Interval]:
    return [(name, 0, length) for name, length in contigs.items() if length > 0]


def merged(intervals: list[Interval], contigs: dict[str, int]) -> list[Interval]:
    """`intervals` in the reference's order with overlapping and touching ones joined: a
    targets BED may list them in any order, and scattered regions must not overlap."""
    order = {name: i for i, name in enumerate(contigs)}
    out: list[Interval] = []
    for contig, start, end in sorted(intervals, key=lambda iv: (order[iv[0]], iv[1], iv[2])):
        if out and out[-1][0] == contig and start <= out[-1][2]:
            out[-1] = (contig, out[-1][1], max(out[-1][2], end))
        else:
            out.append((contig, start, end))
    return out


def scatter(intervals: list[Interval], n: int) -> list[list[Interval]]:
    """Cut `intervals` (in order) into at most `n` consecutive groups of about equal bases;
    never an empty group."""
    if n < 1:
        raise ValueError("the number of regions must be positive")
    total = sum(end - start for _, start, end in intervals)
    if total == 0:
        return []
    share = math.ceil(total / n)
    groups: list[list[Interval]] = [[]]
    room = share
    for contig, start, end in intervals:
        while start < end:
            if room == 0:
                groups.append([])
                room = share
            take = min(room, end - start)
            groups[-1].append((contig, start, start + take))
            start += take
            room -= take
    return groups


def to_bed(group: list[Interval]) -> str:
    return "".join(f"{c}\t{s}\t{e}\n" for c, s, e in group)


def calling(group: list[Interval], wanted: list[Interval] | None) -> list[Interval]:
    """Where mpileup reads to call the sites of `group` as one pass does: each piece from
    CALL_PAD bases before its start (no targets), or the whole targets (`wanted`, merged: see
    `merged`) that the pieces touch. The sites to keep are `group`'s."""
    if wanted is None:
        out: list[Interval] = []
        for c, s, e in group:
            start = max(0, s - CALL_PAD)
            if out and out[-1][0] == c and start <= out[-1][2]:
                out[-1] = (c, out[-1][1], max(out[-1][2], e))
            else:
                out.append((c, start, e))
        return out
    return [t for t in wanted if any(t[0] == c and t[1] < e and t[2] > s for c, s, e in group)]
