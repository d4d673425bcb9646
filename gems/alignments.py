"""How a sample's alignments are kept (pure): BAM, or CRAM against the job's reference.

A job's `options.alignment_format` picks one for every sample; unset, a sample over
CRAM_ABOVE_BYTES of FASTQ.gz is kept as CRAM (about half a BAM's size: a 30x genome's 60-70 GB
BAM is 30-35 GB) and a smaller one as BAM, which every tool reads without the reference.
"""

from __future__ import annotations

from gems.errors import ValidationError

FORMATS = ("bam", "cram")
CRAM_ABOVE_BYTES = 4 << 30


def chosen_format(asked: str | None, reads_bytes: int) -> str:
    if asked is not None:
        if asked not in FORMATS:
            raise ValidationError(
                f"alignment_format must be one of {', '.join(FORMATS)}", field="options.alignment_format"
            )
        return asked
    return "cram" if reads_bytes > CRAM_ABOVE_BYTES else "bam"
