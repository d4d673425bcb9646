"""A job's pipeline options on a worker: its inputs checked again and fetched to this disk once, the
reference indexed (and its indexes shared in S3), the index store and the lake target."""

from __future__ import annotations

import os
from pathlib import Path

import gems.records
from gems.aws.clients import Clients, client
from gems.config import Config
from gems.plan import JobRequest, check_request
from workers.pipeline.framework import PipelineOptions
from workers.pipeline.lake import LakeTarget
from workers.program.fetch import fetch_reference, share_reference_index
from workers.program.indexstore import S3IndexStore


def job_options(
    config: Config, clients: Clients, job: gems.records.JobRecord, session_key: str, cache: Path
) -> PipelineOptions:
    opts = job.options
    # Checked at submit; checked again here, where a bad URL would touch this disk and bucket.
    check_request(
        config,
        JobRequest(
            bucket=job.bucket,
            prefix=job.prefix,
            hla_class=job.hla_class,
            reference=job.reference,
            options=opts,
        ),
    )
    s3, bucket = clients.s3, job.bucket
    reference = fetch_reference(s3, job.reference, bucket, cache, "reference")
    share_reference_index(s3, job.reference, bucket, reference)
    return PipelineOptions(
        reference=reference,
        hla_reference=fetch_reference(s3, opts.get("hla_reference"), bucket, cache, "options.hla_reference"),
        hla_class=str(job.hla_class) if job.hla_class else None,
        targets=fetch_reference(s3, opts.get("targets"), bucket, cache, "options.targets"),
        annotation=fetch_reference(s3, opts.get("annotation"), bucket, cache, "options.annotation"),
        threads=int(opts.get("threads") or os.cpu_count() or 1),
        trim=bool(opts.get("trim", False)),
        min_read_length=int(opts.get("min_read_length", 30)),
        index_store=S3IndexStore(s3, config.state_bucket),  # an index another worker built, not built again
        # The stage's lake, with Glue on AWS to register the partitions for Athena.
        lake=LakeTarget.on_s3(
            s3,
            config.lake_bucket,
            session_key,
            glue=None if config.endpoint_url else client(config, "glue"),
        ),
    )
