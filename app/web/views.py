"""The web pages: jobs, a job, a new job, the prediction form (BaseSpace launch in app.web.basespace).

Pages render from the same services the API uses; each page's JavaScript then talks to the JSON
API with the key the user keeps in the browser, so nothing lives on the server between requests.
"""

from __future__ import annotations

from flask import Blueprint, current_app, render_template, request

from app.apidoc import HTML_PAGE, documented
from app.auth import read_access
from app.web import api, basespace, docs, joblist
from gems.config import DEMO_BUCKET, DEMO_PREFIX
from gems.errors import NotFoundError
from gems.jobs import jobview

bp = Blueprint(
    "web",
    __name__,
    template_folder="templates",
    static_folder="static",
    static_url_path="/web/static",
)
bp.register_blueprint(api.bp)
bp.register_blueprint(basespace.bp)


def _jobs_service():
    return current_app.extensions["gems"].jobs


def _config():
    return current_app.config["GEMS"]


@bp.app_context_processor
def _helpers():
    return {
        "duration": joblist.duration,
        "progress": joblist.progress,
        "job_progress": joblist.job_progress,
        "ended": joblist.ended,
    }


def _filters() -> dict:
    status = request.args.get("status", "")
    return {
        "status": status if status in joblist.STATUSES else "",
        "bucket": request.args.get("bucket", "").strip(),
        "since": joblist.parse_day(request.args.get("since")) or "",
        "until": joblist.parse_day(request.args.get("until")) or "",
    }


@bp.get("/")
@bp.get("/jobs")
@documented(HTML_PAGE)
def jobs_page():
    """The jobs list (HTML): filter by status, bucket and creation date; refreshes while jobs run."""
    filters = _filters()
    jobs, needs_key = [], _config().read_requires_key
    if not needs_key:
        found = _jobs_service().find(status=filters["status"] or None, bucket=filters["bucket"] or None)
        jobs = joblist.filter_jobs(found, since=filters["since"] or None, until=filters["until"] or None)
    return render_template(
        "web/jobs.html", jobs=jobs, filters=filters, statuses=joblist.STATUSES, needs_key=needs_key
    )


@bp.get("/jobs/new")
@documented(HTML_PAGE)
def new_job_page():
    """The new-job form (HTML): bucket, prefix, the samples found there, HLA class, workers."""
    config = _config()
    defaults = {"bucket": "", "prefix": "", "reference": "", "annotation": "", "targets": ""}
    if config.embedded:  # the embedded stack's demo data, so a first run needs no typing
        defaults = {
            "bucket": DEMO_BUCKET,
            "prefix": DEMO_PREFIX,
            "reference": f"s3://{DEMO_BUCKET}/references/demo.fa",
            "annotation": f"s3://{DEMO_BUCKET}/references/demo.gff3",
            "targets": f"s3://{DEMO_BUCKET}/references/demo-targets.bed",
        }
    return render_template(
        "web/new_job.html",
        defaults=defaults,
        max_workers=config.max_workers,
        samples_per_worker=config.samples_per_worker,
    )


def _job_context(session_key: str) -> dict:
    job = jobview.public(_jobs_service().detail(session_key))  # an open page: states, not figures
    return {"job": job, "active": joblist.is_active(job)}


@bp.get("/jobs/<session_key>")
@documented(docs.JOB_PAGE)
def job_page(session_key: str):
    """One job (HTML): each worker and sample, current step and progress, timings, failures, results."""
    if _config().read_requires_key:
        return render_template("web/job.html", job=None, session_key=session_key, active=True)
    try:
        context = _job_context(session_key)
    except NotFoundError as exc:
        return render_template("web/not_found.html", message=exc.message), 404
    return render_template("web/job.html", session_key=session_key, **context)


@bp.get("/jobs/<session_key>/workers")
@read_access
@documented(docs.JOB_WORKERS_FRAGMENT)
def job_workers_fragment(session_key: str):
    """The workers section of a job page as an HTML fragment; the page fetches it to refresh itself."""
    return render_template("web/_workers.html", **_job_context(session_key))


@bp.get("/predict/form")
@documented(HTML_PAGE)
def predict_page():
    """The prediction form (HTML): genes, variant classes, clinical facts -> sites as a bar chart."""
    return render_template(
        "web/predict.html",
        job=request.args.get("job", ""),
        sample=request.args.get("sample", ""),
    )
