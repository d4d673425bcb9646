"""Calls scored against a truth set: how tests and benchmarks measure the pipeline.

vcfcompare  truth-versus-calls matching of normalised alleles, genotype- and haplotype-aware
evalvcf     `gems eval-vcf`: SNP and indel precision, recall and F1 over regions
"""
