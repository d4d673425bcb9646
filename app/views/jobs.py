"""The job API: POST /job, GET /job, GET /job/<session_key>."""

from __future__ import annotations

from flask import Blueprint, current_app, g, jsonify, request

from app.auth import owner_only, read_access, require_api_key
from app.schemas.job import JobListQuerySchema, JobRequestSchema, JobSchema
from app.schemas.load import json_body, query
from gems.plan import JobRequest

bp = Blueprint("jobs", __name__)
_job = JobSchema()
_jobs = JobSchema(many=True)


def _service():
    return current_app.extensions["gems"].jobs


@bp.post("/job")
@require_api_key
def submit_job():
    """Start a job: find the read pairs under bucket/prefix and launch its fleet of workers."""
    body = json_body(JobRequestSchema())
    options = body.pop("options", {})
    req = JobRequest(**body, options=options)
    idem = request.headers.get("Idempotency-Key") or None
    job, created = _service().submit(req, user=g.api_user, idempotency_key=idem)
    return jsonify(_job.dump(job)), 201 if created else 200


@bp.get("/job")
@read_access
def list_jobs():
    """List jobs, newest first, filtered by session_key, bucket, prefix or status."""
    filters = query(JobListQuerySchema())
    return jsonify(_jobs.dump(_service().list(**filters)))


@bp.get("/job/<session_key>")
@read_access
def get_job(session_key: str):
    """One job with its workers and the state of each of their samples."""
    return jsonify(_job.dump(_service().detail(session_key)))


@bp.get("/job/<session_key>/logs")
@owner_only("session_key")
def job_logs(session_key: str):
    """Each worker's log, as uploaded by the worker after every sample and at the end."""
    logs = _service().logs(session_key)
    return jsonify({"session_key": session_key, "workers": {str(k): v for k, v in logs.items()}})


@bp.post("/job/<session_key>/stop")
@owner_only("session_key")
def stop_job(session_key: str):
    """Stop a job's fleet on a user's behalf; unfinished workers end as STOPPED."""
    return jsonify(_job.dump(_service().terminate(session_key, reason=f"stopped by {g.api_user}")))


@bp.post("/job/<session_key>/retry")
@owner_only("session_key")
def retry_job(session_key: str):
    """Rerun only the samples that failed (or never ran), as a new job linked by options.retry_of."""
    job, created = _service().retry(session_key, user=g.api_user)
    return jsonify(_job.dump(job)), 201 if created else 200
