"""What runs on a worker, in five packages (each with its own map):

  program/     the worker program an EC2 instance runs (`python -m workers`): who it is, its
               inputs from S3, its share of the job sample by sample, spot notices, its calls
               to the API, indexes shared with other workers
  pipeline/    the per-sample analysis: the framework (steps, context, options), one module
               per step (qc, align, variants, annotate, coverage, report, lake), the order they
               run in (sample.py) and `gems run-sample` (cli.py)
  genomics/    the library the steps stand on, no pipeline or AWS in it: FASTQ, trimming,
               minimap2, BAM, reference, GFF3 gene models, consequences, VCF normalisation
  hla/         HLA typing: a library of its own and its thin pipeline step (hla/step.py)
  evaluation/  scoring calls against a truth set (`gems eval-vcf`), for tests and benchmarks

Workers never import flask or anything from app/.
"""
