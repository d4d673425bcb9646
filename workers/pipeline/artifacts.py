"""What steps hand each other: the files in `SampleContext.artifacts`, one name each.

A step declares the artifacts it reads and writes (`reads`, `writes`); the pipeline checks,
before the first step runs, that every artifact a step reads is written by an earlier step (or
given in the context), and after each step that it wrote only what it declared.
"""

from __future__ import annotations

from enum import StrEnum


class Artifact(StrEnum):
    READS_R1 = "r1"  # the reads QC passes on: trimmed and filtered when asked, else the sample's own
    READS_R2 = "r2"
    BAM = "bam"  # coordinate-sorted, duplicate-marked, indexed alignments
    SHARDS = "shards"  # a sharded sample's split: split.json, its shards as the lead cut them
    SHARD_BAM = "shard_bam"  # one shard's alignments: coordinate-sorted, duplicates not yet marked
    CRAM = "cram"  # the alignments as CRAM against the reference (when the BAM is not kept)
    RAW_CALLS = "raw_calls"  # a sharded sample's calls, made in its windows, before normalising
    VCF = "vcf"  # the sample's normalised calls, bgzipped and indexed
    SAMTOOLS_STATS = "samtools_stats"  # `samtools stats` of the alignments
    BCFTOOLS_STATS = "bcftools_stats"  # `bcftools stats` of the calls
    VARIANTS_TSV = "variants_tsv"  # one row per called allele and transcript, with consequences
    HLA_TSV = "hla_tsv"
    HLA_JSON = "hla_json"
    HLA_MIRING = "hla_miring"  # the MIRING record a lab files with the typing
    REPORT_JSON = "report_json"
    REPORT_HTML = "report_html"
