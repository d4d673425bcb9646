"""Read-only SQL, the canned questions' parameters, result rendering."""

from __future__ import annotations

import json

import pytest

from gems.errors import ValidationError
from lake import questions
from lake.engine import Engine
from lake.output import render
from lake.readonly import check_read_only


@pytest.mark.parametrize(
    "sql",
    [
        "DROP TABLE variants",
        "insert into qc values (1)",
        "COPY variants TO '/tmp/x.csv'",
        "ATTACH 'other.db'",
        "-- looks harmless\nDELETE FROM hla",
        "/* a comment */ PRAGMA database_list",
        "SELECT 1; DROP TABLE variants",
        "",
        "   ",
    ],
)
def test_anything_but_one_select_is_refused(sql):
    with pytest.raises(ValidationError) as err:
        check_read_only(sql)
    assert err.value.field == "sql" and err.value.message


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT 1",
        "select 'a;b' as x;",
        "WITH t AS (SELECT 1 AS a) SELECT a FROM t",
        "-- count\n(SELECT count(*) FROM qc)",
    ],
)
def test_selects_pass(sql):
    assert check_read_only(sql).strip().endswith(("1", "x", "t", ")"))


class _NoStore:
    def read_json(self, key):
        return None, None

    def url(self, key):
        return key


def test_the_engine_refuses_writes_even_past_the_keyword_check():
    engine = Engine(_NoStore())
    for sql in (
        "WITH x AS (SELECT 1) INSERT INTO t SELECT * FROM x",
        "SELECT * FROM read_csv('/etc/passwd')",
    ):
        with pytest.raises(ValidationError):
            engine.query(sql)


def test_an_unknown_table_gets_a_clear_error():
    with pytest.raises(ValidationError, match="unknown table 'samples': the lake has variants, hla, qc"):
        Engine(_NoStore()).query("SELECT * FROM samples")


def test_an_empty_lake_answers_with_zero_rows_not_an_error():
    engine = Engine(_NoStore())
    assert engine.query("SELECT count(*) FROM variants").rows == [(0,)]
    q = questions.allele_frequency("chr1:10:A:G")
    row = engine.query(q.sql, list(q.params)).records()[0]
    assert (row["allele_count"], row["allele_number"], row["allele_frequency"]) == (0, 0, None)


@pytest.mark.parametrize(
    "text", ["chr1-10-A-G", "chr1:x:A:G", "chr1:10:A", "chr1:10:A:G:T", "chr1:10:A:<DEL>"]
)
def test_bad_variants_are_refused(text):
    with pytest.raises(ValidationError) as err:
        questions.allele_frequency(text)
    assert err.value.field == "variant"


def test_question_parameters_are_validated_not_pasted():
    q = questions.carriers(gene="BRCA2", consequence="stop_gained")
    assert "BRCA2" not in q.sql and q.params == ("BRCA2", "BRCA2", "%&stop_gained&%")
    with pytest.raises(ValidationError):
        questions.carriers(gene="BRCA2' OR 1=1 --")
    with pytest.raises(ValidationError):
        questions.carriers(consequence="stop_gained")  # needs a gene or a variant
    with pytest.raises(ValidationError):
        questions.qc_fails(min_depth=3)
    assert questions.hla_frequencies("A").params == ("A",)
    assert questions.qc_fails(min_coverage=10).params[2] == 10.0


def test_render_formats():
    cols, rows = ["gene", "n", "f"], [("A", 2, 0.5), (None, 1, 1 / 3)]
    table = render(cols, rows, "table")
    assert table.splitlines()[0].split() == cols and table.endswith("(2 rows)")
    assert render(cols, rows, "csv").splitlines() == ["gene,n,f", "A,2,0.5", ",1,0.333333"]
    body = json.loads(render(cols, rows, "json", {"variants": {"version": 3}}))
    assert body["rows"][0] == {"gene": "A", "n": 2, "f": 0.5} and body["snapshot"]["variants"]["version"] == 3
