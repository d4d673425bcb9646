"""BaseSpace launch: the page a BaseSpace app launch lands on, and the confirm that starts the job.

BaseSpace sends the user here with `appsessionuri`; without an authorization `code` we send them
to BaseSpace's OAuth consent, which comes back with `code` (and the app session in `state`). The
page shows what will run; the confirm POST re-reads the app session with the token (nothing in
the form is trusted but the token), copies the samples' FASTQs to S3 and submits the job.
No server session: the token travels in the confirm form only.
"""

from __future__ import annotations

import posixpath

from botocore.exceptions import ClientError
from flask import Blueprint, current_app, redirect, render_template, request, url_for

from app.apidoc import documented
from app.web import docs
from app.web.basespace_client import BaseSpace, BaseSpaceSettings, launch_inputs, session_id
from gems import names
from gems.callbacks.rules import check_url
from gems.errors import GemsError, ValidationError
from gems.plan import JobRequest, check_reach, check_request, discover_pairs, select_samples
from gems.scopes import Reach, Scope

bp = Blueprint("basespace", __name__)
COPY_PREFIX = "basespace"


def settings() -> BaseSpaceSettings:
    """Tests may put their own settings in app.config['GEMS_BASESPACE']."""
    return current_app.config.get("GEMS_BASESPACE") or current_app.config["GEMS"].basespace


def _redirect_uri(s: BaseSpaceSettings) -> str:
    return s.redirect_uri or url_for("web.basespace.launch", _external=True)


def _plan(client: BaseSpace, sid: str) -> dict:
    session = client.app_session(sid)
    inputs = launch_inputs(session)
    for sample in inputs["samples"]:
        sample["files"] = [
            {
                "id": str(f["Id"]),
                "name": posixpath.basename(f.get("Name") or ""),
                "size": int(f.get("Size") or 0),
            }
            for f in client.sample_files(sample["id"])
        ]
        if not sample["files"]:
            raise ValidationError(
                f"sample {sample['name']} has no .fastq.gz files in BaseSpace", field="samples"
            )
    user = (session.get("UserCreatedBy") or {}).get("Id") or "unknown"
    return dict(inputs, session_id=sid, user=f"basespace:{user}")


def _page(plan: dict | None, token: str, error: GemsError | None = None, status: int = 200):
    s = settings()
    return (
        render_template(
            "web/basespace.html",
            plan=plan,
            token=token,
            error=error,
            bucket=s.bucket,
            prefix=f"{COPY_PREFIX}/{plan['session_id']}/" if plan else "",
            defaults=s.job_defaults,
            returnurl=request.values.get("returnurl", ""),
        ),
        status,
    )


@bp.get("/basespace/launch")
@documented(docs.BASESPACE_LAUNCH)
def launch():
    """Where a BaseSpace app launch lands: OAuth code -> token, then the page showing what will run."""
    s = settings()
    s.check()
    appsessionuri = request.args.get("appsessionuri") or request.args.get("state") or ""
    sid = session_id(appsessionuri)
    code = request.args.get("code", "")
    client = BaseSpace(s)
    if not code:
        return redirect(client.authorize_url(_redirect_uri(s), state=appsessionuri))
    try:
        token = client.exchange_code(code, _redirect_uri(s))
        return _page(_plan(client, sid), token)
    except GemsError as exc:
        return _page(None, "", exc, exc.status)


def launch_reach(bucket: str, prefix: str, user: str) -> Reach:
    """A launch reads only what it copies (its own folder) and the reference buckets: the
    deployment's job defaults may not point it at the lab's other data."""
    return Reach((Scope(bucket, prefix),), everything=False, user=user)


def _check_before_copy(config, req: JobRequest, plan: dict) -> None:
    """Every check POST /job would make of the files' names and the job's inputs, before any copy."""
    keys = []
    for sample in plan["samples"]:
        for f in sample["files"]:
            if not f["name"] or names.key_problem(f["name"]) or "/" in f["name"]:
                raise ValidationError(
                    f"unusable BaseSpace file name {names.shown(f['name'])}", field="samples"
                )
            keys.append({"Key": req.prefix + f["name"], "Size": f["size"]})
    check_request(config, req)
    if req.callback_url is not None:  # the job defaults may name one
        check_url(req.callback_url, embedded=config.embedded, own_ports=config.own_ports)
    check_reach(config, req, launch_reach(req.bucket, req.prefix, plan["user"]))
    select_samples(discover_pairs(keys, req.prefix), None)


def _copy(client: BaseSpace, s3, bucket: str, prefix: str, plan: dict) -> None:
    for sample in plan["samples"]:
        for f in sample["files"]:
            key = prefix + f["name"]
            try:
                if s3.head_object(Bucket=bucket, Key=key)["ContentLength"] == f["size"]:
                    continue  # a confirm pressed twice copies nothing twice
            except ClientError:
                pass
            with client.open_file(f["id"]) as stream:
                s3.upload_fileobj(stream, bucket, key)


@bp.post("/basespace/launch")
@documented(docs.BASESPACE_CONFIRM)
def confirm():
    """Start the job the launch page showed: copy the samples' FASTQs to S3, then submit the job."""
    s = settings()
    s.check()
    token = request.form.get("token", "")
    if not token:
        raise ValidationError(
            "the launch form carries no BaseSpace token; launch again from BaseSpace", field="token"
        )
    sid = session_id(request.form.get("session_id", ""))
    client = BaseSpace(s, token)
    services = current_app.extensions["gems"]
    plan = None
    try:
        plan = _plan(client, sid)
        prefix = f"{COPY_PREFIX}/{sid}/"
        defaults = dict(s.job_defaults)
        req = JobRequest(
            bucket=s.bucket,
            prefix=prefix,
            hla_class=plan["hla_class"],
            reference=defaults.get("reference"),
            workers=defaults.get("workers"),
            options=dict(defaults.get("options") or {}),
        )
        _check_before_copy(services.config, req, plan)  # a launch that cannot run copies nothing
        _copy(client, services.clients.s3, s.bucket, prefix, plan)
        job, _ = services.jobs.submit(
            req,
            user=plan["user"],
            reach=launch_reach(s.bucket, prefix, plan["user"]),
            idempotency_key=f"basespace-{sid}",
        )
        try:
            client.set_status(sid, "Running", f"gems job {job['session_key']}")
        except GemsError as exc:  # the job runs either way; BaseSpace just shows a stale status
            current_app.logger.warning("could not update BaseSpace app session %s: %s", sid, exc.message)
    except GemsError as exc:
        return _page(plan, token, exc, exc.status)
    return redirect(url_for("web.job_page", session_key=job["session_key"]), code=303)
