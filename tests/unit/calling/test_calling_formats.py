"""How alignments are kept (gems.alignments) and what the report keeps of `samtools stats`."""

from __future__ import annotations

import pytest

from gems.alignments import CRAM_ABOVE_BYTES, chosen_format
from gems.errors import ValidationError
from workers.pipeline.qcstats import summary


def test_large_samples_are_kept_as_cram_unless_asked_otherwise():
    assert chosen_format(None, CRAM_ABOVE_BYTES) == "bam"
    assert chosen_format(None, CRAM_ABOVE_BYTES + 1) == "cram"
    assert chosen_format("bam", 10 * CRAM_ABOVE_BYTES) == "bam"
    assert chosen_format("cram", 10) == "cram"
    with pytest.raises(ValidationError) as err:
        chosen_format("sam", 10)
    assert err.value.field == "options.alignment_format"


def test_the_summary_keeps_the_named_sn_lines_as_numbers():
    text = "# comment\nSN\traw total sequences:\t200\t# excluding\nSN\terror rate:\t5.1e-03\t# mismatches\nSN\tother:\t3\nFFQ\t1\t2\n"
    assert summary(text) == {"sequences": 200, "error_rate": 0.0051}
