"""vcf_metrics: the variant counts that go into the report."""

from __future__ import annotations

from workers.genomics.vcfstats import vcf_metrics

HEADER = """##fileformat=VCFv4.2
##contig=<ID=c1,length=100>
##FILTER=<ID=LowQual,Description="low quality">
##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">
#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\tFORMAT\tS
"""
ROWS = [
    ("1", "A", "G", "0/1", "PASS"),  # transition, het
    ("5", "C", "T", "1/1", "PASS"),  # transition, hom
    ("9", "A", "C", "0/1", "PASS"),  # transversion
    ("12", "AT", "A", "0/1", "PASS"),  # deletion
    ("20", "G", "GTT", "1/1", "PASS"),  # insertion
    ("30", "AC", "GT", "0/1", "PASS"),  # MNP
    ("40", "T", "A", "0/1", "LowQual"),  # filtered: not counted
]


def test_counts_by_type_zygosity_and_ts_tv(tmp_path):
    vcf = tmp_path / "v.vcf"
    vcf.write_text(HEADER + "".join(f"c1\t{p}\t.\t{r}\t{a}\t50\t{f}\t.\tGT\t{g}\n" for p, r, a, g, f in ROWS))
    m = vcf_metrics(vcf)
    assert m["by_type"] == {"SNP": 3, "INDEL": 2, "MNP": 1, "OTHER": 0}
    assert m["total"] == 6 and m["filtered"] == 1
    assert (m["insertions"], m["deletions"]) == (1, 1)
    assert (m["het"], m["hom_alt"]) == (4, 2)
    assert m["ts_tv"] == 2.0 and m["het_hom_ratio"] == 2.0
