"""TES task <-> gems job, both ways (pure: no Flask, no AWS).

A TES task names files and a container command; gems runs one fixed pipeline over the read
pairs of one S3 folder. So a task maps onto a job like this:
- inputs: s3:// URLs of `*_R1*`/`*_R2*` fastq.gz files in one folder (bucket/prefix; the listed
  samples only), or one DIRECTORY input (every pair in it). An input named `reference` (or a
  FASTA by its suffix) is the reference; inputs named `hla_reference`, `targets`, `annotation`
  become those pipeline options.
- hla_class (1 or 2), workers and reference may also come from `tags` or the first executor's
  `env` (HLA_CLASS, GEMS_WORKERS, REFERENCE).
- `tags.callback_url` is the job's callback_url (its secret comes once, beside the new task's id).
- executors' image and command are recorded and shown back, not run: gems runs its own worker.
- outputs are recorded; results always go to the job's results prefix, which the task's logs
  list (`logs[0].outputs`).
"""

from __future__ import annotations

import posixpath
import re

from gems import names
from gems.errors import ValidationError
from gems.plan import JobRequest, check_prefix, discover_pairs
from gems.states import JobStatus

_FASTA = re.compile(r"\.(fa|fasta|fna)(\.gz)?$")
OPTION_INPUTS = ("hla_reference", "targets", "annotation")
GEMS_IMAGE = "gems-worker"
GEMS_COMMAND = ["python", "-m", "workers"]


def _s3(url: str | None, field: str) -> tuple[str, str]:
    if not url or not url.startswith("s3://"):
        raise ValidationError(f"{field}: gems reads inputs from S3 only (s3://bucket/key)", field=field)
    bucket, _, key = url[5:].partition("/")
    if not bucket:
        raise ValidationError(f"{field}: {url!r} has no bucket", field=field)
    return names.check_bucket(bucket, field), key


def _setting(task: dict, tag: str, env: str) -> str | None:
    tags = task.get("tags") or {}
    if tags.get(tag) not in (None, ""):
        return tags[tag]
    executors = task.get("executors") or [{}]
    return (executors[0].get("env") or {}).get(env)


def _int_setting(task: dict, tag: str, env: str, *, required: bool) -> int | None:
    value = _setting(task, tag, env)
    if value is None:
        if required:
            raise ValidationError(
                f"tags.{tag}: gems needs {tag} (tag '{tag}' or executor env {env})", field=f"tags.{tag}"
            )
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ValidationError(f"tags.{tag}: must be an integer, not {value!r}", field=f"tags.{tag}") from None


def job_request(task: dict) -> JobRequest:
    """The gems job a TES task asks for; ValidationError names the offending field."""
    resources = task.get("resources") or {}
    if resources.get("backend_parameters_strict") and resources.get("backend_parameters"):
        raise ValidationError(
            "resources.backend_parameters: gems supports none (see service-info)",
            field="resources.backend_parameters",
        )
    inputs = task.get("inputs") or []
    if not inputs:
        raise ValidationError("inputs: list the read files (s3://...) or one DIRECTORY input", field="inputs")
    if any(i.get("content") is not None for i in inputs):
        raise ValidationError("inputs: inline content is not supported; give an s3:// url", field="inputs")
    reference = _setting(task, "reference", "REFERENCE")
    options: dict = {}
    reads: list[tuple[str, str, str]] = []  # (bucket, key, type)
    for n, item in enumerate(inputs):
        field = f"inputs.{n}.url"
        bucket, key = _s3(item.get("url"), field)
        name = (item.get("name") or "").lower()
        if name == "reference" or (item.get("type") != "DIRECTORY" and _FASTA.search(key)):
            reference = item["url"]
        elif name in OPTION_INPUTS:
            options[name] = item["url"]
        else:
            reads.append((bucket, key, item.get("type") or "FILE"))
    if not reads:
        raise ValidationError(
            "inputs: no read files (*_R1*/*_R2* fastq.gz) or DIRECTORY input", field="inputs"
        )
    buckets = {b for b, _, _ in reads}
    if len(buckets) != 1:
        raise ValidationError("inputs: all reads must be in one bucket", field="inputs")
    bucket = buckets.pop()
    directories = [k for _, k, t in reads if t == "DIRECTORY"]
    if directories:
        if len(reads) != 1:
            raise ValidationError("inputs: give one DIRECTORY input or read files, not both", field="inputs")
        prefix, samples = check_prefix(directories[0]), None
    else:
        folders = {posixpath.dirname(k) for _, k, _ in reads}
        if len(folders) != 1 or "" in folders:
            raise ValidationError(
                "inputs: all read files must be in one folder (not the bucket root)", field="inputs"
            )
        prefix = check_prefix(folders.pop())
        pairs = discover_pairs([{"Key": k, "Size": 0} for _, k, _ in reads], prefix)
        if not pairs:
            raise ValidationError(
                "inputs: no *_R1*/*_R2* fastq.gz pairs among the read files", field="inputs"
            )
        samples = sorted(pairs)
    hla_class = _int_setting(task, "hla_class", "HLA_CLASS", required=True)
    if hla_class not in (1, 2):
        raise ValidationError("tags.hla_class: must be 1 or 2", field="tags.hla_class")
    return JobRequest(
        bucket=bucket,
        prefix=prefix,
        hla_class=hla_class,
        samples=samples,
        workers=_int_setting(task, "workers", "GEMS_WORKERS", required=False),
        shards=_int_setting(task, "shards", "GEMS_SHARDS", required=False),
        reference=reference,
        options=options,
        callback_url=(task.get("tags") or {}).get("callback_url") or None,
    )


# ---- gems -> TES ------------------------------------------------------------------------------
_SYSTEM = ("launch failed", "worker lost", "worker process exited", "embedded stack was stopped")


def tes_state(job: dict) -> str:
    """gems overall_status (plus the workers' reasons) -> one of the 11 TES states."""
    try:
        status = JobStatus(job["overall_status"])
    except (KeyError, ValueError):
        return "UNKNOWN"
    workers = job.get("workers") or []
    if status is JobStatus.PENDING:
        return "QUEUED"
    if status is JobStatus.RUNNING:
        # Launched but no worker past fetching its first reads yet: still setting up.
        started = any(w["status"] != "PENDING" and not w.get("step", "").endswith(": fetch") for w in workers)
        return "RUNNING" if started else "INITIALIZING"
    if status is JobStatus.COMPLETE:
        return "COMPLETE"
    if status is JobStatus.STOPPED:
        return "CANCELED"
    # FAILED: the infrastructure (instance lost, launch refused) or the analysis itself.
    reasons = [w.get("reason", "") for w in workers if w["status"] == "FAILED"]
    if any(r.startswith(_SYSTEM) or "capacity" in r.lower() for r in reasons):
        return "SYSTEM_ERROR"
    return "EXECUTOR_ERROR"


def default_task(job: dict) -> dict:
    """What a job submitted through POST /job (not TES) looks like as a task."""
    return {
        "name": f"gems {job['bucket']}/{job['prefix']}",
        "inputs": [{"url": f"s3://{job['bucket']}/{job['prefix']}", "type": "DIRECTORY", "name": "reads"}],
        "outputs": [],
        "executors": [{"image": GEMS_IMAGE, "command": GEMS_COMMAND}],
        "tags": {},
    }


def _exit_code(status: str) -> int | None:
    return {"COMPLETE": 0, "FAILED": 1, "STOPPED": 143}.get(status)


def task_view(
    job: dict,
    stored: dict | None,
    view: str,
    *,
    worker_logs: dict[int, str] | None = None,
    outputs: list[dict] | None = None,
) -> dict:
    """The TES task document of one gems job at MINIMAL, BASIC or FULL detail."""
    out = {"id": job["session_key"], "state": tes_state(job)}
    if view == "MINIMAL":
        return out
    task = stored or default_task(job)
    results_url = f"s3://{job['bucket']}/{job['results_prefix']}"
    tags = dict(task.get("tags") or {})  # the client's own, unchanged (filters compare them whole)
    out.update(
        name=task.get("name") or f"gems {job['session_key'][:8]}",
        inputs=[
            {k: v for k, v in i.items() if view == "FULL" or k != "content"} for i in task.get("inputs") or []
        ],
        outputs=task.get("outputs") or [{"url": results_url, "path": "/results", "type": "DIRECTORY"}],
        executors=task.get("executors") or [{"image": GEMS_IMAGE, "command": GEMS_COMMAND}],
        tags=tags,
        creation_time=job["created"],
    )
    for key in ("description", "resources", "volumes"):
        if task.get(key) is not None:
            out[key] = task[key]
    executor_logs = []
    system_logs = []
    for w in job.get("workers") or []:
        code = _exit_code(w["status"])
        # TES requires exit_code in an executor log, so a worker has one only once it has ended.
        if code is not None:
            entry = {"start_time": job["created"], "end_time": w.get("updated") or job.get("finished")}
            entry["exit_code"] = code
            if view == "FULL":
                entry["stdout"] = (worker_logs or {}).get(w["instance_index"], "")
                entry["stderr"] = ""
            executor_logs.append({k: v for k, v in entry.items() if v is not None})
        if w.get("reason"):
            system_logs.append(f"worker {w['instance_index']} ({w.get('instance_id', '')}): {w['reason']}")
    log = {
        "start_time": job["created"],
        "metadata": {
            "gems_session_key": job["session_key"],
            "gems_status": job["overall_status"],
            "hla_class": str(job.get("hla_class")),
            "results": results_url,
            "workers": str(len(job.get("workers") or [])),
        },
        "logs": executor_logs,
        "outputs": outputs or [],
    }
    if job.get("finished"):
        log["end_time"] = job["finished"]
    if view == "FULL":
        log["system_logs"] = system_logs
    out["logs"] = [log]
    return out
