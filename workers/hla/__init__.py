"""HLA typing: reads -> IMGT/HLA allele evidence -> the best-explaining allele pair per gene,
and the record a lab files with it.

Modules, one concept each:
  reference, names    the IMGT/HLA release's files, genes and nomenclature
  msa, exons, index   per-gene column model of all alleles, exon boundaries, the cached
                      representatives and aligner index
  mapping, scoring    reads (workers.genomics.fastq) -> gene and MSA columns -> read-vs-allele
                      likelihoods
  model, gene, calls  pair selection, one gene's call (paralog reads set aside), 2-field calls
                      with confidence and ambiguity
  support, flags      whether the reads fit the call; the flag and what decides it
  groups, drb         G/P groups, 3-field names and GL Strings; DRB3/4/5 presence and copies
  dropout             a homozygote at half the sample's depth: a possible allele dropout
  consensus, miring   each called allele's consensus and novel sites; the MIRING record
  typer, output       the whole sample; hla.tsv, hla.json, hla.miring.json
  step, cli, evaluate the pipeline step, `gems type-hla`/`eval-hla`, concordance with a truth
"""
