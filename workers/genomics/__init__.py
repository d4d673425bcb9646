"""The genomics library the pipeline steps stand on: file formats and biology, no pipeline,
no AWS.

Reads:        fastq (streaming, validated pairs), readfeed (reads decompressed once, fed to a
              second consumer), trimming (cutadapt's API)
Alignments:   minimap2 (the program and its command), bamfile (SAM stream -> sorted,
              duplicate-marked BAM), bamstats (alignment counts)
Reference:    reference (checked, indexed, checksummed genome)
Annotation:   gff (GFF3 -> transcripts), genemodel (transcripts and a position index),
              consequence (SO terms per transcript), coding (HGVS c./n.), protein (HGVS p.)
Variants:     vcfnorm (normalised alleles for comparison), vcfstats (summary counts)
"""
