"""Translation and HGVS protein-change names (one-letter short form: p.R123W, p.L45fs, p.K23del).

Protein changes are named by comparing the reference and the variant protein rather than from
the variant's genomic position, so an indel inside a repeat gets the 3'-most description HGVS
asks for whichever way the caller aligned it.
"""

from __future__ import annotations

_BASES = "TCAG"
_AA = "FFLLSSSSYY**CC*WLLLLPPPPHHQQRRRRIIIMTTTTNNKKSSRRVVVVAAAADDEEGGGG"
CODON_TABLE = {
    a + b + c: _AA[16 * i + 4 * j + k]
    for i, a in enumerate(_BASES)
    for j, b in enumerate(_BASES)
    for k, c in enumerate(_BASES)
}
_COMPLEMENT = str.maketrans("ACGTNacgtn", "TGCANtgcan")


def revcomp(seq: str) -> str:
    return seq.translate(_COMPLEMENT)[::-1]


def translate(seq: str, to_stop: bool = False) -> str:
    """Translate codon by codon ('X' for codons with N); stops after the first '*' when to_stop."""
    out = []
    for i in range(0, len(seq) - 2, 3):
        aa = CODON_TABLE.get(seq[i : i + 3], "X")
        out.append(aa)
        if to_stop and aa == "*":
            break
    return "".join(out)


def _span(protein: str, first: int, last: int) -> str:
    """'K23' or 'K23_L25' for 0-based inclusive residue indices."""
    a = f"{protein[first]}{first + 1}"
    return a if first == last else f"{a}_{protein[last]}{last + 1}"


def _extension(alt: str, stop_index: int) -> str:
    """'ext*N' counted from the old stop position, or 'ext*?' when no new stop is in reach."""
    tail = alt[stop_index:]
    k = tail.find("*")
    return f"ext*{k}" if k > 0 else "ext*?"


def substitution_change(ref: str, alt: str, first: int, last: int) -> str:
    """Name a same-length change of residues first..last (0-based): missense, nonsense, stop loss, silent.

    `alt` is the variant protein translated past the old stop when that stop was hit.
    """
    if first == 0 and ref[0] == "M" and alt[0] != "M":
        return "p.M1?"
    r, a = ref[first : last + 1], alt[first : last + 1]
    if r == a:
        return f"p.{_span(ref, first, last)}="
    if "*" in r and "*" not in a:
        s = ref.index("*")
        return f"p.*{s + 1}{alt[s]}{_extension(alt, s)}"
    # Trim residues that did not change so an MNV over two codons with one silent reads as one change.
    while r and a and r[0] == a[0]:
        r, a, first = r[1:], a[1:], first + 1
    while r and a and r[-1] == a[-1]:
        r, a, last = r[:-1], a[:-1], last - 1
    if "*" in a:
        a = a[: a.index("*") + 1]
        if len(a) == 1 and len(r) >= 1:
            return f"p.{ref[first]}{first + 1}*"
    if len(r) == 1 and len(a) == 1:
        return f"p.{r}{first + 1}{a}"
    return f"p.{_span(ref, first, last)}delins{a}"


def _common_prefix(a: str, b: str) -> int:
    n = min(len(a), len(b))
    i = 0
    while i < n and a[i] == b[i]:
        i += 1
    return i


def frameshift_change(ref: str, alt: str) -> str:
    """p.L45fs: the first residue the frameshift changes."""
    i = _common_prefix(ref, alt)
    if i >= len(ref):
        return "p.?"
    if ref[i] == "*":  # the shift starts at the stop codon: the protein runs on
        return f"p.*{i + 1}{alt[i] if i < len(alt) else 'X'}{_extension(alt, i)}"
    if i == 0 and ref[0] == "M":
        return "p.M1?"
    return f"p.{ref[i]}{i + 1}fs"


def inframe_change(ref: str, alt: str, residues_added: int) -> tuple[str, str]:
    """Name an in-frame indel; returns (protein change, kind) with kind in deletion/insertion/delins/stop_gained/
    stop_lost/start_lost/synonymous. Both proteins end at their first stop ('*' included);
    residues_added is the indel's length change / 3."""
    i = _common_prefix(ref, alt)
    if i == len(ref) == len(alt):
        return "p.=", "synonymous"
    if i == 0 and ref[:1] == "M":
        return "p.M1?", "start_lost"
    if alt.endswith("*") and len(alt) < len(ref) + residues_added and i < len(ref):
        # a new stop inside the indel: the protein ends there
        if alt[i] == "*":
            return f"p.{ref[i]}{i + 1}*", "stop_gained"
        return f"p.{ref[i]}{i + 1}delins{alt[i:]}", "stop_gained"
    j = 0
    while j < min(len(ref), len(alt)) - i and ref[len(ref) - 1 - j] == alt[len(alt) - 1 - j]:
        j += 1
    deleted, inserted = ref[i : len(ref) - j], alt[i : len(alt) - j]
    if ref.endswith("*") and (not alt.endswith("*") or len(alt) > len(ref) + residues_added):
        # the old stop is gone: the protein runs on (the common suffix may have matched the new stop)
        s = i if i < len(alt) and ref[i] == "*" else len(ref) - 1
        return f"p.*{s + 1}{alt[s] if s < len(alt) else 'X'}{_extension(alt, s)}", "stop_lost"
    if "*" in inserted and "*" not in deleted:
        return f"p.{ref[i]}{i + 1}*", "stop_gained"
    if deleted and not inserted:
        return f"p.{_span(ref, i, i + len(deleted) - 1)}del", "deletion"
    if inserted and not deleted:
        n = len(inserted)
        if i == 0:  # before the first residue of a CDS that has no start codon
            return "p.?", "insertion"
        if i >= n and ref[i - n : i] == inserted:
            return f"p.{_span(ref, i - n, i - 1)}dup", "insertion"
        return f"p.{_span(ref, i - 1, i)}ins{inserted}", "insertion"
    return f"p.{_span(ref, i, i + len(deleted) - 1)}delins{inserted}", "delins"
