"""GET /job/<session_key>/results: a job's result files with pre-signed download links; and
GET /job/<session_key>/summary.json|.tsv: the run on one page, one row per sample."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, jsonify
from marshmallow import Schema, fields

from app.apidoc import Answer, Operation, documented
from app.auth import owner_only
from app.jobs.schemas import JOB_EXAMPLE
from gems.jobs.results import list_results
from gems.jobs.run_table import to_tsv
from gems.states import JobStatus, SampleStatus

bp = Blueprint("results", __name__)


class ResultFileSchema(Schema):
    name = fields.String()
    key = fields.String()
    size = fields.Integer()
    url = fields.String(metadata={"description": "pre-signed S3 GET URL, valid for an hour"})


class ResultsSchema(Schema):
    session_key = fields.String()
    bucket = fields.String()
    prefix = fields.String()
    samples = fields.Dict(keys=fields.String(), values=fields.List(fields.Nested(ResultFileSchema)))


_RESULTS_EXAMPLE = {
    "session_key": JOB_EXAMPLE["session_key"],
    "bucket": "gems-demo",
    "prefix": JOB_EXAMPLE["results_prefix"],
    "samples": {
        "NA12878": [
            {
                "name": "report.html",
                "key": JOB_EXAMPLE["results_prefix"] + "NA12878/report.html",
                "size": 48211,
                "url": "https://gems-demo.s3.amazonaws.com/demo/results/...&Signature=...",
            }
        ]
    },
}


@bp.get("/job/<session_key>/results")
@owner_only("session_key")
@documented(
    Operation(
        responses={
            200: Answer("Result files per sample with pre-signed links.", ResultsSchema, _RESULTS_EXAMPLE)
        }
    )
)
def job_results(session_key: str):
    """List a job's result files per sample, each with a pre-signed S3 URL valid for an hour."""
    services = current_app.extensions["gems"]
    job = services.jobs.get(session_key)
    return jsonify(list_results(services.clients.s3, job))


class RunTableSchema(Schema):
    session_key = fields.String()
    overall_status = fields.String()
    hla_class = fields.Integer(allow_none=True)
    hla_genes = fields.List(fields.String(), metadata={"description": "the HLA genes typed, in order"})
    samples = fields.List(
        fields.Dict(),
        metadata={
            "description": "one row per sample: sample, status, reason, worker, attempt, read_pairs, "
            "mapping_rate, mean_coverage, variants, snvs, indels, hla {gene: {allele1, allele2, "
            "confidence, flag}}, report_url (pre-signed, an hour); figures are null until the "
            "sample's report has them"
        },
    )


_TABLE_EXAMPLE = {
    "session_key": JOB_EXAMPLE["session_key"],
    "overall_status": JobStatus.COMPLETE.value,
    "hla_class": 1,
    "hla_genes": ["A", "B", "C"],
    "samples": [
        {
            "sample": "NA12878",
            "status": SampleStatus.COMPLETE.value,
            "reason": "",
            "worker": 0,
            "attempt": 1,
            "read_pairs": 2000,
            "mapping_rate": 0.9935,
            "mean_coverage": 31.2,
            "variants": 14,
            "snvs": 12,
            "indels": 2,
            "hla": {"A": {"allele1": "A*01:01", "allele2": "A*11:01", "confidence": 0.99}},
            "report_url": "https://gems-demo.s3.amazonaws.com/demo/results/...report.html?...",
        }
    ],
}


@bp.get("/job/<session_key>/summary.json")
@owner_only("session_key")
@documented(Operation(responses={200: Answer("One row per sample.", RunTableSchema, _TABLE_EXAMPLE)}))
def job_summary_json(session_key: str):
    """The run on one page: per sample its status, reason, read pairs, mapping rate, mean
    coverage, variant counts, each HLA gene's two alleles with their confidence, and the report link."""
    return jsonify(current_app.extensions["gems"].jobs.run_table(session_key))


@bp.get("/job/<session_key>/summary.tsv")
@owner_only("session_key")
@documented(
    Operation(
        responses={
            200: Answer(
                "The same table as TSV (a header row, then one row per sample).",
                {"type": "string"},
                "sample\tstatus\treason\t...\tA allele1\tA allele2\tA confidence\t...\treport_url\n",
                media="text/tab-separated-values",
            )
        }
    )
)
def job_summary_tsv(session_key: str):
    """The run on one page as TSV, for a spreadsheet: the columns of summary.json, one per HLA
    gene's allele1, allele2 and confidence."""
    text = to_tsv(current_app.extensions["gems"].jobs.run_table(session_key))
    return Response(
        text,
        mimetype="text/tab-separated-values",
        headers={"Content-Disposition": f'attachment; filename="gems-{session_key}-summary.tsv"'},
    )


@bp.get("/job/<session_key>/hla.xml")
@owner_only("session_key")
@documented(
    Operation(
        responses={
            200: Answer(
                "HML 1.0.1: per finished sample, each locus's GL String and haploids, the reads' "
                "consensus sequence of each called allele with its variants, and gems' flag.",
                {"type": "string"},
                '<?xml version="1.0" encoding="UTF-8"?>\n<hml xmlns="http://schemas.nmdp.org/spec/hml/1.0.1" '
                'version="1.0.1" project-name="gems">...</hml>\n',
                media="application/xml",
            )
        },
        errors=(404, 409),
    )
)
def job_hla_xml(session_key: str):
    """The job's HLA typing as one HML 1.0.1 document (NMDP's exchange format), built from each
    finished sample's MIRING record. 404 for a job without HLA typing, 409 until a sample has one."""
    return Response(
        current_app.extensions["gems"].jobs.hla_xml(session_key),
        mimetype="application/xml",
        headers={"Content-Disposition": f'attachment; filename="gems-{session_key}-hla.xml"'},
    )
