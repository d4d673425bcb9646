"""No wrong allele is flagged `ok`: the typer on thinned real slices and on random simulated
genotypes at 10x and 4x per gene (benchmarks.hla_flags runs the full version of this)."""

from __future__ import annotations

import pytest

from benchmarks.hla import simulate_random
from benchmarks.hla_flags import thin
from workers.hla import evaluate, names, typer
from workers.hla.flags import Flag

# the slice's truth (tests/data/hla/README.md): sim_na12878's DQA1 and DPB1
SLICE_TRUTH = {
    "DQA1": {"alleles": ("DQA1*01:01", "DQA1*05:01"), "note": ""},
    "DPB1": {"alleles": ("DPB1*04:01", "DPB1*04:01"), "note": ""},
}


def _wrong_but_ok(result, truth) -> list[str]:
    return [
        f"{c.gene}: {c.allele1}/{c.allele2} (truth {truth[c.gene]['alleles']})"
        for c in result.calls
        if c.gene in truth
        and c.flag == Flag.OK
        and evaluate.match_count(truth[c.gene]["alleles"], (c.allele1, c.allele2)) < 2
    ]


def test_full_depth_right_calls_are_ok(hla_data):
    result = typer.type_sample(
        hla_data / "sim_na12878_dqa1_dpb1_R1.fastq.gz",
        hla_data / "sim_na12878_dqa1_dpb1_R2.fastq.gz",
        ["DQA1", "DPB1"],
    )
    assert {c.gene: c.flag for c in result.calls} == {"DQA1": Flag.OK, "DPB1": Flag.OK}
    assert all(c.confidence >= 0.99 for c in result.calls)


@pytest.mark.parametrize("fraction", [0.5, 0.25, 0.1, 0.05])
@pytest.mark.parametrize("seed", [0, 1])
def test_thinned_slice_has_no_wrong_allele_flagged_ok(tmp_path, hla_data, fraction, seed):
    r1, r2 = thin(
        hla_data / "sim_na12878_dqa1_dpb1_R1.fastq.gz",
        hla_data / "sim_na12878_dqa1_dpb1_R2.fastq.gz",
        fraction,
        seed,
        tmp_path / "thin",
    )
    result = typer.type_sample(r1, r2, ["DQA1", "DPB1"])
    assert _wrong_but_ok(result, SLICE_TRUTH) == []
    for call in result.calls:
        assert call.flag in set(Flag)
        assert (call.flag == Flag.INSUFFICIENT) == (not call.called)
        assert (call.flag == Flag.AMBIGUOUS) == bool(call.ambiguous)


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["dna", "rna"])
def test_random_genotypes_thinned_have_no_wrong_allele_flagged_ok(tmp_path, mode):
    ((name, r1, r2, truth),) = simulate_random(mode, 7, 1, tmp_path)
    depth = 40 if mode == "dna" else 80  # the simulator's depth per gene
    for target in (10, 4):
        t1, t2 = thin(r1, r2, target / depth, target, tmp_path / f"{name}_{target}x")
        result = typer.type_sample(t1, t2, names.CLASSICAL, threads=2)
        assert _wrong_but_ok(result, truth) == [], f"{name} at {target}x"
