"""HLA typing: reads -> IMGT/HLA allele evidence -> the best-explaining allele pair per gene.

Modules, one concept each: names (IMGT nomenclature), reference (IMGT files, genes, release),
msa (per-gene column model of all alleles), index (cached representatives + aligner index),
fastq (paired reads), mapping (reads -> gene + MSA columns), scoring (read-vs-allele
likelihoods), model (pair selection), calls (2-field calls, confidence, ambiguity), typer
(orchestration), output (hla.tsv / hla.json), step (pipeline step), evaluate and cli.
"""
