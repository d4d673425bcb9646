"""GA4GH TES v1.1 at /ga4gh/tes/v1: service-info, tasks (list, create, get) and :cancel.

Every task is a gems job (task id = session key), so jobs submitted through POST /job show up
here too. The task document a TES client sent is kept beside the job, in the state bucket under
tes/tasks/<id>.json, written before the job so every TES job that can be listed has it.
"""

from __future__ import annotations

import base64
import binascii
import json
import uuid

from flask import Blueprint, current_app, g, jsonify

import gems
from app.apidoc import documented
from app.auth import authenticate, caller_reach, owner_only, read_access, require_api_key
from app.tes import mapping
from app.tes import openapi as docs
from gems.aws import s3 as S3
from gems.callbacks.rules import check_url, shown
from gems.errors import ForbiddenError, NotFoundError, ValidationError
from gems.plan import new_session_key

bp = Blueprint("tes", __name__, url_prefix="/ga4gh/tes/v1")
_MISSING = object()
_CACHE_LIMIT = 10000


def _services():
    return current_app.extensions["gems"]


def _doc_key(task_id: str) -> str:
    return f"tes/tasks/{task_id}.json"


def _stored(task_id: str) -> dict | None:
    """The TES document of a task, cached: it is written once, before its job exists."""
    cache = current_app.extensions.setdefault("gems_tes_docs", {})
    hit = cache.get(task_id, _MISSING)
    if hit is _MISSING:
        services = _services()
        hit = S3.get_json(services.clients.s3, services.config.state_bucket, _doc_key(task_id))
        if len(cache) >= _CACHE_LIMIT:
            cache.clear()
        cache[task_id] = hit
    return hit


def _outputs(job: dict) -> list[dict]:
    s3 = _services().clients.s3
    return [
        {
            "url": f"s3://{job['bucket']}/{obj['Key']}",
            "path": obj["Key"][len(job["results_prefix"]) :],
            "size_bytes": str(obj["Size"]),
        }
        for obj in S3.list_keys(s3, job["bucket"], job["results_prefix"])
    ]


def _task(job: dict, view: str, *, full_ok: bool = False) -> dict:
    """A task at `view`; FULL (worker logs, result files) only when `full_ok` (the caller owns the
    task or is an admin), else BASIC: another user's task in a FULL list."""
    if view == "MINIMAL":
        return mapping.task_view(job, None, view)
    stored = _stored(job["session_key"])
    if view == "FULL" and not full_ok:
        view = "BASIC"
    if view != "FULL":
        return mapping.task_view(job, stored, view)
    jobs = _services().jobs
    return mapping.task_view(
        job, stored, view, worker_logs=jobs.logs(job["session_key"]), outputs=_outputs(job)
    )


@bp.get("/service-info")
@documented(docs.SERVICE_INFO)
def service_info():
    """Who this TES is (GA4GH service-info, TES flavour)."""
    config = current_app.config["GEMS"]
    return jsonify(
        {
            "id": "org.gems.tes",
            "name": "gems TES facade",
            "type": {"group": "org.ga4gh", "artifact": "tes", "version": "1.1.0"},
            "description": "Runs the gems read-pair pipeline (QC, alignment, variants, HLA typing) as TES tasks; "
            "executors are recorded, not run. See docs/interop-ops.md for the mapping.",
            "organization": {"name": "gems", "url": "https://github.com/gems"},
            "documentationUrl": "https://github.com/gems/gems/blob/main/docs/interop-ops.md",
            "createdAt": "2026-11-25T00:00:00Z",
            "updatedAt": "2026-11-25T00:00:00Z",
            "environment": "embedded" if config.endpoint_url else "aws",
            "version": gems.__version__,
            "storage": [f"s3://{config.state_bucket}"],
            "tesResources_backend_parameters": [],
        }
    )


def _page_token(job: dict) -> str:
    raw = json.dumps([job["created"], job["session_key"]]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _after(token: str) -> tuple[str, str]:
    try:
        created, key = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        return str(created), str(key)
    except (binascii.Error, ValueError, TypeError, UnicodeDecodeError):
        raise ValidationError("page_token: not a token this server gave out", field="page_token") from None


@bp.get("/tasks")
@read_access
@documented(docs.LIST_TASKS)
def list_tasks(query: dict):
    """Tasks newest first, `page_size` at a time; `next_page_token` while more remain."""
    q = query
    caller = authenticate() if q["view"] == "FULL" else None  # logs and results are their owner's
    keys, values = q.get("tag_key") or [], q.get("tag_value") or []
    if len(values) > len(keys):
        raise ValidationError("tag_value: more values than tag_key entries", field="tag_value")
    jobs = _services().jobs.find()
    if "page_token" in q:
        last = _after(q["page_token"])
        jobs = [j for j in jobs if (j["created"], j["session_key"]) < last]
    needs_doc = bool(q.get("name_prefix") or keys)
    page: list[dict] = []
    next_token = None
    for job in jobs:
        if "state" in q and mapping.tes_state(job) != q["state"]:
            continue
        if needs_doc:
            full = mapping.task_view(job, _stored(job["session_key"]), "BASIC")
            if not full["name"].startswith(q.get("name_prefix", "")):
                continue
            tags = full["tags"]
            if any(k not in tags or (i < len(values) and tags[k] != values[i]) for i, k in enumerate(keys)):
                continue
        if len(page) == q["page_size"]:
            next_token = _page_token(page[-1])
            break
        page.append(job)
    tasks = [
        _task(job, q["view"], full_ok=bool(caller) and _services().jobs.is_owner(job["session_key"], caller))
        for job in page
    ]
    body: dict = {"tasks": tasks}
    if next_token:
        body["next_page_token"] = next_token
    return jsonify(body)


@bp.post("/tasks")
@require_api_key
@documented(docs.CREATE_TASK)
def create_task(body: dict):
    """Create a task: a gems job over the task's S3 read files. Answers {"id": <session key>}."""
    task = body
    req = mapping.job_request(task)
    services = _services()
    # The session key is derived before submitting so the task document is in place first.
    idem = f"tes:{uuid.uuid4().hex}"
    task_id = new_session_key(g.api_user, idem)
    doc = {k: v for k, v in task.items() if k not in ("id", "state", "logs", "creation_time")}
    if req.callback_url:  # checked under the name the client gave it; its path may hold a token
        check_url(
            req.callback_url,
            embedded=services.config.embedded,
            own_ports=services.config.own_ports,
            field_name="tags.callback_url",
        )
        doc["tags"] = dict(doc["tags"], callback_url=shown(req.callback_url))

    def store_doc() -> None:  # after every check of the request, before the job's first record
        S3.put_json(services.clients.s3, services.config.state_bucket, _doc_key(task_id), doc)

    try:
        job, _ = services.jobs.submit(
            req, user=g.api_user, reach=caller_reach(), idempotency_key=idem, before_write=store_doc
        )
    except ForbiddenError as exc:  # outside the key's scopes: named as the task names its reads
        if exc.field in ("bucket", "prefix"):
            raise ForbiddenError(exc.message.replace(f"{exc.field}:", "inputs:", 1), field="inputs") from None
        raise
    except Exception:
        if not _job_exists(task_id):  # a failed launch still leaves its job, and the job its task
            S3.delete_key(services.clients.s3, services.config.state_bucket, _doc_key(task_id))
            current_app.extensions.get("gems_tes_docs", {}).pop(task_id, None)
        raise
    secret = {"callback_secret": job["callback_secret"]} if "callback_secret" in job else {}
    return jsonify({"id": job["session_key"]} | secret)


def _job_exists(task_id: str) -> bool:
    try:
        _services().jobs.get(task_id)
        return True
    except NotFoundError:
        return False


@bp.get("/tasks/<task_id>")
@read_access
@documented(docs.GET_TASK)
def get_task(task_id: str, query: dict):
    """One task at the requested view (MINIMAL by default, as the spec says).

    FULL carries the workers' logs and the result files: it needs the owner's key (or an admin's);
    without a key it is a 401, with another user's key the 404 of an unknown task.
    """
    q = query
    if q["view"] == "FULL":
        _services().jobs.check_owner(task_id, authenticate())
    job = _services().jobs.detail(task_id) if q["view"] != "MINIMAL" else _services().jobs.get(task_id)
    return jsonify(_task(job, q["view"], full_ok=True))


@bp.post("/tasks/<task_id>:cancel")
@owner_only("task_id")
@documented(docs.CANCEL_TASK)
def cancel_task(task_id: str):
    """Stop the job's instances; unfinished workers end STOPPED (the task CANCELED). Idempotent."""
    jobs = _services().jobs
    jobs.lifecycle.terminate(task_id, reason=f"canceled through TES by {g.api_user}")
    return jsonify({})
