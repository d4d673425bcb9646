"""GFF3 parsing: the shared Ensembl file, and malformed files that must fail with the line number."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from gems.errors import InputError
from workers.genomics.gff import read_gff3

DATA = Path(__file__).resolve().parents[2] / "data" / "annotation"
GFF = DATA / "chr22_16570000_16610000.ensembl.gff3"

GOOD = """##gff-version 3
c1\tt\tgene\t100\t900\t.\t+\t.\tID=gene:G1;Name=ABC;biotype=protein_coding;gene_id=G1
c1\tt\tmRNA\t100\t900\t.\t+\t.\tID=transcript:T1;Parent=gene:G1;biotype=protein_coding;transcript_id=T1;tag=basic
c1\tt\texon\t100\t200\t.\t+\t.\tParent=transcript:T1
c1\tt\texon\t300\t900\t.\t+\t.\tParent=transcript:T1
c1\tt\tCDS\t150\t200\t.\t+\t0\tParent=transcript:T1
c1\tt\tCDS\t300\t800\t.\t+\t0\tParent=transcript:T1
"""


def _write(tmp_path: Path, text: str, name: str = "a.gff3") -> Path:
    p = tmp_path / name
    p.write_text(text)
    return p


def test_shared_ensembl_file():
    models = read_gff3(GFF)
    by_id = {t.id: t for t in models.transcripts}
    assert len(models) == 12 and len(models.genes) == 7
    cct = by_id["ENST00000359963"]
    assert (cct.gene_name, cct.gene_id, cct.biotype, cct.strand) == (
        "CCT8L2",
        "ENSG00000198445",
        "protein_coding",
        -1,
    )
    assert cct.cds == [(20878, 22551, 0)] and cct.coding
    # exon lines come before their transcript line in this file, and descriptions hold tabs
    kcn = by_id["ENST00000493696"]
    assert kcn.exons == [(5364, 8074), (10812, 11288), (12508, 12708)] and not kcn.coding
    # a transcript cut by the region slice keeps its full extent from its own line
    assert (by_id["ENST00000558085"].start, by_id["ENST00000558085"].end) == (31888, 128743)
    assert {t.id for t in models.near("chr22_16570000_16610000", 21594, 21594)} == {"ENST00000359963"}


def test_phase_and_gzip(tmp_path):
    p = tmp_path / "a.gff3.gz"
    with gzip.open(p, "wt") as fh:
        fh.write(GOOD)
    (t,) = read_gff3(p).transcripts
    assert (t.id, t.gene_name, t.tags) == ("T1", "ABC", ("basic",))
    assert t.cds_range == (50, 50 + 51 + 501)


@pytest.mark.parametrize(
    "line,message",
    [
        (
            "c1\tt\texon\t100\t200\t.\t+\tParent=transcript:T1",
            "line 3: expected 9 tab-separated columns, found 8",
        ),
        ("c1\tt\texon\tabc\t200\t.\t+\t.\tParent=transcript:T1", "line 3: start 'abc' is not an integer"),
        ("c1\tt\texon\t300\t200\t.\t+\t.\tParent=transcript:T1", "line 3: end 200 is before start 300"),
        ("c1\tt\texon\t100\t200\t.\t.\t.\tParent=transcript:T1", "line 3: strand '.' must be + or -"),
        ("c1\tt\tCDS\t100\t200\t.\t+\t5\tParent=transcript:T1", "line 3: CDS phase '5' must be 0, 1 or 2"),
        ("c1\tt\texon\t100\t200\t.\t+\t.\tParent", "line 3: attribute 'Parent' is not key=value"),
    ],
)
def test_malformed_lines_name_the_line(tmp_path, line, message):
    lines = GOOD.splitlines()
    lines.insert(2, line)
    with pytest.raises(InputError) as err:
        read_gff3(_write(tmp_path, "\n".join(lines) + "\n"))
    assert message in err.value.message and "a.gff3" in err.value.message


@pytest.mark.parametrize(
    "content,message",
    [
        (b"", "empty"),
        (b"##gff-version 3\n# nothing\n", "no transcripts"),
        (b"\x00\x01\xff\xfe binary", "not UTF-8"),
        (b">chr1\nACGT\n", "expected 9 tab-separated columns"),
        (b"\x1f\x8b\x08\x00truncated", "cannot read"),
    ],
)
def test_not_a_gff3(tmp_path, content, message):
    p = tmp_path / "x.gff3"
    p.write_bytes(content)
    with pytest.raises(InputError, match=message):
        read_gff3(p)


def test_missing_file(tmp_path):
    with pytest.raises(InputError, match="does not exist"):
        read_gff3(tmp_path / "nope.gff3")


def test_cds_outside_exons_is_rejected(tmp_path):
    bad = GOOD.replace("CDS\t300\t800", "CDS\t250\t800")
    with pytest.raises(InputError, match="CDS 250-800 is not inside an exon"):
        read_gff3(_write(tmp_path, bad))
