"""DRB3, DRB4 and DRB5: present or absent, copies, and agreement with DRB1 (workers.hla.drb)."""

from workers.hla import drb
from workers.hla.calls import GeneCall, no_call


def _call(gene, a1, a2, pairs, foreign=False, flag="ok"):
    c = GeneCall(gene, a1, a2, confidence=1.0, flag=flag, pairs=pairs, full1=a1, full2=a2)
    c.support = [{"allele": a1, "foreign": foreign}]
    c.gl_string = f"HLA-{a1}+HLA-{a2}"
    return c


def test_drb1_implies_its_partners():
    assert drb.implied(_call("DRB1", "DRB1*15:01", "DRB1*15:01", 400)) == {"DRB3": 0, "DRB4": 0, "DRB5": 2}
    assert drb.implied(_call("DRB1", "DRB1*04:05", "DRB1*13:02", 400)) == {"DRB3": 1, "DRB4": 1, "DRB5": 0}
    assert drb.implied(_call("DRB1", "DRB1*01:01", "DRB1*08:01", 400)) == {"DRB3": 0, "DRB4": 0, "DRB5": 0}
    assert drb.implied(no_call("DRB1", "no HLA reads")) is None


def test_absence_is_an_answer_with_its_evidence():
    calls = [
        _call("DRB1", "DRB1*15:01", "DRB1*15:01", 440),
        _call("DRB3", "DRB3*02:02", "DRB3*02:02", 20, foreign=True, flag="low_confidence"),
        no_call("DRB4", "insufficient coverage: 3 informative read pairs (need 20)", 3),
        _call("DRB5", "DRB5*01:01", "DRB5*01:01", 365),
    ]
    drb.resolve(calls)
    drb3, drb4, drb5 = calls[1:]
    for absent in (drb3, drb4):
        assert absent.flag == "absent" and absent.copies == 0 and absent.allele1 is None
        assert (
            "as DRB1 DRB1*15:01/DRB1*15:01 implies" in absent.note and "informative read pairs" in absent.note
        )
    assert "another sequence" in drb3.note and "too few" in drb4.note
    assert (drb5.allele1, drb5.allele2, drb5.copies, drb5.flag) == ("DRB5*01:01", "DRB5*01:01", 2, "ok")


def test_one_copy_reports_one_allele_and_a_disagreement_is_flagged():
    calls = [_call("DRB1", "DRB1*01:01", "DRB1*03:01", 400), _call("DRB3", "DRB3*01:01", "DRB3*01:01", 190)]
    drb.resolve(calls)
    assert (calls[1].allele1, calls[1].allele2, calls[1].copies, calls[1].flag) == (
        "DRB3*01:01",
        None,
        1,
        "ok",
    )
    assert calls[1].gl_string == "HLA-DRB3*01:01"
    # DRB1*01:01/08:01 carries no partner, yet DRB4 reads of its own are there: flagged, both said.
    calls = [_call("DRB1", "DRB1*01:01", "DRB1*08:01", 400), _call("DRB4", "DRB4*01:03", "DRB4*01:03", 200)]
    drb.resolve(calls)
    assert calls[1].flag == "low_confidence" and "implies 0 copies of DRB4; the reads show 1" in calls[1].note


def test_a_partner_drb1_implies_is_never_called_absent_on_thin_reads():
    # RNA: DRB3 is expressed well below DRB1; thin reads are no proof of absence.
    calls = [_call("DRB1", "DRB1*03:02", "DRB1*10:01", 3300), _call("DRB3", "DRB3*01:01", "DRB3*01:01", 59)]
    drb.resolve(calls)
    assert calls[1].flag == "low_confidence" and calls[1].allele1 == "DRB3*01:01"
    assert "implies DRB3 on 1 haplotype(s)" in calls[1].note
    calls = [_call("DRB1", "DRB1*03:02", "DRB1*10:01", 3300), no_call("DRB3", "insufficient coverage", 4)]
    drb.resolve(calls)
    assert calls[1].flag == "insufficient" and "implies DRB3" in calls[1].note
