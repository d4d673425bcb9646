"""A job's own workers (holding its token) hand over: POST /stop_instances when the last one is
done, POST /relaunch_instances when EC2 is reclaiming one (a spot interruption), POST
/status_changed when one started or ended (the API then sends the job's callback if its status
changed: the worker itself never holds the callback secret)."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, request

from app import limits
from app.apidoc import Answer, Operation, documented
from app.auth import bearer_token
from app.jobs.schemas import JOB_EXAMPLE, JobSchema, StopRequestSchema
from gems.errors import AuthError, ForbiddenError
from gems.states import JobStatus

bp = Blueprint("stop", __name__)


def _token_call(answer: Answer) -> Operation:
    """The one shape of the calls a job's own workers make: its session key and worker token in."""
    return Operation(
        body=StopRequestSchema,
        body_example={"session_key": JOB_EXAMPLE["session_key"], "token": "<the job's worker token>"},
        responses={200: answer},
        errors=(400, 401, 403, 404, 429),  # 429: wrong job tokens are throttled like keys
    )


@bp.post("/stop_instances")
@documented(
    _token_call(
        Answer(
            "The job, its fleet terminated.",
            JobSchema,
            dict(JOB_EXAMPLE, overall_status=JobStatus.STOPPED.value),
        )
    )
)
def stop_instances(body: dict):
    """Terminate the instances of one job; needs that job's worker token; idempotent."""
    return _with_job_token(body, lambda jobs, key, token: jobs.lifecycle.stop(key, token))


@bp.post("/relaunch_instances")
@documented(_token_call(Answer("The job, with any worker relaunched for what was interrupted.", JobSchema)))
def relaunch_instances(body: dict):
    """Relaunch what an interrupted or lost worker of this job left unfinished, within the job's
    system retries; needs that job's worker token; idempotent."""
    return _with_job_token(body, lambda jobs, key, token: jobs.lifecycle.relaunch_for(key, token))


@bp.post("/status_changed")
@documented(_token_call(Answer("The job, its callback sent if its overall status changed.", JobSchema)))
def status_changed(body: dict):
    """A worker of this job started or ended: send the job's callback if its status changed;
    needs that job's worker token; idempotent."""
    return _with_job_token(body, lambda jobs, key, token: jobs.lifecycle.status_changed(key, token))


def _with_job_token(body: dict, call):
    token = body.get("token") or bearer_token()
    if not token:
        raise AuthError(
            "missing job token: send it as 'token' or 'Authorization: Bearer <token>'", field="token"
        )
    try:
        job = call(current_app.extensions["gems"].jobs, body["session_key"], token)
    except ForbiddenError:
        limits.key_throttle().failed(request.remote_addr, field="token")  # counted like a wrong key
        raise
    return jsonify(JobSchema().dump(job))
