"""Cross-check against an independent implementation: bcftools csq (bundled with pysam).

A random genome gets one plus- and one minus-strand coding transcript with five exons, UTRs and
phased CDS pieces; every CDS base gets a random substitution and every few bases an indel. For
substitutions, term and residue change must agree with bcftools exactly; indels inside the CDS must
agree on frameshift versus in-frame. (Known, deliberate differences: we also report UTR and splice
region terms next to coding ones, and we name in-frame indels near a stop by comparing proteins.)
"""

from __future__ import annotations

import random
import re
from pathlib import Path

import pysam
import pysam.bcftools
import pytest

from workers.genomics.consequence import Annotator
from workers.genomics.gff import read_gff3
from workers.genomics.protein import CODON_TABLE, revcomp

_SENSE = [c for c, a in CODON_TABLE.items() if a != "*"]
_BCSQ = {"missense": "missense_variant", "synonymous": "synonymous_variant", "stop_gained": "stop_gained",
         "stop_lost": "stop_lost", "start_lost": "start_lost", "stop_retained": "stop_retained_variant"}  # fmt: skip


def _synthetic(tmp: Path, seed: int) -> tuple[Path, Path, list[tuple[int, str, str]]]:
    rng = random.Random(seed)
    rnd = lambda n: "".join(rng.choice("ACGT") for _ in range(n))  # noqa: E731
    genome, gff, cds_positions = rnd(2000), [], []
    for gi, strand in enumerate("+-"):
        cds = "ATG" + "".join(rng.choice(_SENSE) for _ in range(rng.randint(60, 100))) + "TAA"
        tx = rnd(40) + cds + rnd(60)
        cuts = sorted(rng.sample(range(10, len(tx) - 10), 4))
        pieces = [tx[a:b] for a, b in zip([0, *cuts], [*cuts, len(tx)], strict=True)]
        introns = ["GT" + rnd(rng.randint(60, 120)) + "AG" for _ in pieces[:-1]]
        locus, spans = "", []
        for k, piece in enumerate(pieces):
            spans.append((len(locus), len(locus) + len(piece)))
            locus += piece + (introns[k] if k < len(introns) else "")
        start, n = len(genome) + 1, len(locus)
        genome += (locus if strand == "+" else revcomp(locus)) + rnd(2000)

        def g(a, b, start=start, n=n, strand=strand):  # locus [a, b) -> genomic 1-based inclusive
            return (start + a, start + b - 1) if strand == "+" else (start + n - b, start + n - a - 1)

        t_lo, t_hi = g(0, n)
        gff.append(
            f"s\tx\tgene\t{t_lo}\t{t_hi}\t.\t{strand}\t.\tID=gene:G{gi};Name=G{gi};biotype=protein_coding"
        )
        gff.append(
            f"s\tx\tmRNA\t{t_lo}\t{t_hi}\t.\t{strand}\t.\tID=transcript:T{gi};Parent=gene:G{gi};biotype=protein_coding"
        )
        c_lo, c_hi, tx_at, done = 40, 40 + len(cds), 0, 0
        for (a, b), piece in zip(spans, pieces, strict=True):
            gff.append(f"s\tx\texon\t{g(a, b)[0]}\t{g(a, b)[1]}\t.\t{strand}\t.\tParent=transcript:T{gi}")
            lo, hi = max(tx_at, c_lo), min(tx_at + len(piece), c_hi)
            if lo < hi:
                ca, cb = g(a + lo - tx_at, a + hi - tx_at)
                gff.append(
                    f"s\tx\tCDS\t{ca}\t{cb}\t.\t{strand}\t{(3 - done % 3) % 3}\tParent=transcript:T{gi}"
                )
                cds_positions += range(ca, cb + 1)
                done += hi - lo
            tx_at += len(piece)
    fasta, ann = tmp / f"g{seed}.fa", tmp / f"g{seed}.gff3"
    fasta.write_text(">s\n" + "\n".join(genome[i : i + 60] for i in range(0, len(genome), 60)) + "\n")
    pysam.faidx(str(fasta))
    ann.write_text("\n".join(gff) + "\n")
    variants = []
    for p in cds_positions:
        ref = genome[p - 1]
        variants.append((p, ref, rng.choice([b for b in "ACGT" if b != ref])))
        if rng.random() < 0.25:
            k = rng.choice([1, 2, 3, 4, 6])
            variants.append((p, genome[p - 1 : p + k], ref) if rng.random() < 0.5 else (p, ref, ref + rnd(k)))
    return fasta, ann, variants


def _bcftools(tmp: Path, fasta: Path, ann: Path, variants) -> dict:
    vcf = tmp / "v.vcf"
    with open(vcf, "w") as fh:
        fh.write("##fileformat=VCFv4.2\n##contig=<ID=s>\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n")
        fh.writelines(f"s\t{p}\t.\t{r}\t{a}\t.\t.\t.\n" for p, r, a in variants)
    out = pysam.bcftools.csq("-f", str(fasta), "-g", str(ann), "-l", "--force", str(vcf), catch_stdout=True)
    result = {}
    for line in out.splitlines():
        if line.startswith("#"):
            continue
        f = line.split("\t")
        m = re.search(r"BCSQ=([^;\t]+)", f[7])
        result[(int(f[1]), f[3], f[4])] = [c.split("|") for c in m.group(1).split(",")] if m else []
    return result


@pytest.mark.parametrize("seed", [7, 11, 23])
def test_agrees_with_bcftools_csq(tmp_path, seed):
    fasta, ann, variants = _synthetic(tmp_path, seed)
    theirs = _bcftools(tmp_path, fasta, ann, variants)
    with pysam.FastaFile(str(fasta)) as fa:
        annotator = Annotator(read_gff3(ann), lambda c, s, e: fa.fetch(c, s, e))
        checked = 0
        for p, r, a in variants:
            effects = {e.transcript.id: e for e in annotator.annotate("s", p, r, a) if e.distance is None}
            for csq in theirs[(p, r, a)]:
                if len(csq) < 6 or csq[2] not in effects:
                    continue
                mine, terms = effects[csq[2]], set(csq[0].lstrip("@*").split("&"))
                if len(r) == len(a) == 1 and len(terms) == 1 and next(iter(terms)) in _BCSQ:
                    assert _BCSQ[next(iter(terms))] in mine.terms, (p, r, a, csq, mine)
                    if "missense" in terms or "stop_gained" in terms:  # "320W>320R" vs "p.W320R"
                        before, after = csq[5].split(">")
                        assert mine.protein == f"p.{before[-1]}{before[:-1]}{after[-1]}", (p, r, a, csq, mine)
                    if "synonymous" in terms:
                        assert mine.protein == f"p.{csq[5][-1]}{csq[5][:-1]}=", (p, r, a, csq, mine)
                    checked += 1
                elif len(r) != len(a) and terms in (
                    {"frameshift"},
                    {"inframe_deletion"},
                    {"inframe_insertion"},
                ):
                    assert ("frameshift_variant" in mine.terms) == (terms == {"frameshift"}), (
                        p,
                        r,
                        a,
                        csq,
                        mine,
                    )
                    checked += 1
    assert checked > 300
