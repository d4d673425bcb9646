"""Cohort lake: the embedded engine (DuckDB over the lake in moto S3) against pandas over VCFs.

The cohort is made from real pipeline outputs: the NA12878 (chr22, annotated) and HG002 (chr20)
calls of the shared GIAB reads (tests/data/lake). Their 454 call sites become a site catalogue;
each site gets a population allele frequency drawn from a Beta(0.4, 1.2) spectrum (many rare, some
common sites) and every simulated sample draws its genotypes under Hardy-Weinberg, its depth from
a Poisson around the real coverage and its HLA alleles from the real typed samples in
/work/shared/data/hla/truth.tsv. Each sample gets a bgzipped VCF (with the real CSQ
annotations) and goes through the real lake writer (workers.pipeline.lake.sample_tables) into a moto S3
server over HTTP. Both engines then answer:

- AF: the cohort allele frequency of one variant (the catalogue's most common site);
- carriers: the samples with a non_coding_transcript_exon_variant in KCNMB3P1 (six sites).

pandas reads every VCF per question (only the columns it needs), which is what a lab without the
lake would do. The engine is timed cold (downloading every partition from S3), from its local
cache (a new process asking again), and on tables already in memory (the query alone).

Run: .venv/bin/python -m benchmarks.lake [--samples 1000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import csv
import gzip
import json
import logging
import shutil
import socket
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pysam

from gems.aws.clients import local_s3
from gems.config import shared_dir
from lake.engine import Engine
from lake.questions import allele_frequency, carriers, hla_frequencies
from lake.store import S3Store
from lake.writer import write_samples
from workers.pipeline.annotate import TSV_COLUMNS
from workers.pipeline.framework import PipelineOptions, SampleContext
from workers.pipeline.lake import sample_tables

DATA = Path(__file__).resolve().parent.parent / "tests" / "data" / "lake"
GENE, CONSEQUENCE = "KCNMB3P1", "non_coding_transcript_exon_variant"
BATCH = 100  # samples per manifest update while loading (a worker writes 1 to 3)


def _sites() -> tuple[list[str], list[list[str]], dict[tuple, list[str]]]:
    """Header lines, data lines of both real VCFs, and the annotation rows of variants.tsv."""
    header: list[str] = []
    lines: list[list[str]] = []
    for source in ("NA12878", "HG002"):
        with gzip.open(DATA / source / "variants.vcf.gz", "rt") as fh:
            for line in fh:
                if line.startswith("##"):
                    if line not in header and not line.startswith("##bcftools"):
                        header.append(line)
                elif not line.startswith("#"):
                    lines.append(line.rstrip("\n").split("\t"))
    with open(DATA / "NA12878" / "variants.tsv", encoding="utf-8") as fh:
        rows = list(csv.reader(fh, delimiter="\t"))
    notes = {(r[0], int(r[1]), r[2], r[3]): r for r in rows[1:]}
    return header, lines, notes


def _hla_pool() -> dict[str, list[str]]:
    pool: dict[str, list[str]] = {}
    with open(shared_dir() / "data" / "hla" / "truth.tsv", encoding="utf-8") as fh:
        for r in csv.DictReader(fh, delimiter="\t"):
            for k in ("allele1", "allele2"):
                pool.setdefault(r["gene"], []).append(":".join(r[k].split(":")[:2]))
    return pool


def make_cohort(n: int, root: Path, seed: int = 7) -> list[tuple[str, Path, dict]]:
    """n sample folders (variants.vcf.gz, variants.tsv, report.json) and their report dicts."""
    rng = np.random.default_rng(seed)
    header, lines, notes = _sites()
    af = rng.beta(0.4, 1.2, size=len(lines))
    base = json.loads((DATA / "NA12878" / "report.json").read_text())
    hla_pool = _hla_pool()
    tsv_head = "\t".join(TSV_COLUMNS)
    samples = []
    for i in range(n):
        name = f"P{i:05d}"
        out = root / name
        out.mkdir(parents=True)
        copies = rng.binomial(1, af[:, None], size=(len(lines), 2))
        depth = rng.poisson(30, size=len(lines))
        body, tsv = [], []
        for site, (a, b), dp in zip(lines, copies, depth, strict=True):
            if not (a or b):
                continue
            alts = site[4].split(",")
            idx = [int(rng.integers(1, len(alts) + 1)) if c else 0 for c in (a, b)]
            gt = "/".join(map(str, sorted(idx)))
            gq = site[9].split(":")[-1]
            body.append("\t".join(site[:8] + ["GT:DP:GQ", f"{gt}:{dp}:{gq}"]))
            for alt in alts:
                note = notes.get((site[0], int(site[1]), site[3], alt))
                if note:
                    tsv.append("\t".join(note[:7] + [gt, gq, str(dp)] + note[10:]))
        cols = ["#CHROM", "POS", "ID", "REF", "ALT", "QUAL", "FILTER", "INFO", "FORMAT", name]
        text = "".join(header) + "\t".join(cols) + "\n" + "\n".join(body) + "\n"
        with pysam.BGZFile(str(out / "variants.vcf.gz"), "wb") as fh:  # bgzip, as the pipeline writes it
            fh.write(text.encode())
        pysam.tabix_index(str(out / "variants.vcf.gz"), preset="vcf", force=True)
        (out / "variants.tsv").write_text("\n".join([tsv_head, *tsv]) + "\n", encoding="utf-8")
        report = json.loads(json.dumps(base))
        report["sample"], report["status"] = name, "COMPLETE"
        report["coverage"]["mean_depth"] = round(float(rng.normal(30, 6)), 2)
        report["hla"] = {
            "imgt_release": "3.55.0",
            "calls": [
                {"gene": g, "allele1": x, "allele2": y, "confidence": 10.0}
                for g, pool in sorted(hla_pool.items())
                for x, y in [sorted(rng.choice(pool, size=2))]
            ],
        }
        (out / "report.json").write_text(json.dumps({k: report[k] for k in ("generated_at", "tools")}))
        samples.append((name, out, report))
    return samples


def _load_lake(store, samples, job: str = "bench") -> float:
    start = time.perf_counter()
    for i in range(0, len(samples), BATCH):
        batch = {}
        for name, out, report in samples[i : i + BATCH]:
            ctx = SampleContext(name, out / "r1", out / "r2", out, PipelineOptions(), report=report)
            batch[name] = sample_tables(ctx)
        write_samples(store, job, batch)
    return time.perf_counter() - start


# -- the baseline: pandas over the per-sample VCFs --------------------------------------------
def _read_vcf(path: Path, cols: list[int]) -> pd.DataFrame:
    return pd.read_csv(path, sep="\t", comment="#", header=None, usecols=cols, dtype=str)


def pandas_af(vcfs: list[Path], chrom: str, pos: int, ref: str, alt: str) -> tuple[int, int]:
    ac = carriers_ = 0
    for path in vcfs:
        df = _read_vcf(path, [0, 1, 3, 4, 6, 9])
        hit = df[(df[0] == chrom) & (df[1] == str(pos)) & (df[3] == ref) & (df[6] == "PASS")]
        for alts, sample in zip(hit[4], hit[9], strict=True):
            idx = str(alts.split(",").index(alt) + 1) if alt in alts.split(",") else None
            n = sum(1 for a in sample.split(":")[0].replace("|", "/").split("/") if a == idx)
            ac += n
            carriers_ += n > 0
    return ac, carriers_


def pandas_carriers(vcfs: list[Path], gene: str, consequence: str) -> int:
    found = 0
    for path in vcfs:
        df = _read_vcf(path, [6, 7])
        csq = df[7].str.extract(r"CSQ=([^;]*)", expand=False).fillna("")
        hit = (df[6] == "PASS") & csq.str.contains(rf"(?:^|[|&]){consequence}(?:[|&])", regex=True)
        hit &= csq.str.contains(f"|{gene}|", regex=False)
        found += int(hit.sum())
    return found


def _best(fn, repeat: int):
    times, value = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        value = fn()
        times.append(time.perf_counter() - t0)
    return min(times), value


def _moto() -> tuple[object, str]:
    from moto.server import ThreadedMotoServer

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one access-log line per request otherwise
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    return server, f"http://127.0.0.1:{port}"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--samples", type=int, default=1000)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument(
        "--spark", action="store_true", help="also time `gems lake spark-job` (local[2], needs a JDK)"
    )
    args = p.parse_args(argv)
    root = Path(tempfile.mkdtemp(prefix="gems-lake-bench-"))
    server, url = _moto()
    try:
        t0 = time.perf_counter()
        samples = make_cohort(args.samples, root / "samples")
        made = time.perf_counter() - t0
        s3 = local_s3(url)
        s3.create_bucket(Bucket="bench-lake")
        store = S3Store(s3, "bench-lake")
        load_s = _load_lake(store, samples)
        vcfs = [out / "variants.vcf.gz" for _, out, _ in samples]
        _, lines, _ = _sites()
        catalogue = {(s[0], int(s[1]), s[3], a) for s in lines if s[6] == "PASS" for a in s[4].split(",")}
        probe = (
            Engine(store)
            .query(
                "SELECT chrom, pos, ref, alt FROM variants WHERE filter = 'PASS' GROUP BY ALL ORDER BY count(*) DESC, "
                "chrom, pos LIMIT 1"
            )
            .rows[0]
        )
        assert tuple(probe) in catalogue  # the cohort's most carried site, a real call site
        chrom, pos, ref, alt = probe
        qa = allele_frequency(f"{chrom}:{pos}:{ref}:{alt}")
        qc_ = carriers(gene=GENE, consequence=CONSEQUENCE)
        qh = hla_frequencies()

        pd_af_s, pd_af = _best(lambda: pandas_af(vcfs, chrom, pos, ref, alt), 1)
        pd_car_s, pd_car = _best(lambda: pandas_carriers(vcfs, GENE, CONSEQUENCE), 1)

        cache = root / "cache"

        def first(q):  # the first reader of this manifest version: one GET per partition
            return Engine(store, snapshots=False).query(q.sql, list(q.params))

        def shared(q):  # a new machine: no local cache, the shared snapshot in S3
            return Engine(store).query(q.sql, list(q.params))

        def cached(q):  # a repeated `gems lake` on this machine
            return Engine(store, cache_dir=cache).query(q.sql, list(q.params))

        first_af_s, r_af = _best(lambda: first(qa), 1)
        first_car_s, r_car = _best(lambda: first(qc_), 1)
        for q in (qa, qc_, qh):
            cached(q)  # shares the snapshots and fills the local cache
        shared_af_s, _ = _best(lambda: shared(qa), args.repeat)
        shared_car_s, _ = _best(lambda: shared(qc_), args.repeat)
        cache_af_s, _ = _best(lambda: cached(qa), args.repeat)
        cache_car_s, _ = _best(lambda: cached(qc_), args.repeat)
        cache_hla_s, _ = _best(lambda: cached(qh), args.repeat)
        warm_engine = Engine(store, cache_dir=cache)
        warm_engine.query(qa.sql, list(qa.params)), warm_engine.query(qc_.sql, list(qc_.params))
        mem_af_s, _ = _best(lambda: warm_engine.query(qa.sql, list(qa.params)), args.repeat)
        mem_car_s, _ = _best(lambda: warm_engine.query(qc_.sql, list(qc_.params)), args.repeat)

        row = r_af.records()[0]
        assert (row["allele_count"], row["carriers"]) == pd_af, (row, pd_af)
        assert len(r_car.rows) == pd_car, (len(r_car.rows), pd_car)
        lake_bytes = {t: sum(e["bytes"] for e in Engine(store).manifest(t)["partitions"].values())
                      for t in ("variants", "hla", "qc")}  # fmt: skip
        vcf_bytes = sum(v.stat().st_size for v in vcfs)
        cache_bytes = sum(f.stat().st_size for f in cache.glob("variants-*.parquet"))
        n_rows = Engine(store).query("SELECT count(*) FROM variants").rows[0][0]

        print(f"cohort: {args.samples} samples, {n_rows:,} variant rows ({made:.1f} s to simulate, "
              f"{load_s:.1f} s to write the lake to moto S3 over HTTP)")  # fmt: skip
        print(f"AF question: {chrom}:{pos}:{ref}:{alt} -> AC {row['allele_count']}, AN {row['allele_number']}, "
              f"AF {row['allele_frequency']:.4f}; carriers question: {GENE} {CONSEQUENCE} -> {pd_car} samples")  # fmt: skip
        print()
        print(f"{'question':<10} {'pandas/VCFs':>12} {'lake: first read':>17} {'shared snapshot':>16} "
              f"{'local cache':>12} {'in memory':>10} {'x vs first':>11} {'x vs snapshot':>14} {'x vs cache':>11}")  # fmt: skip
        for name, pds, first_s, shared_s, cache_s, mem_s in (
            ("AF", pd_af_s, first_af_s, shared_af_s, cache_af_s, mem_af_s),
            ("carriers", pd_car_s, first_car_s, shared_car_s, cache_car_s, mem_car_s),
        ):
            print(f"{name:<10} {pds:>11.2f}s {first_s:>16.2f}s {shared_s:>15.3f}s {cache_s:>11.3f}s "
                  f"{mem_s:>9.4f}s {pds / first_s:>10.1f}x {pds / shared_s:>13.0f}x {pds / cache_s:>10.0f}x")  # fmt: skip
        print(f"{'HLA freq':<10} {'':>12} {'':>17} {'':>16} {cache_hla_s:>11.3f}s")
        print()
        total = sum(lake_bytes.values())
        print(f"size: VCFs {vcf_bytes / 1e6:.2f} MB; lake {total / 1e6:.2f} MB "
              f"(variants {lake_bytes['variants'] / 1e6:.2f}, hla {lake_bytes['hla'] / 1e6:.2f}, "
              f"qc {lake_bytes['qc'] / 1e6:.2f}) = {total / vcf_bytes:.2f}x the VCFs; "
              f"variants table as one cached file {cache_bytes / 1e6:.2f} MB = {cache_bytes / vcf_bytes:.2f}x")  # fmt: skip
        if args.spark:
            from lake.spark_run import run_spark_job

            t0 = time.perf_counter()
            run_spark_job(store, str(root / "spark"), "local[2]")
            print(f"spark-job (local[2], staging included): {time.perf_counter() - t0:.1f} s for every site's AF "
                  "and every HLA allele's frequency")  # fmt: skip
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
