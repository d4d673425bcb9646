"""GET /job/<session_key>/results: a job's result files with pre-signed download links."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify
from marshmallow import Schema, fields

from app.apidoc import Answer, Operation, documented
from app.auth import owner_only
from app.jobs.schemas import JOB_EXAMPLE
from gems.results import list_results

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
@documented(
    Operation(
        responses={
            200: Answer("Result files per sample with pre-signed links.", ResultsSchema, _RESULTS_EXAMPLE)
        }
    )
)
@owner_only("session_key")
def job_results(session_key: str):
    """List a job's result files per sample, each with a pre-signed S3 URL valid for an hour."""
    services = current_app.extensions["gems"]
    job = services.jobs.get(session_key)
    return jsonify(list_results(services.clients.s3, job))
