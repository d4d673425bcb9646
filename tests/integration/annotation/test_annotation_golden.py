"""Golden file: the NA12878 GIAB truth calls (chr22 window) annotated with the shared Ensembl GFF3.

How the golden rows were checked by hand (reference = tests/data/annotation/*.fa, local coords):
- 21594 A>G, CCT8L2 (minus strand, single exon, CDS 20878-22551): c.1 is 22551, so 22551-21594+1 = c.958,
  the first base of codon 320; the reference at 21592-21594 is CCA, i.e. TGG (Trp) on the minus strand,
  and A>G makes it CGG (Arg): missense p.W320R, codons Tgg/Cgg. bcftools csq (pysam) says 320W>320R.
- 22177 A>G, CCT8L2: c.375, third base of codon 125; reference 22177-22179 is AGC -> GCT (Ala) on the
  minus strand, T>C gives GCC (Ala): synonymous p.A125=. bcftools csq says 125A (synonymous).
- 3214 G>A: exon 3 of ENST00000454360 (plus strand) ends at 3213, so this is intron base +1, the donor
  GT: splice_donor_variant; exons 1-3 are 124+46+169 = 339 bases: n.339+1G>A.
- 1234 G>A: 794 bases before AP000547.1 (starts at 2028, plus strand): upstream_gene_variant.
- 25384 G>A in the single exon of FABP5P11 (25090-25486, minus strand): n.(25486-25384+1) = n.103C>T.
- 32263 G>A: TPTEP1-205 spans 31888-128743 but only its first exon (31888-32216, 329 bases) lies in the
  window, so the variant is intronic: n.329+47G>A.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pysam

from workers.genomics.gff import read_gff3
from workers.pipeline.annotate import TSV_COLUMNS, annotate_vcf

DATA = Path(__file__).resolve().parents[2] / "data" / "annotation"
VCF = DATA / "NA12878_GIAB_truth.local.vcf.gz"
GOLDEN = DATA / "NA12878_truth.variants.golden.tsv"
CONTIG = "chr22_16570000_16610000"


def _annotate(tmp_path: Path) -> tuple[Path, Path, dict]:
    vcf = tmp_path / "variants.vcf.gz"
    shutil.copy(VCF, vcf)
    shutil.copy(str(VCF) + ".tbi", str(vcf) + ".tbi")
    tsv = tmp_path / "variants.tsv"
    with pysam.FastaFile(str(DATA / f"{CONTIG}.fa")) as fa:
        metrics = annotate_vcf(vcf, read_gff3(DATA / f"{CONTIG}.ensembl.gff3"), fa, tsv)
    return vcf, tsv, metrics


def test_golden_tsv(tmp_path):
    _, tsv, metrics = _annotate(tmp_path)
    if os.environ.get("GEMS_UPDATE_GOLDEN") == "1":
        shutil.copy(tsv, GOLDEN)
    assert tsv.read_text() == GOLDEN.read_text()
    assert metrics["records"] == 81 and metrics["alleles"] == 83  # two multi-allelic records; '*' skipped
    assert metrics["ref_mismatches"] == 0  # the truth REF bases agree with the reference window


def test_hand_checked_rows(tmp_path):
    _, tsv, _ = _annotate(tmp_path)
    lines = tsv.read_text().splitlines()
    assert lines[0].split("\t") == TSV_COLUMNS
    rows = {
        (r["pos"], r["alt"]): r
        for r in (dict(zip(TSV_COLUMNS, ln.split("\t"), strict=True)) for ln in lines[1:])
    }
    r = rows[("21594", "G")]
    assert (r["gene"], r["transcript"], r["consequence"]) == ("CCT8L2", "ENST00000359963", "missense_variant")
    assert (r["protein_change"], r["cdna_change"], r["codon_change"]) == ("p.W320R", "c.958T>C", "Tgg/Cgg")
    assert (r["genotype"], r["GQ"], r["DP"]) == ("1/1", "303", "653")
    r = rows[("22177", "G")]
    assert (r["consequence"], r["protein_change"], r["codon_change"]) == (
        "synonymous_variant",
        "p.A125=",
        "gcT/gcC",
    )
    r = rows[("3214", "A")]
    assert (r["consequence"], r["cdna_change"]) == ("splice_donor_variant", "n.339+1G>A")
    assert rows[("1234", "A")]["consequence"] == "upstream_gene_variant"
    assert rows[("25384", "A")]["cdna_change"] == "n.103C>T"
    assert rows[("32263", "A")]["cdna_change"] == "n.329+47G>A"


def test_vcf_rewritten_in_place_with_a_valid_index(tmp_path):
    vcf, _, _ = _annotate(tmp_path)
    with pysam.VariantFile(str(vcf)) as vf:
        assert "CSQ" in vf.header.info
        (rec,) = list(vf.fetch(CONTIG, 21593, 21594))  # needs the rebuilt .tbi
        csq = [c.split("|") for c in rec.info["CSQ"]]
        mine = next(c for c in csq if c[4] == "ENST00000359963")
        assert mine[:2] == ["G", "missense_variant"] and mine[9] == "p.W320R"
        synonymous = next(vf.fetch(CONTIG, 22176, 22177))
        assert any("p.A125%3D" in c for c in synonymous.info["CSQ"])  # '=' is escaped inside INFO
    with pysam.VariantFile(str(vcf)) as vf:
        assert sum(1 for _ in vf) == 81
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporary files left
