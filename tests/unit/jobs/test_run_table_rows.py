"""The run table's rows, pure: the newest attempt holding a sample gives its state, figures wait
for its report, and the TSV keeps one line per sample whatever a reason holds."""

from __future__ import annotations

from gems.jobs.run_table import latest_attempts as latest
from gems.jobs.run_table import row, table, to_tsv

DETAIL = {
    "session_key": "k1",
    "overall_status": "RUNNING",
    "hla_class": 1,
    "bucket": "lab",
    "prefix": "run1/",
    "workers": [
        {
            "instance_index": 0,
            "attempt": 1,
            "samples": ["S1", "S2"],
            "sample_status": {"S1": {"status": "COMPLETE"}, "S2": {"status": "INTERRUPTED"}},
        },
        {"instance_index": 1, "attempt": 1, "samples": ["S3"], "sample_status": {}},
        {
            "instance_index": 2,
            "attempt": 2,
            "replaces": 0,
            "samples": ["S2"],
            "sample_status": {"S2": {"status": "RUNNING"}},
        },
    ],
}


def test_the_newest_attempt_holding_a_sample_gives_its_state_in_plan_order():
    got = latest(DETAIL)
    assert list(got) == ["S1", "S2", "S3"]
    assert got["S2"][0]["attempt"] == 2 and got["S2"][1]["status"] == "RUNNING"
    assert got["S3"][1]["status"] == "QUEUED"  # its worker has not reported yet


def test_a_row_without_a_report_has_no_figures():
    w, st = latest(DETAIL)["S3"]
    r = row("S3", w, st, None, None)
    assert r["read_pairs"] is None and r["snvs"] is None and r["hla"] == {} and r["report_url"] is None


def test_the_tsv_keeps_one_line_per_sample_and_no_formula():
    w, _ = latest(DETAIL)["S1"]
    report = {
        "summary": {"read_pairs": 10, "variant_counts": {"snv": 2, "insertion": 1}},
        "hla": {
            "calls": [
                {"gene": "A", "allele1": "A*01:01", "allele2": "A*02:01", "confidence": 0.9, "flag": "ok"}
            ]
        },
    }
    rows = [
        row("S1", w, {"status": "COMPLETE"}, report, "https://x/report.html"),
        row("S2", w, {"status": "FAILED", "reason": '=HYPERLINK("http://evil")\nsecond line'}, None, None),
    ]
    text = to_tsv(table(DETAIL, rows))
    lines = text.splitlines()
    assert len(lines) == 3
    header = lines[0].split("\t")
    assert header[-5:] == ["A allele1", "A allele2", "A confidence", "A flag", "report_url"]
    report["hla"]["calls"][0] |= {"g_group1": "A*01:01:01G", "g_group2": "A*02:01:01G"}
    grouped = to_tsv(table(DETAIL, [row("S1", w, {"status": "COMPLETE"}, report, None)])).splitlines()
    g_cols = ["A allele1", "A allele2", "A g_group1", "A g_group2", "A confidence", "A flag"]
    assert grouped[0].split("\t")[-7:-1] == g_cols and "A*01:01:01G" in grouped[1]
    s1, s2 = (dict(zip(header, line.split("\t"), strict=True)) for line in lines[1:])
    assert (s1["snvs"], s1["indels"], s1["A flag"]) == ("2", "1", "ok")
    assert s2["reason"].startswith("'=HYPERLINK") and "second line" in s2["reason"]


def test_each_sample_bears_its_share_of_every_attempt_that_held_it():
    from gems.jobs.run_table import sample_costs

    detail = dict(DETAIL, cost={"by_worker": [
        {"instance_index": 0, "usd": 0.30}, {"instance_index": 1, "usd": 0.10}, {"instance_index": 2, "usd": 0.05},
    ]})  # fmt: skip
    assert sample_costs(detail) == {
        "S1": 0.15,
        "S2": 0.2,
        "S3": 0.1,
    }  # S2: half of worker 0, all of its relaunch
