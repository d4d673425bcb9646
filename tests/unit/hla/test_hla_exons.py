import random

import numpy as np

from workers.hla.exons import cds_positions


def _seq(rng: random.Random, n: int) -> str:
    return "".join(rng.choice("ACGT") for _ in range(n))


def test_exons_are_placed_and_a_tiny_last_exon_is_not_forced_into_an_intron():
    rng = random.Random(11)
    exons = [_seq(rng, 73), _seq(rng, 270), _seq(rng, 276), _seq(rng, 5)]  # class I-like, tiny exon 8
    introns = ["GT" + _seq(rng, 150) + "AG" for _ in range(3)]
    gen = _seq(rng, 100)
    for exon, intron in zip(exons, introns + [""], strict=True):
        gen += exon + intron
    gen += _seq(rng, 100)
    cds = "".join(exons)
    pos = cds_positions(gen, cds)
    placed = pos[pos >= 0]
    # every base placed is placed correctly ...
    where = np.flatnonzero(pos >= 0)
    assert all(gen[g] == cds[c] for g, c in zip(where, placed, strict=True))
    assert np.all(np.diff(placed) > 0)
    # ... and the large exons are all there
    assert set(range(73 + 270 + 276)) <= set(placed.tolist())
