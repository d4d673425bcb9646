"""GET /lake/...: the canned cohort questions over the data lake (docs/lake.md).

In the embedded stack the questions run on DuckDB over the lake bucket in moto (imported inside
the request, never at import time); on AWS (Lambda) they run on Athena over the Glue tables, since
Lambda cannot carry DuckDB and pyarrow comfortably. Arbitrary SQL is the CLI's (`gems lake query`);
the API answers only these questions, with validated parameters.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, jsonify, request
from marshmallow import Schema, fields

from app.apidoc import Answer, Operation, documented
from app.auth import admin_only, require_api_key
from gems.errors import ValidationError
from lake import questions as Q

bp = Blueprint("lake", __name__)


class LakeAnswerSchema(Schema):
    question = fields.String()
    engine = fields.String(metadata={"description": "duckdb (embedded stack) or athena"})
    columns = fields.List(fields.String())
    rows = fields.List(fields.Dict(), metadata={"description": "one object per row, keyed by column"})
    snapshot = fields.Dict(metadata={"description": "the table versions read (embedded stack)"})


class VariantQuerySchema(Schema):
    variant = fields.String(required=True, metadata={"description": "CHROM:POS:REF:ALT, e.g. chr6:100:A:G"})


class CarriersQuerySchema(Schema):
    variant = fields.String(metadata={"description": "CHROM:POS:REF:ALT"})
    gene = fields.String()
    consequence = fields.String(metadata={"description": "with gene: only variants of this consequence"})


class GeneQuerySchema(Schema):
    gene = fields.String(metadata={"description": "one HLA gene, e.g. A or DQB1"})


class QcQuerySchema(Schema):
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


def _answer(question: Q.Question):
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


def _float_arg(name: str) -> float | None:
    raw = request.args.get(name)
    if raw in (None, ""):
        return None
    try:
        return float(raw)
    except ValueError:
        raise ValidationError(f"{name} must be a number", field=name) from None


@bp.get("/lake/af")
@documented(_question(VariantQuerySchema))
@require_api_key
def allele_frequency():
    """Cohort allele frequency of ?variant=CHROM:POS:REF:ALT."""
    return _answer(Q.allele_frequency(request.args.get("variant", "")))


@bp.get("/lake/carriers")
@documented(_question(CarriersQuerySchema))
@admin_only
def carriers():
    """Carriers of ?variant=, or of any variant in ?gene= (optionally with ?consequence=); admin keys only.

    The rows name samples of every user's jobs, so only a key made with `--admin` may read them.
    """
    a = request.args
    return _answer(Q.carriers(gene=a.get("gene"), consequence=a.get("consequence"), variant=a.get("variant")))


@bp.get("/lake/hla-frequencies")
@documented(_question(GeneQuerySchema))
@require_api_key
def hla_frequencies():
    """HLA allele frequencies per gene (?gene= for one gene)."""
    return _answer(Q.hla_frequencies(request.args.get("gene")))


@bp.get("/lake/qc-fails")
@documented(_question(QcQuerySchema))
@admin_only
def qc_fails():
    """Samples failing QC thresholds (?min_mapping_rate, max_duplicate_rate, min_coverage, min_fraction_20x).

    Admin keys only: the rows name samples of every user's jobs.
    """
    return _answer(Q.qc_fails(**{k: _float_arg(k) for k in Q.QC_DEFAULTS}))
