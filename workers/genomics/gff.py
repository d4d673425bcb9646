"""GFF3 gene models (Ensembl, GENCODE or RefSeq style) -> transcripts with exons and phased CDS.

A transcript is any feature that exons or CDS point to with Parent=; its own Parent is its gene.
Feature types are not matched by name, so mRNA, lnc_RNA, pseudogenic_transcript, ... all work.

Malformed lines raise InputError naming the line. Columns beyond the ninth are tolerated where
they come from spaces turned into tabs inside the attributes (as in some Ensembl exports), but the
coordinates, strand and phase of every feature we use must be valid.
"""

from __future__ import annotations

import gzip
from pathlib import Path
from urllib.parse import unquote

from gems.errors import InputError
from gems.safetext import for_terminal, has_control
from workers.genomics.genemodel import GeneModels, Transcript

_PARTS = {"exon", "CDS", "five_prime_UTR", "three_prime_UTR", "UTR", "start_codon", "stop_codon"}


def _open_text(path: Path):
    with open(path, "rb") as fh:
        magic = fh.read(2)
    if magic == b"\x1f\x8b":
        return gzip.open(path, "rt", encoding="utf-8", newline="")
    return open(path, encoding="utf-8", newline="")


# Attributes whose values reach variants.tsv, the VCF's CSQ and the lake.
_CARRIED = {
    "ID", "Parent", "Name", "gene_name", "gene_id", "transcript_id", "biotype", "transcript_biotype",
    "transcript_type", "tag",
}  # fmt: skip


def _attributes(text: str, where: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in text.split(";"):
        item = item.strip()
        if not item or item == ".":
            continue
        key, eq, value = item.partition("=")
        if not eq or not key:
            raise InputError(f"{where}: attribute {item[:40]!r} is not key=value")
        value = unquote(value)
        if key.strip() in _CARRIED and has_control(value):
            raise InputError(
                f"{where}: attribute {key.strip()} holds a control character "
                f"({for_terminal(value)[:60]}); names with tabs, newlines or escape codes would "
                "break the sample's tables and are refused"
            )
        out[key.strip()] = value
    return out


def _int(text: str, what: str, where: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise InputError(f"{where}: {what} {text[:20]!r} is not an integer") from None
    if value < 1:
        raise InputError(f"{where}: {what} {value} must be >= 1")
    return value


class _Feature:
    __slots__ = ("chrom", "type", "start", "end", "strand", "phase", "attrs", "where")

    def __init__(self, chrom, type_, start, end, strand, phase, attrs, where):
        self.chrom, self.type, self.start, self.end = chrom, type_, start, end
        self.strand, self.phase, self.attrs, self.where = strand, phase, attrs, where


def _parse_line(cols: list[str], where: str) -> _Feature:
    if len(cols) < 9:
        raise InputError(f"{where}: expected 9 tab-separated columns, found {len(cols)}")
    chrom, _source, type_, start_s, end_s = cols[:5]
    start, end = _int(start_s, "start", where), _int(end_s, "end", where)
    if end < start:
        raise InputError(f"{where}: end {end} is before start {start}")
    if not chrom:
        raise InputError(f"{where}: empty sequence name")
    return _Feature(chrom, type_, start, end, cols[6], cols[7], " ".join(cols[8:]), where)


def read_gff3(path: Path) -> GeneModels:
    """Parse a GFF3 (plain or gzip) into indexed transcripts; InputError with the line number if malformed."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"annotation {path} does not exist")
    parents: dict[str, _Feature] = {}  # features with an ID that are not exon-like parts
    parts: list[_Feature] = []
    n = 0
    try:
        with _open_text(path) as fh:
            for n, line in enumerate(fh, 1):
                line = line.rstrip("\r\n")
                if line.startswith("##FASTA"):
                    break
                if not line.strip() or line.startswith("#"):
                    continue
                feature = _parse_line(line.split("\t"), f"{path.name} line {n}")
                if feature.type in _PARTS:
                    parts.append(feature)
                elif "ID=" in feature.attrs:
                    feature.attrs = _attributes(feature.attrs, feature.where)
                    if "ID" in feature.attrs:
                        parents[feature.attrs["ID"]] = feature
    except UnicodeDecodeError:
        raise InputError(f"{path.name} line {n + 1}: not UTF-8 text (is this a GFF3 file?)") from None
    except (OSError, EOFError) as exc:
        raise InputError(f"{path.name}: cannot read ({exc})") from None
    if n == 0:
        raise InputError(f"{path.name}: the annotation file is empty")
    transcripts = _build(parents, parts)
    if not transcripts:
        raise InputError(f"{path.name}: no transcripts with exon or CDS features found")
    return GeneModels(transcripts)


def _strand(f: _Feature) -> int:
    if f.strand not in ("+", "-"):
        raise InputError(f"{f.where}: strand {f.strand!r} must be + or - for a {f.type}")
    return 1 if f.strand == "+" else -1


def _build(parents: dict[str, _Feature], parts: list[_Feature]) -> list[Transcript]:
    by_id: dict[str, Transcript] = {}
    for part in parts:
        attrs = _attributes(part.attrs, part.where)
        if part.type not in ("exon", "CDS"):
            continue  # UTRs and codons follow from exons + CDS
        strand = _strand(part)
        phase = 0
        if part.type == "CDS":
            if part.phase not in ("0", "1", "2"):
                raise InputError(f"{part.where}: CDS phase {part.phase!r} must be 0, 1 or 2")
            phase = int(part.phase)
        for pid in filter(None, attrs.get("Parent", "").split(",")):
            t = by_id.get(pid)
            if t is None:
                t = by_id[pid] = _new_transcript(pid, part, strand, parents)
            elif t.chrom != part.chrom or t.strand != strand:
                raise InputError(f"{part.where}: {part.type} of {pid} on another sequence or strand")
            if part.type == "exon":
                t.exons.append((part.start, part.end))
            else:
                t.cds.append((part.start, part.end, phase))
    for t in by_id.values():
        t.finish()
        _check(t)
    return list(by_id.values())


def _new_transcript(pid: str, part: _Feature, strand: int, parents: dict[str, _Feature]) -> Transcript:
    tf = parents.get(pid)
    attrs = tf.attrs if tf else {}
    gene = parents.get(attrs.get("Parent", "").split(",")[0]) if attrs.get("Parent") else None
    gattrs = gene.attrs if gene else {}
    gene_id = gattrs.get("gene_id") or attrs.get("gene_id") or (gene.attrs["ID"] if gene else "")
    return Transcript(
        id=attrs.get("transcript_id") or pid.removeprefix("transcript:"),
        chrom=part.chrom,
        strand=strand,
        gene_id=gene_id.removeprefix("gene:"),
        gene_name=gattrs.get("Name") or gattrs.get("gene_name") or attrs.get("gene_name") or gene_id,
        biotype=attrs.get("biotype") or attrs.get("transcript_biotype") or attrs.get("transcript_type") or "",
        tags=tuple(filter(None, attrs.get("tag", "").split(","))),
        span=(tf.start, tf.end) if tf else None,
    )


def _check(t: Transcript) -> None:
    for (_, e1), (s2, _) in zip(t.exons, t.exons[1:], strict=False):
        if s2 <= e1:
            raise InputError(f"transcript {t.id}: overlapping exons at {s2}")
    for s, e, _ in t.cds:
        if t.exon_at(s) is None or t.exon_at(e) is None:
            raise InputError(f"transcript {t.id}: CDS {s}-{e} is not inside an exon")
