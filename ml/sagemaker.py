"""SageMaker deploy steps, scripted with boto3 (bring your own container).

model.tar.gz layout (SageMaker unpacks it into /opt/ml/model/, where `python -m ml.serve` looks):
    model.cbm  config.json  manifest.json  metrics.json  [confusion.png]
Names are derived from the version so every step is idempotent and a version maps to exactly one
SageMaker model and one endpoint config; endpoints are switched between configs, never edited.
"""

from __future__ import annotations

import re
import tarfile
from pathlib import Path

from botocore.exceptions import ClientError

from ml import artifacts

PREFIX = "gems-site"
PACKAGED = (
    artifacts.MODEL_FILE,
    artifacts.CONFIG,
    artifacts.MANIFEST,
    artifacts.METRICS,
    artifacts.PLOT,
    artifacts.RELIABILITY,
)


def resource_name(version: str) -> str:
    """SageMaker names: [a-zA-Z0-9-], at most 63 characters."""
    safe = re.sub(r"[^A-Za-z0-9-]", "-", version)
    return f"{PREFIX}-{safe}"[:63].rstrip("-")


def package(model_dir: Path, out: Path) -> Path:
    """Write model.tar.gz with the model directory's files at its root."""
    model_dir = Path(model_dir)
    for name in artifacts.REQUIRED:
        if not (model_dir / name).exists():
            raise FileNotFoundError(f"{model_dir}: {name} is missing, not a model directory")
    partial = Path(out).with_name(Path(out).name + ".partial")
    with tarfile.open(partial, "w:gz") as tar:
        for name in PACKAGED:
            if (model_dir / name).exists():
                tar.add(model_dir / name, arcname=name)
    partial.replace(out)
    return Path(out)


def _exists_error(exc: ClientError) -> bool:
    message = exc.response.get("Error", {}).get("Message", "")
    return "already exist" in message or "Cannot create already existing" in message


def ensure_model(sm, *, version: str, model_data_url: str, image_uri: str, role_arn: str) -> str:
    name = resource_name(version)
    try:
        sm.create_model(
            ModelName=name,
            PrimaryContainer={
                "Image": image_uri,
                "ModelDataUrl": model_data_url,
                "Environment": {"GEMS_MODEL_VERSION": version},
            },
            ExecutionRoleArn=role_arn,
            Tags=[{"Key": "gems:model-version", "Value": version}],
        )
    except ClientError as exc:
        if not _exists_error(exc):
            raise
    return name


def ensure_endpoint_config(
    sm, *, version: str, model_name: str, instance_type: str, instance_count: int = 1
) -> str:
    name = resource_name(version)
    try:
        sm.create_endpoint_config(
            EndpointConfigName=name,
            ProductionVariants=[
                {
                    "VariantName": "AllTraffic",
                    "ModelName": model_name,
                    "InitialInstanceCount": instance_count,
                    "InstanceType": instance_type,
                    "InitialVariantWeight": 1.0,
                }
            ],
            Tags=[{"Key": "gems:model-version", "Value": version}],
        )
    except ClientError as exc:
        if not _exists_error(exc):
            raise
    return name


def _endpoint_exists(sm, endpoint_name: str) -> bool:
    try:
        sm.describe_endpoint(EndpointName=endpoint_name)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in ("ValidationException", "ResourceNotFound"):
            return False
        raise
    return True


def point_endpoint(sm, endpoint_name: str, version: str) -> str:
    """Create the endpoint on the version's config, or switch an existing one to it: 'created'/'updated'."""
    config_name = resource_name(version)
    if _endpoint_exists(sm, endpoint_name):
        sm.update_endpoint(EndpointName=endpoint_name, EndpointConfigName=config_name)
        return "updated"
    sm.create_endpoint(EndpointName=endpoint_name, EndpointConfigName=config_name)
    return "created"


def deploy(
    sm,
    *,
    version: str,
    model_data_url: str,
    image_uri: str,
    role_arn: str,
    endpoint_name: str,
    instance_type: str = "ml.m5.large",
) -> dict:
    """create_model + create_endpoint_config + create_endpoint/update_endpoint for one version."""
    model = ensure_model(
        sm, version=version, model_data_url=model_data_url, image_uri=image_uri, role_arn=role_arn
    )
    config = ensure_endpoint_config(sm, version=version, model_name=model, instance_type=instance_type)
    action = point_endpoint(sm, endpoint_name, version)
    return {"model": model, "endpoint_config": config, "endpoint": endpoint_name, "action": action}
