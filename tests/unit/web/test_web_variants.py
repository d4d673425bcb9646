"""variants.tsv rows -> POST /predict mutations, and the jobs-list filters (pure functions)."""

from __future__ import annotations

from datetime import UTC, datetime

from app.web import joblist
from app.web.variants import mutations_from_rows, read_tsv, variant_class

KNOWN = {"TP53": "TP53", "KRAS": "KRAS", "APC": "APC", "BRCA2": "BRCA2"}
TSV = (
    "chrom\tpos\tref\talt\ttype\tfilter\tqual\tgenotype\tGQ\tDP\tgene\tgene_id\ttranscript\tbiotype\t"
    "consequence\tprotein_change\tcdna_change\tcodon_change\ttranscripts_affected\n"
)


def row(gene, consequence, ref="C", alt="T", protein="", filt="PASS"):
    return {
        "gene": gene,
        "consequence": consequence,
        "ref": ref,
        "alt": alt,
        "protein_change": protein,
        "filter": filt,
    }


def test_most_severe_term_decides_the_class():
    assert variant_class("stop_gained&splice_region_variant", "C", "T") == "Nonsense_Mutation"
    assert variant_class("missense_variant", "C", "T") == "Missense_Mutation"
    assert variant_class("splice_donor_variant&intron_variant", "G", "A") == "Splice_Site"
    assert variant_class("frameshift_variant", "CA", "C") == "Frame_Shift_Del"
    assert variant_class("frameshift_variant", "C", "CA") == "Frame_Shift_Ins"
    assert variant_class("inframe_deletion", "CAAA", "C") == "In_Frame_Del"
    assert variant_class("inframe_insertion", "C", "CAAA") == "In_Frame_Ins"
    assert variant_class("start_lost", "A", "G") == "Translation_Start_Site"
    assert variant_class("stop_lost", "A", "G") == "Nonstop_Mutation"
    assert variant_class("synonymous_variant", "A", "G") == "Silent"
    for not_counted in (
        "intron_variant",
        "3_prime_UTR_variant",
        "splice_region_variant",
        "intergenic_variant",
        "",
    ):
        assert variant_class(not_counted, "A", "G") is None


def test_rows_map_to_predict_mutations():
    rows = [
        row("TP53", "missense_variant", protein="p.R175H"),
        row("KRAS", "missense_variant", protein="p.G12D", filt="LowQual"),  # filtered: not counted
        row("APC", "frameshift_variant", ref="CA", alt="C", protein="p.L45fs"),
        row("BRCA2", "synonymous_variant", protein="p.="),  # silent: counted, not listed
        row("TP53", "start_lost", protein="p.M1?"),  # not a protein change /predict accepts
        row("NOTAGENE", "stop_gained"),  # unknown to the model
        row("", "intergenic_variant"),
        row("KRAS", "intron_variant"),
    ]
    mapped = mutations_from_rows(rows, KNOWN.get)
    assert mapped.mutations == [
        {"gene": "TP53", "variant_class": "Missense_Mutation", "protein_change": "p.R175H"},
        {"gene": "APC", "variant_class": "Frame_Shift_Del", "protein_change": "p.L45fs"},
        {"gene": "TP53", "variant_class": "Translation_Start_Site"},
    ]
    assert mapped.n_silent == 1
    assert mapped.not_in_model == ["NOTAGENE"]
    assert mapped.not_counted == 3
    assert not mapped.truncated


def test_canonical_symbol_and_limit():
    rows = [row("tp53", "missense_variant")] * 3
    mapped = mutations_from_rows(rows, lambda g: KNOWN.get(g.upper()), limit=2)
    assert [m["gene"] for m in mapped.mutations] == ["TP53", "TP53"]
    assert mapped.truncated


def test_read_tsv_header():
    text = (
        TSV
        + "chr22\t16577000\tC\tT\tsnp\tPASS\t50\t0/1\t40\t30\tTP53\tENSG1\tENST1\tprotein_coding\tmissense_variant\tp.R175H\tc.524G>A\tcGc/cAc\t1\n"
    )
    (only,) = read_tsv(text)
    assert (
        only["gene"] == "TP53"
        and only["consequence"] == "missense_variant"
        and only["protein_change"] == "p.R175H"
    )
    assert mutations_from_rows(read_tsv(text), KNOWN.get).mutations[0]["variant_class"] == "Missense_Mutation"


def test_job_filters_and_figures():
    jobs = [
        {"session_key": "a", "created": "2026-11-20T10:00:00Z"},
        {"session_key": "b", "created": "2026-11-25T09:00:00Z"},
        {"session_key": "c", "created": "2026-11-23T09:00:00Z"},
    ]
    assert [j["session_key"] for j in joblist.filter_jobs(jobs)] == ["b", "c", "a"]
    assert [j["session_key"] for j in joblist.filter_jobs(jobs, since="2026-11-21")] == ["b", "c"]
    assert [j["session_key"] for j in joblist.filter_jobs(jobs, since="2026-11-21", until="2026-11-24")] == [
        "c"
    ]
    assert joblist.parse_day("2026-02-30") is None and joblist.parse_day("2026-02-03") == "2026-02-03"
    now = datetime(2026, 11, 25, 10, 0, 5, tzinfo=UTC)
    assert joblist.duration("2026-11-25T10:00:00Z", None, now) == "5 s"
    assert joblist.duration("2026-11-25T09:58:00Z", "2026-11-25T10:01:07Z") == "3 min 07 s"
    assert joblist.duration("2026-11-25T08:00:00Z", "2026-11-25T09:02:00Z") == "1 h 02 min"
    assert joblist.progress("2/3") == (2, 3) and joblist.progress("") == (0, 0)
    job = {"workers": [{"progress": "1/2"}, {"progress": "2/2"}]}
    assert joblist.job_progress(job) == (3, 4)
    # Worker 0 finished one of three samples and was interrupted; worker 1 took the other two.
    relaunched = {
        "workers": [
            {"instance_index": 0, "progress": "1/3"},
            {"instance_index": 1, "replaces": 0, "progress": "1/2"},
        ]
    }
    assert joblist.job_progress(relaunched) == (2, 3)


def test_a_finished_job_ends_at_its_last_worker_update():
    job = {
        "overall_status": "COMPLETE",
        "workers": [{"updated": "2026-11-25T10:00:09Z"}, {"updated": "2026-11-25T10:03:00Z"}],
    }
    assert joblist.ended(job) == "2026-11-25T10:03:00Z"
    assert joblist.ended(dict(job, finished="2026-11-25T10:04:00Z")) == "2026-11-25T10:04:00Z"
    assert joblist.ended(dict(job, overall_status="RUNNING")) is None
