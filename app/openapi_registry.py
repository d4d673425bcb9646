"""What app.openapi cannot read off a route: request/response schemas and examples, per endpoint.

Keyed by Flask endpoint name ("blueprint.view"). A route missing here is still in the document
(docstring, auth, path parameters, standard errors); adding an entry only makes it richer.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from marshmallow import Schema, fields

from app.predict.schemas import AnswerSchema, BatchSchema, PatientSchema
from app.schemas.job import JobListQuerySchema, JobRequestSchema, JobSchema, StopRequestSchema
from gems.states import JobStatus, SampleStatus, WorkerStatus


class ErrorSchema(Schema):
    error = fields.String(
        required=True,
        metadata={
            "description": "machine-readable code",
            "enum": [
                "invalid_request",
                "unauthorized",
                "forbidden",
                "not_found",
                "conflict",
                "unavailable",
                "bad_input",
                "internal_error",
            ],
        },
    )
    message = fields.String(required=True, metadata={"description": "one line a person can act on"})
    field = fields.String(metadata={"description": "the request field at fault, when there is one"})
    details = fields.Dict(metadata={"description": "more about the error, e.g. every field's messages"})


class HealthSchema(Schema):
    status = fields.String(metadata={"example": "ok"})
    service = fields.String()
    version = fields.String()


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


class LogsSchema(Schema):
    session_key = fields.String()
    workers = fields.Dict(
        keys=fields.String(), values=fields.String(), metadata={"description": "worker index -> log text"}
    )


@dataclass(frozen=True)
class Answer:
    description: str
    schema: object = None  # a marshmallow Schema class, a component name's $ref dict or a plain JSON schema
    example: object = None
    html: bool = False


@dataclass(frozen=True)
class Operation:
    body: object = None
    body_example: object = None
    query: object = None
    responses: dict = field(default_factory=dict)
    errors: tuple[int, ...] = ()
    html: bool = False
    form: object = None  # a schema for an application/x-www-form-urlencoded body (HTML forms)


SCHEMAS: dict[str, type[Schema]] = {
    "Error": ErrorSchema,
    "Health": HealthSchema,
    "JobRequest": JobRequestSchema,
    "Job": JobSchema,
    "StopRequest": StopRequestSchema,
    "Results": ResultsSchema,
    "Logs": LogsSchema,
    "Patient": PatientSchema,
    "Batch": BatchSchema,
    "Prediction": AnswerSchema,
}

ERRORS: dict[int, tuple[str, str, dict]] = {
    400: (
        "invalid_request",
        "A request field is missing or wrong; `field` names it.",
        {
            "error": "invalid_request",
            "field": "hla_class",
            "message": "hla_class: Must be one of: 1, 2.",
            "details": {"fields": {"hla_class": ["Must be one of: 1, 2."]}},
        },
    ),
    401: (
        "unauthorized",
        "No API key, or not a valid one.",
        {
            "error": "unauthorized",
            "field": "Authorization",
            "message": "missing API key: send 'Authorization: Bearer <key>'",
        },
    ),
    403: (
        "forbidden",
        "The key is valid but may not do this.",
        {
            "error": "forbidden",
            "field": "Authorization",
            "message": "this needs an admin key (gems keys create NAME --admin)",
        },
    ),
    404: (
        "not_found",
        "No such job (or file).",
        {"error": "not_found", "field": "session_key", "message": "no job with session_key 'f00'"},
    ),
    409: (
        "conflict",
        "The same bucket/prefix already has a job running.",
        {
            "error": "conflict",
            "field": "prefix",
            "message": "gems-demo/demo/ already has a running job 3f2c...; stop it or wait",
        },
    ),
    413: (
        "request_entity_too_large",
        "The body is over this route's limit (1 MiB; /predict 16 MiB; TES create 4 MiB).",
        {
            "error": "request_entity_too_large",
            "message": "the request body is over 1024 KiB, this route's limit",
        },
    ),
    422: (
        "bad_input",
        "The input data (reads, references) cannot be used.",
        {"error": "bad_input", "message": "reads.fastq.gz is not gzip"},
    ),
    429: (
        "too_many_requests",
        "Too many failed API key attempts from this address; wait Retry-After seconds.",
        {
            "error": "too_many_requests",
            "field": "Authorization",
            "message": "too many failed API key attempts from this address; try again in 42 s",
            "details": {"retry_after_s": 42},
        },
    ),
    503: (
        "unavailable",
        "A backing service (the model, BaseSpace) did not answer; retry later.",
        {
            "error": "unavailable",
            "message": "the model is unavailable after 4 attempts: model server unreachable",
        },
    ),
    500: (
        "internal_error",
        "A bug: the server logged it.",
        {"error": "internal_error", "message": "internal server error"},
    ),
}

JOB_EXAMPLE: dict[str, Any] = {
    "session_key": "cbb3a6d176c94146a4ff0e53ca8eba91",
    "bucket": "gems-demo",
    "prefix": "demo/",
    "hla_class": 1,
    "overall_status": JobStatus.RUNNING.value,
    "created": "2026-11-25T21:43:22Z",
    "results_prefix": "demo/results/cbb3a6d176c94146a4ff0e53ca8eba91/",
    "workers": [
        {
            "instance_id": "i-eddc1da200149c546",
            "instance_index": 0,
            "samples": ["NA12878"],
            "status": WorkerStatus.RUNNING.value,
            "step": "NA12878: align 40%",
            "updated": "2026-11-25T21:43:30Z",
            "progress": "0/1",
            "reason": "",
            "sample_status": {
                "NA12878": {"status": SampleStatus.RUNNING.value, "step": "align", "reason": ""}
            },
        }
    ],
}
JOB_REQUEST_EXAMPLE = {
    "bucket": "gems-demo",
    "prefix": "demo/",
    "hla_class": 1,
    "samples": ["NA12878"],
    "workers": 1,
    "reference": "s3://gems-demo/references/demo.fa",
    "options": {"annotation": "s3://gems-demo/references/demo.gff3", "threads": 1},
}
PATIENT_EXAMPLE = {
    "mutations": [{"gene": "KRAS", "variant_class": "Missense_Mutation", "protein_change": "p.G12D"}],
    "mutated_genes": ["APC", "TP53"],
    "age_at_diagnosis": 64,
    "sex": "female",
    "race": "white",
    "prior_malignancy": False,
}
PREDICTION_EXAMPLE = {
    "model_version": "2026-11-25-catboost",
    "served_by": "local:http://127.0.0.1:8002",
    "predictions": [
        {
            "patient_id": None,
            "top": [
                {"site": "colorectal", "probability": 0.81},
                {"site": "stomach", "probability": 0.07},
                {"site": "pancreas", "probability": 0.05},
            ],
            "probabilities": {"colorectal": 0.81, "stomach": 0.07, "pancreas": 0.05},
        }
    ],
    "note": "Not a diagnosis. ...",
}

_job = {"$ref": "#/components/schemas/Job"}
OPERATIONS: dict[str, Operation] = {
    "health.health": Operation(
        responses={
            200: Answer(
                "The API is up.", HealthSchema, {"status": "ok", "service": "gems", "version": "0.1.0"}
            )
        }
    ),
    "jobs.submit_job": Operation(
        body=JobRequestSchema,
        body_example=JOB_REQUEST_EXAMPLE,
        responses={
            201: Answer(
                "The job was launched.", _job, dict(JOB_EXAMPLE, overall_status=JobStatus.PENDING.value)
            ),
            200: Answer("A replayed Idempotency-Key: the job it started before.", _job, JOB_EXAMPLE),
        },
        errors=(400, 409),
    ),
    "jobs.list_jobs": Operation(
        query=JobListQuerySchema,
        responses={200: Answer("Jobs, newest first.", {"type": "array", "items": _job}, [JOB_EXAMPLE])},
        errors=(400,),
    ),
    "jobs.get_job": Operation(
        responses={200: Answer("The job and each worker's samples.", _job, JOB_EXAMPLE)}
    ),
    "jobs.job_logs": Operation(
        responses={
            200: Answer(
                "Each worker's log.",
                LogsSchema,
                {
                    "session_key": JOB_EXAMPLE["session_key"],
                    "workers": {"0": "21:43:23 INFO NA12878: fetch\n"},
                },
            )
        }
    ),
    "jobs.stop_job": Operation(
        responses={
            200: Answer(
                "The job, its unfinished workers STOPPED.",
                _job,
                dict(JOB_EXAMPLE, overall_status=JobStatus.STOPPED.value),
            )
        }
    ),
    "results.job_results": Operation(
        responses={
            200: Answer(
                "Result files per sample with pre-signed links.",
                ResultsSchema,
                {
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
                },
            )
        }
    ),
    "stop.stop_instances": Operation(
        body=StopRequestSchema,
        body_example={"session_key": JOB_EXAMPLE["session_key"], "token": "<the job's worker token>"},
        responses={
            200: Answer(
                "The job, its fleet terminated.",
                _job,
                dict(JOB_EXAMPLE, overall_status=JobStatus.STOPPED.value),
            )
        },
        errors=(400, 401, 403, 404),
    ),
    "predict.predict": Operation(
        body={"oneOf": [{"$ref": "#/components/schemas/Patient"}, {"$ref": "#/components/schemas/Batch"}]},
        body_example=PATIENT_EXAMPLE,
        responses={200: Answer("The top sites with probabilities.", AnswerSchema, PREDICTION_EXAMPLE)},
        errors=(400, 503),
    ),
    "openapi.openapi_json": Operation(responses={200: Answer("This document.", {"type": "object"})}),
    "openapi.docs": Operation(html=True, responses={200: Answer("Swagger UI", html=True)}),
}


def register(endpoint: str, operation: Operation) -> None:
    """Let a blueprint describe its own endpoints (call at import time of its views module)."""
    OPERATIONS[endpoint] = operation
