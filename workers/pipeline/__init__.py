"""The per-sample analysis: small steps with one signature, composed by a pipeline object.

  framework    Step, SampleContext (a sample's inputs, options, outputs and artifacts),
               PipelineOptions, Pipeline, StepSkipped, SampleFailed
  sample       the one step order, and one sample through it (the worker and run-sample)
  cli          `gems run-sample`: the pipeline on one local read pair, without AWS
Steps, in the order they run:
  qc           validate and measure the read pair, optionally trim it
  align        minimap2 | samtools: a sorted, duplicate-marked, indexed BAM
  (hla)        HLA typing: workers/hla/step.py, beside the typer it wraps
  variants     bcftools mpileup | call | norm: the sample's VCF
  annotate     consequences against GFF3 gene models: INFO/CSQ and variants.tsv
  coverage     depth over the targets or the whole reference
  report       report.json and report.html (report_html renders the page)
  lake         a COMPLETE sample's variants, HLA calls and QC into the cohort lake
"""
