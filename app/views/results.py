"""GET /job/<session_key>/results: a job's result files with pre-signed download links."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify

from app.auth import owner_only
from gems.results import list_results

bp = Blueprint("results", __name__)


@bp.get("/job/<session_key>/results")
@owner_only("session_key")
def job_results(session_key: str):
    """List a job's result files per sample, each with a pre-signed S3 URL valid for an hour."""
    services = current_app.extensions["gems"]
    job = services.jobs.get(session_key)
    return jsonify(list_results(services.clients.s3, job))
