"""Annotation speed: gems annotate vs bcftools csq (bundled with pysam) on the same VCF.

Every 4th base of the shared chr22 window (Ensembl GFF3, 12 transcripts) gets a substitution and
every 40th an indel, ~11,000 records; both tools annotate the same file three times and the best
time counts. Run: .venv/bin/python -m benchmarks.annotation [--step N]
"""

from __future__ import annotations

import argparse
import random
import shutil
import tempfile
import time
from pathlib import Path

import pysam
import pysam.bcftools

from gems.config import shared_dir
from workers.genomics.gff import read_gff3
from workers.pipeline.annotate import annotate_vcf

CONTIG = "chr22_16570000_16610000"


def _vcf(ref: pysam.FastaFile, path: Path, step: int) -> int:
    rng = random.Random(1)
    seq = ref.fetch(CONTIG)
    n = 0
    with open(path, "w") as fh:
        fh.write(f"##fileformat=VCFv4.2\n##contig=<ID={CONTIG},length={len(seq)}>\n")
        fh.write("#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n")
        for pos in range(2, len(seq) - 10, step):
            base = seq[pos - 1]
            if base not in "ACGT":
                continue
            alt = rng.choice([b for b in "ACGT" if b != base])
            fh.write(f"{CONTIG}\t{pos}\t.\t{base}\t{alt}\t50\tPASS\t.\n")
            n += 1
            if pos % (10 * step) == 2:
                fh.write(f"{CONTIG}\t{pos}\t.\t{seq[pos - 1 : pos + 2]}\t{base}\t50\tPASS\t.\n")
                n += 1
    pysam.tabix_compress(str(path), str(path) + ".gz", force=True)
    pysam.tabix_index(str(path) + ".gz", preset="vcf", force=True)
    return n


def _best(fn, repeats: int = 3) -> float:
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--step", type=int, default=4, help="a substitution every STEP bases (default 4)")
    args = ap.parse_args(argv)
    data = shared_dir() / "data" / "variants"
    fasta, gff = data / "ref" / f"{CONTIG}.fa", data / "annot" / f"{CONTIG}.ensembl.gff3"
    with tempfile.TemporaryDirectory() as tmp_s, pysam.FastaFile(str(fasta)) as ref:
        tmp = Path(tmp_s)
        records = _vcf(ref, tmp / "in.vcf", args.step)
        src = tmp / "in.vcf.gz"

        def ours():
            work = tmp / "ours.vcf.gz"
            shutil.copy(src, work)
            shutil.copy(str(src) + ".tbi", str(work) + ".tbi")
            annotate_vcf(work, read_gff3(gff), ref, tmp / "ours.tsv")

        def bcftools():
            pysam.bcftools.csq(
                "-f",
                str(fasta),
                "-g",
                str(gff),
                "-l",
                "--force",
                "-Oz",
                "-o",
                str(tmp / "b.vcf.gz"),
                str(src),
            )

        t_ours, t_bcf = _best(ours), _best(bcftools)
    print(f"annotation of {records:,} records against {gff.name}")
    print(f"{'tool':<34}{'seconds':>10}{'records/s':>12}{'ratio':>8}")
    print(f"{'bcftools csq (pysam, baseline)':<34}{t_bcf:>10.3f}{records / t_bcf:>12,.0f}{1.0:>8.2f}")
    print(f"{'gems annotate (VCF + TSV)':<34}{t_ours:>10.3f}{records / t_ours:>12,.0f}{t_ours / t_bcf:>8.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
