"""Marshmallow schemas of the job API: what POST /job accepts and what GET /job returns."""

from __future__ import annotations

from typing import Any

from marshmallow import EXCLUDE, RAISE, Schema, fields, validate

from gems import alignments, names, sharding
from gems.capacity import Capacity
from gems.plan import MAX_SYSTEM_RETRIES
from gems.states import JobStatus, SampleStatus, WorkerStatus

# S3's bucket naming rules (lowercase letters, digits, dots, hyphens; 3-63 characters).
BUCKET_NAME = validate.Regexp(names.BUCKET_NAME, error="not a valid S3 bucket name")
SESSION_KEY = validate.Regexp(r"^[A-Za-z0-9_\-]{1,64}$", error="not a session key")


class PipelineOptionsSchema(Schema):
    class Meta:
        unknown = RAISE

    hla_reference = fields.String(
        metadata={"description": "s3:// URL or key of an IMGT/HLA reference folder"}
    )
    targets = fields.String(metadata={"description": "s3:// URL or key of a BED of target regions"})
    annotation = fields.String(metadata={"description": "s3:// URL or key of a GFF3 of gene models"})
    trim = fields.Boolean(metadata={"description": "adapter and quality trimming (cutadapt)"})
    threads = fields.Integer(validate=validate.Range(min=1, max=64))
    min_read_length = fields.Integer(validate=validate.Range(min=1, max=1000))
    batch_bases = fields.Integer(
        strict=True,
        validate=validate.Range(min=sharding.MIN_BATCH_BASES, max=sharding.MAX_BATCH_BASES),
        metadata={
            "description": "minimap2's batch in bases (-K), the same for a sample's single and sharded runs; a "
            f"shard holds whole batches; default {sharding.BATCH_BASES:,}: smaller only to shard a small sample"
        },
    )
    alignment_format = fields.String(
        validate=validate.OneOf(alignments.FORMATS),
        metadata={
            "description": "how alignments are kept: bam, or cram against the job's reference (about half the "
            f"size); default cram for a sample over {alignments.CRAM_ABOVE_BYTES >> 30} GiB of FASTQ.gz, else bam"
        },
    )
    retry_of = fields.String(
        validate=SESSION_KEY,
        metadata={"description": "set by POST /job/<key>/retry: the job this one reruns"},
    )


class JobRequestSchema(Schema):
    class Meta:
        unknown = RAISE

    bucket = fields.String(required=True, validate=BUCKET_NAME)
    prefix = fields.String(required=True, validate=validate.Length(min=1, max=512))
    hla_class = fields.Integer(required=True, strict=True, validate=validate.OneOf([1, 2]))
    samples = fields.List(
        fields.String(
            validate=validate.Length(min=1, max=names.SAMPLE_NAME_MAX),
            metadata={"description": f"sample names: {names.SAMPLE_RULE}"},
        ),
        validate=validate.Length(min=1, max=5000),
    )
    workers = fields.Integer(strict=True, validate=validate.Range(min=1))
    shards = fields.Integer(
        strict=True,
        validate=validate.Range(min=1, max=sharding.MAX_SHARDS),
        metadata={
            "description": "how many workers align each sample, in parallel shards that a gather merges (one more "
            "worker per sample splits the reads and gathers); 1: one worker per sample; default: one shard per "
            f"{sharding.BYTES_PER_SHARD >> 30} GiB of FASTQ.gz, at most {sharding.DEFAULT_MAX_SHARDS} (docs/sharding.md)"
        },
    )
    reference = fields.String(
        metadata={"description": "s3:// URL or key (in the job's bucket) of the reference FASTA"}
    )
    options = fields.Nested(PipelineOptionsSchema)
    capacity = fields.String(
        validate=validate.OneOf([c.value for c in Capacity]),
        metadata={
            "description": "how workers are bought: spot (cheaper, may be reclaimed: what is left is "
            "relaunched) or on-demand; default: the deployment's GEMS_CAPACITY"
        },
    )
    system_retries = fields.Integer(
        strict=True,
        validate=validate.Range(min=0, max=MAX_SYSTEM_RETRIES),
        metadata={
            "description": "how often the work of a worker the platform takes (spot reclaim, lost "
            "instance) is relaunched: each sample gets at most 1 + this many attempts; analysis "
            "failures are never retried automatically; default: GEMS_SYSTEM_RETRIES (2)"
        },
    )

    max_cost_usd = fields.Float(
        allow_nan=False,
        validate=validate.Range(min=0, min_inclusive=False, max=1e9),
        metadata={
            "description": "a cost cap in USD (gems.billing.cost's list prices): once the job's workers have "
            "cost this much, nothing is relaunched and the job is stopped with the reason"
        },
    )
    callback_url = fields.String(
        validate=validate.Length(min=1, max=2048),
        metadata={
            "description": "POSTed the job's JSON on each change of its overall status and once at the "
            "end, signed in X-Gems-Signature (sha256=HMAC of the body with callback_secret); https "
            "(http and loopback too in the embedded stack), never a link-local or metadata address"
        },
    )


class WorkerSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    instance_id = fields.String()
    instance_index = fields.Integer()
    samples = fields.List(fields.String())
    status = fields.String(metadata={"enum": [s.value for s in WorkerStatus]})
    step = fields.String()
    updated = fields.String()
    progress = fields.String(metadata={"description": "samples finished / samples"})
    reason = fields.String()
    sample_status = fields.Dict(keys=fields.String(), values=fields.Dict())
    attempt = fields.Integer(metadata={"description": "1, or 2, 3, ... for a relaunch"})
    replaces = fields.Integer(
        allow_none=True, metadata={"description": "the worker index a relaunch took over from"}
    )
    capacity = fields.String(metadata={"description": "spot or on-demand, as launched"})
    capacity_note = fields.String(metadata={"description": "why not what the job asked for"})
    launched = fields.String(metadata={"description": "when its instance was launched"})
    instance_type = fields.String()


class JobSchema(Schema):
    class Meta:
        unknown = EXCLUDE
        ordered = True

    session_key = fields.String()
    bucket = fields.String()
    prefix = fields.String()
    hla_class = fields.Integer(allow_none=True)
    overall_status = fields.String(metadata={"enum": [s.value for s in JobStatus]})
    created = fields.String()
    finished = fields.String()
    results_prefix = fields.String()
    workers = fields.List(fields.Nested(WorkerSchema))
    callback_secret = fields.String(
        metadata={
            "description": "POST /job's 201 answer only, when callback_url was given: the key the "
            "callbacks are signed with; never shown again"
        }
    )
    callback = fields.Dict(
        metadata={
            "description": "GET /job/<key> of a job with a callback_url: url (scheme and host), pending, "
            "delivered, given_up and last_delivery (delivery, event, status, outcome: delivered, "
            "retrying or gave_up; http_status, error, attempts, at, next_attempt)"
        }
    )
    shards = fields.Dict(
        keys=fields.String(),
        values=fields.Dict(),
        metadata={
            "description": "GET /job/<key>: each sharded sample's shard count, and each unit's state, worker and "
            "attempt ('lead': the worker that splits and gathers; '000'...: the shards); `complete`: shards done"
        },
    )
    cost = fields.Dict(
        metadata={
            "description": "GET /job/<key> and finished jobs: usd (instances and their root volumes), "
            "volumes_usd, instance_seconds, by_worker (type, capacity, seconds, usd_per_hour, usd, "
            "volume_gib, volume_usd) and prices (source, as_of, region); list prices of a dated table, "
            "by the second with EC2's 60 s minimum, launch to the worker's end"
        }
    )


class JobListQuerySchema(Schema):
    class Meta:
        unknown = RAISE

    session_key = fields.String(validate=SESSION_KEY)
    bucket = fields.String(validate=BUCKET_NAME)
    prefix = fields.String()
    status = fields.String(validate=validate.OneOf([s.value for s in JobStatus]))


class StopRequestSchema(Schema):
    class Meta:
        unknown = RAISE

    session_key = fields.String(required=True, validate=SESSION_KEY)
    token = fields.String(metadata={"description": "the job's worker token (or send it as a Bearer token)"})


# Examples in the OpenAPI document (app.apidoc), next to the schemas they illustrate.
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
