"""The IMGT/HLA reference directory: which files, which release, which sequences per gene.

A reference directory holds IMGT FASTA files (`*nuc*.fasta[.gz]`: coding sequences,
`*gen*.fasta[.gz]`: genomic sequences) with IMGT's own headers, and optionally the
`Allelelist*.txt[.gz]` of the release. Classical genes (A, B, C, DRB1, DQA1, DQB1, DPB1) are
typed; every other gene found (DRB3/4/5, E, F, G, DRA, DPA1, ...) is used as a decoy so that
paralog reads are not counted for a classical gene.
"""

from __future__ import annotations

import gzip
import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path

from gems.errors import InputError

from . import names

DEFAULT_REFERENCE = Path(__file__).resolve().parent / "reference"
_RELEASE = re.compile(r"IMGT[-_]?(\d+\.\d+\.\d+)")
_VERSION_LINE = re.compile(r"#\s*version:.*?(\d+\.\d+\.\d+)")
_BASES = str.maketrans("acgtn", "ACGTN")


@dataclass(frozen=True)
class Allele:
    name: str  # full IMGT name, e.g. A*01:01:01:01
    accession: str
    seq: str


@dataclass
class HlaReference:
    directory: Path
    release: str
    nuc: dict[str, list[Allele]] = field(default_factory=dict)  # gene -> CDS alleles
    gen: dict[str, list[Allele]] = field(default_factory=dict)  # gene -> genomic alleles
    files: list[Path] = field(default_factory=list)
    loaded: bool = False

    @property
    def classical_genes(self) -> list[str]:
        return [g for g in names.CLASSICAL if self.nuc.get(g)]

    @property
    def decoy_genes(self) -> list[str]:
        genes = set(self.nuc) | set(self.gen)
        return sorted(g for g in genes if g not in names.CLASSICAL)

    def checksum(self) -> str:
        """Content hash of the reference files (keys the cached index)."""
        h = hashlib.sha256()
        for path in self.files:
            h.update(path.name.encode())
            h.update(path.read_bytes())
        return h.hexdigest()[:16]


def _open_text(path: Path):
    if path.name.endswith(".gz"):
        return gzip.open(path, "rt")
    return path.open("rt")


def read_fasta(path: Path) -> list[tuple[str, str, str]]:
    """IMGT FASTA -> [(accession, allele name, sequence)]. Header: `>HLA:HLA00001 A*01:01:01:01 1098 bp`."""
    records: list[tuple[str, str, str]] = []
    header: str | None = None
    chunks: list[str] = []

    def flush() -> None:
        if header is None:
            return
        parts = header[1:].split()
        if len(parts) < 2:
            raise InputError(
                f"{path.name}: FASTA header is not IMGT's ('>ACCESSION NAME ...'): {header[:60]}"
            )
        accession = parts[0].split(":")[-1]
        name = parts[1]
        try:
            names.parse(name)
        except ValueError as exc:
            raise InputError(f"{path.name}: {exc}") from exc
        records.append((accession, name, "".join(chunks).translate(_BASES)))

    try:
        with _open_text(path) as fh:
            for line in fh:
                line = line.strip()
                if not line:
                    continue
                if line.startswith(">"):
                    flush()
                    header, chunks = line, []
                elif header is None:
                    raise InputError(f"{path.name}: not a FASTA file (no '>' header line)")
                else:
                    chunks.append(line)
            flush()
    except (OSError, EOFError, UnicodeDecodeError) as exc:
        raise InputError(f"{path.name}: cannot read ({exc})") from exc
    return records


def detect_release(directory: Path, files: list[Path]) -> str:
    for path in sorted(directory.glob("Allelelist*")):
        try:
            with _open_text(path) as fh:
                for _, line in zip(range(20), fh, strict=False):
                    m = _VERSION_LINE.search(line)
                    if m:
                        return m.group(1)
        except (OSError, EOFError, UnicodeDecodeError):
            break
    for path in files:
        m = _RELEASE.search(path.name)
        if m:
            return m.group(1)
    return "unknown"


def accessions(directory: Path) -> dict[str, str]:
    """Allele name -> IMGT accession (HLA00001) from the release's Allelelist, if it has one."""
    out: dict[str, str] = {}
    for path in sorted(Path(directory).glob("Allelelist*")):
        try:
            with _open_text(path) as fh:
                for line in fh:
                    if line.startswith("HLA"):
                        accession, _, name = line.strip().partition(",")
                        out.setdefault(name, accession)
        except (OSError, EOFError, UnicodeDecodeError):
            continue
    return out


def _fasta_files(directory: Path, kind: str) -> list[Path]:
    pattern = re.compile(rf"(^|[_.-]){kind}([_.-]|$)")
    found = []
    for path in sorted(directory.iterdir()):
        if not re.search(r"\.(fasta|fa)(\.gz)?$", path.name):
            continue
        if pattern.search(path.name.split(".fa")[0]):
            found.append(path)
    return found


def scan(directory: Path | None = None) -> HlaReference:
    """Find the files and release of an IMGT/HLA reference directory (the shipped one when
    `directory` is None) without parsing sequences: enough to find its cached index."""
    directory = Path(directory) if directory is not None else DEFAULT_REFERENCE
    if not directory.is_dir():
        raise InputError(f"HLA reference {directory} is not a directory")
    nuc_files = _fasta_files(directory, "nuc")
    gen_files = _fasta_files(directory, "gen")
    if not nuc_files:
        raise InputError(f"HLA reference {directory} has no IMGT coding-sequence file (*nuc*.fasta[.gz])")
    files = nuc_files + gen_files
    return HlaReference(directory=directory, release=detect_release(directory, files), files=files)


def load(directory: Path | None = None) -> HlaReference:
    """Scan a reference directory and parse all its sequences."""
    ref = scan(directory)
    load_sequences(ref)
    return ref


def load_sequences(ref: HlaReference) -> None:
    if ref.loaded:
        return
    for kind in ("nuc", "gen"):
        paths = [p for p in ref.files if p in _fasta_files(ref.directory, kind)]
        table = getattr(ref, kind)
        seen: set[str] = set()
        for path in paths:
            for accession, name, seq in read_fasta(path):
                if name in seen or not seq:
                    continue
                seen.add(name)
                table.setdefault(names.gene_of(name), []).append(Allele(name, accession, seq))
    for table in (ref.nuc, ref.gen):
        for alleles in table.values():
            alleles.sort(key=lambda a: names.order_key(a.name))
    ref.loaded = True
