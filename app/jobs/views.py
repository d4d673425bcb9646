"""The job API: POST /job, GET /job, GET /job/<session_key>."""

from __future__ import annotations

from flask import Blueprint, current_app, g, jsonify, request
from marshmallow import Schema, fields

from app.apidoc import Answer, Operation, documented
from app.auth import caller_reach, optional_caller, owner_only, read_access, require_api_key
from app.jobs.schemas import JOB_EXAMPLE, JOB_REQUEST_EXAMPLE, JobListQuerySchema, JobRequestSchema, JobSchema
from gems.jobs import jobview
from gems.plan import JobRequest
from gems.states import JobStatus

bp = Blueprint("jobs", __name__)
_job = JobSchema()
_jobs = JobSchema(many=True)


class LogsSchema(Schema):
    session_key = fields.String()
    workers = fields.Dict(
        keys=fields.String(), values=fields.String(), metadata={"description": "worker index -> log text"}
    )


def _service():
    return current_app.extensions["gems"].jobs


@bp.post("/job")
@require_api_key
@documented(
    Operation(
        body=JobRequestSchema,
        body_example=JOB_REQUEST_EXAMPLE,
        responses={
            201: Answer(
                "The job was launched.", JobSchema, dict(JOB_EXAMPLE, overall_status=JobStatus.PENDING.value)
            ),
            200: Answer("A replayed Idempotency-Key: the job it started before.", JobSchema, JOB_EXAMPLE),
        },
        errors=(400, 403, 409),
    )
)
def submit_job(body: dict):
    """Start a job: find the read pairs under bucket/prefix and launch its fleet of workers."""
    options = body.pop("options", {})
    req = JobRequest(**body, options=options)
    idem = request.headers.get("Idempotency-Key") or None
    job, created = _service().submit(req, user=g.api_user, reach=caller_reach(), idempotency_key=idem)
    return jsonify(_job.dump(job)), 201 if created else 200


@bp.get("/job")
@read_access
@documented(
    Operation(
        query=JobListQuerySchema,
        responses={200: Answer("Jobs, newest first.", JobSchema(many=True), [JOB_EXAMPLE])},
        errors=(400,),
    )
)
def list_jobs(query: dict):
    """List jobs, newest first, filtered by session_key, bucket, prefix or status. Samples show
    their state only; their figures are in GET /job/<session_key> with the owner's key."""
    return jsonify(_jobs.dump([jobview.public(j) for j in _service().find(**query)]))


@bp.get("/job/<session_key>")
@read_access
@documented(Operation(responses={200: Answer("The job and each worker's samples.", JobSchema, JOB_EXAMPLE)}))
def get_job(session_key: str):
    """One job with its workers and the state of each of their samples; each sample's figures
    and results only for the job's owner (or an admin)."""
    job = _service().detail(session_key)
    caller = optional_caller()
    if caller is None or not _service().is_owner(session_key, caller):
        job = jobview.public(job)
    return jsonify(_job.dump(job))


@bp.get("/job/<session_key>/logs")
@owner_only("session_key")
@documented(
    Operation(
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
    )
)
def job_logs(session_key: str):
    """Each worker's log, as uploaded by the worker after every sample and at the end."""
    logs = _service().logs(session_key)
    return jsonify({"session_key": session_key, "workers": {str(k): v for k, v in logs.items()}})


@bp.post("/job/<session_key>/stop")
@owner_only("session_key")
@documented(
    Operation(
        responses={
            200: Answer(
                "The job, its unfinished workers STOPPED.",
                JobSchema,
                dict(JOB_EXAMPLE, overall_status=JobStatus.STOPPED.value),
            )
        }
    )
)
def stop_job(session_key: str):
    """Stop a job's fleet on a user's behalf; unfinished workers end as STOPPED."""
    return jsonify(_job.dump(_service().lifecycle.terminate(session_key, reason=f"stopped by {g.api_user}")))


@bp.post("/job/<session_key>/retry")
@owner_only("session_key")
@documented(
    Operation(
        responses={
            201: Answer(
                "The new job, of the samples that did not complete.",
                JobSchema,
                dict(JOB_EXAMPLE, overall_status=JobStatus.PENDING.value),
            ),
            200: Answer("This attempt was already retried: that job.", JobSchema, JOB_EXAMPLE),
        },
        errors=(403, 409),
    )
)
def retry_job(session_key: str):
    """Rerun only the samples that failed (or never ran), as a new job linked by options.retry_of."""
    job, created = _service().retry(session_key, user=g.api_user, reach=caller_reach())
    return jsonify(_job.dump(job)), 201 if created else 200
