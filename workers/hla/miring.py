"""The per-sample record a histocompatibility lab files with a typing: MIRING's eight elements
(Mack et al., Hum Immunol 2015) as one JSON document, `hla.miring.json`, from which the API
builds the job's HML (`gems.jobs.hml`).

1. message: the sample, when it was typed and by what
2. reference context: the IPD-IMGT/HLA release and each allele's accession in it
3. full genotype: the GL String of the sample and of each locus
4. consensus sequence: per called allele, the reads' consensus over the exons they cover
   (`workers.hla.consensus`)
5. novel polymorphisms: where the reads consistently disagree with the allele, and whether any
   allele of the release carries the reads' base (`novel: false`) or none does (`novel: true`)
6. read metadata: read pairs, HLA read pairs, and per allele the reads it explains and depth
7. primary data: the names of the read files typed
8. annotation: each locus's flag and note, which say what the reads could not decide
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import gems

from .reference import accessions
from .typer import TypingResult

FORMAT = "gems-miring/1"
DATABASE = "IPD-IMGT/HLA"
DATABASE_URI = "https://www.ebi.ac.uk/ipd/imgt/hla/"
PLATFORM = "Illumina paired-end short reads"


def _allele(call, k: int, full: str, seen: dict, table: dict[str, str]) -> dict:
    first = k == 1
    return {
        "name": full,
        "two_field": call.allele1 if first else call.allele2,
        "three_field": call.three_field1 if first else call.three_field2,
        "g_group": call.g_group1 if first else call.g_group2,
        "p_group": call.p_group1 if first else call.p_group2,
        "accession": table.get(full),
        "reads": seen.get("reads", 0),
        "exact_reads": next((s["exact"] for s in call.support if s["allele"] == full), None),
        "covered_bases": seen.get("covered", 0),
        "blocks": seen.get("blocks", []),
        "variants": seen.get("variants", []),
    }


def record(result: TypingResult, sample: str, read_files: list[str], typed: datetime | None = None) -> dict:
    table = accessions(Path(result.reference)) if result.reference else {}
    loci = []
    for call in result.calls:
        by_name = {c["allele"]: c for c in call.consensus}
        alleles = []
        for k, full in ((1, call.full1), (2, call.full2)):
            if call.called and full and not (k == 2 and full == call.full1):  # a homozygote once
                alleles.append(_allele(call, k, full, by_name.get(full, {}), table))
        loci.append(
            {
                "locus": f"HLA-{call.gene}",
                "flag": call.flag,
                "gl_string": call.gl_string,
                "copies": call.copies,
                "homozygous": bool(call.called and call.full1 == call.full2),
                "read_pairs": call.pairs,
                "depth": call.depth,  # median reads over the coding bases: the dropout check's measure
                "note": call.note,
                "alleles": alleles,
            }
        )
    when = (typed or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {
        "format": FORMAT,
        "message": {"sample": sample, "typed": when, "software": "gems", "version": gems.__version__},
        "reference": {"database": DATABASE, "release": result.release, "uri": DATABASE_URI},
        "gl_string": result.gl_string,
        "reads": {
            "platform": PLATFORM,
            "files": read_files,
            "read_pairs": result.stats.pairs,
            "hla_read_pairs": result.hla_reads,
        },
        "loci": loci,
        "typed_genes": list(result.genes),
    }
