"""Adding up `samtools stats` files (workers.genomics.samstats) without running samtools."""

from __future__ import annotations

import pytest

from workers.genomics import samstats

HEAD = "# This file was produced by samtools stats\n# The command line was:  stats w.bam\n"


def _part(chk: str, sequences: int, gcf: list[str], extra: str = "") -> str:
    return (
        HEAD
        + f"CHK\t{chk}\t00000001\t00000002\n"
        + "# Summary Numbers. Use `grep ^SN | cut -f 2-` to extract this part.\n"
        + f"SN\tsequences:\t{sequences}\nSN\ttotal length:\t{150 * sequences}\n"
        + "# GC Content of first fragments. Use `grep ^GCF | cut -f 2-` to extract this part.\n"
        + "".join(f"GCF\t{row}\n" for row in gcf)
        + extra
    )


def test_checksums_add_with_32_bit_overflow_and_counts_add():
    merged = samstats.merge([_part("ffffffff", 2, []), _part("00000003", 5, [])], "stats whole.bam (merged)")
    assert "CHK\t00000002\t00000002\t00000004\n" in merged
    assert "SN\tsequences:\t7\nSN\ttotal length:\t1050\n" in merged
    assert "# The command line was:  stats whole.bam (merged)\n" in merged


def test_gc_runs_are_decoded_added_and_coded_again():
    # one window: bins 0-9 hold 4 reads each, then 10-19 hold 1 (the last run is never printed)
    a = [f"{(0 + 10) * 50 / 199:.2f}\t4"]
    # another: bins 0-4 hold 0, 5-9 hold 2
    b = [f"{(0 + 5) * 50 / 199:.2f}\t0", f"{(5 + 10) * 50 / 199:.2f}\t2"]
    merged = samstats.merge([_part("0", 1, a), _part("0", 1, b)], "m")
    rows = [line.split("\t")[1:] for line in merged.splitlines() if line.startswith("GCF")]
    assert rows == [[f"{5 * 50 / 199:.2f}", "4"], [f"{15 * 50 / 199:.2f}", "6"]]


def test_a_section_the_merge_does_not_know_is_refused_not_dropped():
    with pytest.raises(samstats.Unmergeable, match="BCC"):
        samstats.merge([_part("0", 1, [], extra="BCC\t1\t25.00\n")], "m")


def test_a_summary_line_it_cannot_add_is_refused():
    text = _part("0", 1, []).replace("SN\tsequences", "SN\tsomething new:\t3\nSN\tsequences")
    with pytest.raises(samstats.Unmergeable, match="something new"):
        samstats.merge([text], "m")
