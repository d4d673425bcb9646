"""The peer benchmark's own logic (benchmarks.hla_peer): T1K's genotype file, G-group matching,
and a clear skip where no peer is built."""

from benchmarks import hla_peer
from workers.hla import groups
from workers.hla.reference import DEFAULT_REFERENCE

KEY = hla_peer.GKeys(groups.Groups.load(DEFAULT_REFERENCE))


def test_t1k_genotypes_are_read_with_ties_and_homozygotes(tmp_path):
    (tmp_path / "t1k_genotype.tsv").write_text(
        "A\t2\tA*24:02:01\t61.8\t43\tA*02:01:01\t31.3\t19\n"
        "C\t2\tC*16:01:09\t20\t10\tC*16:07:01,C*16:07:02\t12\t8\n"
        "DRB1\t1\tDRB1*15:01:01\t97\t60\t.\t0\t-1\n"
        "DRB3\t0\t.\t0\t-1\t.\t0\t-1\n"
    )
    calls = hla_peer.t1k_calls(tmp_path)
    assert calls["A"] == ("A*24:02:01", "A*02:01:01") and calls["C"] == ("C*16:01:09", "C*16:07:01")
    assert calls["DRB1"] == ("DRB1*15:01:01", "DRB1*15:01:01") and calls["DRB3"] is None


def test_alleles_are_compared_at_g_group_level_whatever_their_fields():
    truth = ("DQB1*06:09:01:01", "DQB1*06:03:01:01")
    assert hla_peer.g_matched(truth, ("DQB1*06:09:01G", "DQB1*06:03:01G"), KEY) == 2
    assert hla_peer.g_matched(truth, ("DQB1*06:09:01", "DQB1*06:44"), KEY) == 2  # 06:44 is in 06:03:01G
    assert hla_peer.g_matched(truth, ("DQB1*06:09:01", "DQB1*06:02:01"), KEY) == 1
    assert hla_peer.g_matched(truth, None, KEY) == 0


def test_without_a_built_peer_the_benchmark_says_so_and_exits_0(monkeypatch, capsys):
    monkeypatch.delenv("GEMS_T1K", raising=False)
    assert hla_peer.main([]) == 0
    assert "skipped" in capsys.readouterr().out


def test_a_name_from_a_later_release_is_cut_until_the_release_knows_it():
    assert KEY("C*07:18:01:01") == "C*07:01:01G"  # 3.32.0 has C*07:18:01, in 07:01:01G
    assert KEY("DPA1*01:03:10") == "DPA1*01:03:01G"
