"""The files a job names besides its reads (reference, targets, annotation, HLA reference),
checked at submit: one that is not in S3 is a 400 naming its field, and nothing launches (a
worker would otherwise boot, bill, and fail at "preparing references")."""

from __future__ import annotations

from botocore.exceptions import ClientError

from gems.aws import s3 as S3
from gems.config import Config
from gems.errors import ValidationError
from gems.plan import JobRequest, inputs


def check_inputs_exist(s3, config: Config, request: JobRequest) -> None:
    """ValidationError naming the field of the first input that is not in S3. A bucket the API may
    not list (a shared reference bucket of another account) is left to the worker, which reads it."""
    for field, bucket, key in inputs(config, request):
        try:
            found = S3.listed(s3, bucket, key)
        except ClientError:
            continue
        if not found:
            raise ValidationError(f"{field}: s3://{bucket}/{key} does not exist", field=field)
