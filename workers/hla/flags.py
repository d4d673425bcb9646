"""How sure a gene's call is: the posterior of the called 2-field genotype, and the flag.

The posterior weighs every 2-field genotype the search scored by its best pair's likelihood (a
flat prior over 2-field genotypes, so a genotype with many full-resolution alleles gains nothing
from their number). On the random simulated genotypes of `benchmarks.hla_flags` it is the best
calibrated of the tempered versions tried (dividing the log-likelihoods by 1 to 5).

The flag (`benchmarks/hla_flags.py` measures it on thinned and simulated samples; docs/hla.md):
  * `ambiguous`: another 2-field genotype is within AMBIGUITY_MARGIN (listed in `ambiguous`);
  * `low_confidence`: the posterior is under OK_POSTERIOR, the call is ahead of the runner-up by
    less than two mismatching reads' worth (one read can be a sequencing error or a misplaced
    read, and reads are not fully independent), or the reads fit the call poorly (an allele may be
    missing from the reference);
  * `ok`: none of these;
  * `insufficient`: no call (too few informative read pairs, or none).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from enum import StrEnum

from .scoring import MISMATCH

OK_POSTERIOR = 0.99
OK_MARGIN = 2 * MISMATCH  # nats: two reads that each mismatch the runner-up once more
AMBIGUITY_MARGIN = 2.0  # nats: genotypes closer than this explain the reads equally
POOR_FIT = 1.5  # mismatches per read pair under the call: alleles may be missing


class Flag(StrEnum):
    OK = "ok"
    LOW_CONFIDENCE = "low_confidence"
    AMBIGUOUS = "ambiguous"
    INSUFFICIENT = "insufficient"
    ABSENT = "absent"  # DRB3/4/5 on neither haplotype: the reads and DRB1 agree (workers.hla.drb)


def posterior(best_ll: float, other_lls: Iterable[float]) -> float:
    """P(called genotype | reads) among the genotypes the search scored."""
    rest = sum(math.exp(min(v - best_ll, 0.0)) for v in other_lls)
    return 1.0 / (1.0 + rest)


def decide(post: float, margin: float, fit: float) -> Flag:
    """The flag of a called gene (uncalled genes are `insufficient`)."""
    if margin < AMBIGUITY_MARGIN:
        return Flag.AMBIGUOUS
    if post < OK_POSTERIOR or margin < OK_MARGIN or fit > POOR_FIT:
        return Flag.LOW_CONFIDENCE
    return Flag.OK
