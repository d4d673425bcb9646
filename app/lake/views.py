"""GET /lake/...: the canned cohort questions over the data lake (docs/lake.md).

In the embedded stack the questions run on DuckDB over the lake bucket in moto (imported inside
the request, never at import time); on AWS (Lambda) they run on Athena over the Glue tables, since
Lambda cannot carry DuckDB and pyarrow comfortably. Arbitrary SQL is the CLI's (`gems lake query`);
the API answers only these questions, with validated parameters.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, jsonify
from marshmallow import EXCLUDE, Schema, fields

from app.apidoc import Answer, Operation, documented
from app.auth import admin_only, require_api_key
from lake import questions

bp = Blueprint("lake", __name__)


class LakeAnswerSchema(Schema):
    question = fields.String()
    engine = fields.String(metadata={"description": "duckdb (embedded stack) or athena"})
    columns = fields.List(fields.String())
    rows = fields.List(fields.Dict(), metadata={"description": "one object per row, keyed by column"})
    snapshot = fields.Dict(metadata={"description": "the table versions read (embedded stack)"})


class _Question(Schema):
    class Meta:
        unknown = EXCLUDE  # other parameters are ignored, as they always were


class VariantQuerySchema(_Question):
    variant = fields.String(required=True, metadata={"description": "CHROM:POS:REF:ALT, e.g. chr6:100:A:G"})


class CarriersQuerySchema(_Question):
    variant = fields.String(metadata={"description": "CHROM:POS:REF:ALT"})
    gene = fields.String()
    consequence = fields.String(metadata={"description": "with gene: only variants of this consequence"})


class GeneQuerySchema(_Question):
    gene = fields.String(metadata={"description": "one HLA gene, e.g. A or DQB1"})


class QcQuerySchema(_Question):
    min_mapping_rate = fields.Float()
    max_duplicate_rate = fields.Float()
    min_coverage = fields.Float()
    min_fraction_20x = fields.Float()


_EXAMPLE = {
    "question": "allele_frequency",
    "engine": "duckdb",
    "columns": ["chrom", "pos", "ref", "alt", "carriers", "samples", "af"],
    "rows": [
        {"chrom": "chr6", "pos": 100, "ref": "A", "alt": "G", "carriers": 1, "samples": 3, "af": 0.1667}
    ],
}


def _question(query: type[Schema]) -> Operation:
    return Operation(
        query=query,
        responses={200: Answer("The question's rows.", LakeAnswerSchema, _EXAMPLE)},
        errors=(400,),
    )


def _answer(question: questions.Question):
    services = current_app.extensions["gems"]
    config = services.config
    if config.embedded:
        from lake.engine import Engine
        from lake.store import S3Store

        engine = Engine(
            S3Store(services.clients.s3, config.lake_bucket), cache_dir=config.home / "lake-cache"
        )
        result = engine.query(question.sql, list(question.params))
        columns, rows, snapshot, used = result.columns, result.rows, result.snapshot, "duckdb"
    else:
        from gems.aws.clients import client
        from lake.athena import RESULTS_PREFIX, run_query
        from lake.glue import DATABASE

        columns, rows = run_query(
            client(config, "athena"),
            question.sql,
            question.params,
            database=DATABASE,
            output=f"s3://{config.lake_bucket}/{RESULTS_PREFIX}",
        )
        snapshot, used = {}, "athena"
    body: dict[str, Any] = {
        "question": question.name,
        "engine": used,
        "columns": columns,
        "rows": [dict(zip(columns, r, strict=True)) for r in rows],
    }
    if snapshot:
        body["snapshot"] = snapshot
    return jsonify(body)


@bp.get("/lake/af")
@require_api_key
@documented(_question(VariantQuerySchema))
def allele_frequency(query: dict):
    """Cohort allele frequency of ?variant=CHROM:POS:REF:ALT."""
    return _answer(questions.allele_frequency(query["variant"]))


@bp.get("/lake/carriers")
@admin_only
@documented(_question(CarriersQuerySchema))
def carriers(query: dict):
    """Carriers of ?variant=, or of any variant in ?gene= (optionally with ?consequence=); admin keys only.

    The rows name samples of every user's jobs, so only a key made with `--admin` may read them.
    """
    return _answer(
        questions.carriers(
            gene=query.get("gene"), consequence=query.get("consequence"), variant=query.get("variant")
        )
    )


@bp.get("/lake/hla-frequencies")
@require_api_key
@documented(_question(GeneQuerySchema))
def hla_frequencies(query: dict):
    """HLA allele frequencies per gene (?gene= for one gene)."""
    return _answer(questions.hla_frequencies(query.get("gene")))


@bp.get("/lake/qc-fails")
@admin_only
@documented(_question(QcQuerySchema))
def qc_fails(query: dict):
    """Samples failing QC thresholds (?min_mapping_rate, max_duplicate_rate, min_coverage, min_fraction_20x).

    Admin keys only: the rows name samples of every user's jobs.
    """
    return _answer(questions.qc_fails(**{k: query.get(k) for k in questions.QC_DEFAULTS}))
