"""POST /stop_instances: a job's own workers (holding its token) stop that job's fleet."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify

from app.auth import bearer_token
from app.schemas.job import JobSchema, StopRequestSchema
from app.schemas.load import json_body
from gems.errors import AuthError

bp = Blueprint("stop", __name__)


@bp.post("/stop_instances")
def stop_instances():
    """Terminate the instances of one job; needs that job's worker token; idempotent."""
    body = json_body(StopRequestSchema())
    token = body.get("token") or bearer_token()
    if not token:
        raise AuthError(
            "missing job token: send it as 'token' or 'Authorization: Bearer <token>'", field="token"
        )
    job = current_app.extensions["gems"].jobs.stop(body["session_key"], token)
    return jsonify(JobSchema().dump(job))
