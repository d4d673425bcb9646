"""What `gems deploy` is told, checked before anything in the account changes.

`check` is pure: shapes only, one error naming the setting. `locate` then asks the account
(read-only calls) for what shapes cannot tell: that the subnet and the image exist.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from gems.errors import ValidationError
from gems.names import check_bucket

STAGE = re.compile(r"^[a-z][a-z0-9-]{0,19}$")
REGION = re.compile(r"^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d$")
SUBNET = re.compile(r"^subnet-([0-9a-f]{8}|[0-9a-f]{17})$")
AMI = re.compile(r"^ami-([0-9a-f]{8}|[0-9a-f]{17})$")
SSM_NAME = re.compile(r"^/[A-Za-z0-9_./-]{1,1010}$")
INSTANCE_TYPE = re.compile(r"^[a-z][a-z0-9-]*\.[a-z0-9]+$")
# A current Amazon Linux 2023 image, named by AWS's public parameter (kept fresh by AWS).
DEFAULT_AMI = "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64"


@dataclass(frozen=True)
class DeploySettings:
    stage: str = "dev"
    region: str = ""
    data_buckets: tuple[str, ...] = ()
    reference_buckets: tuple[str, ...] = ()
    subnet_id: str = ""  # empty: the default VPC's first subnet
    vpc_id: str = ""  # found from the subnet
    ami: str = DEFAULT_AMI  # an image id, or the SSM parameter that names one
    ami_id: str = ""  # the image `ami` names today (found by locate)
    instance_type: str = "c5.2xlarge"
    max_workers: int = 20

    @property
    def stack_name(self) -> str:
        return f"gems-{self.stage}"

    def with_(self, **changes) -> DeploySettings:
        return replace(self, **changes)


def check_target(s: DeploySettings) -> DeploySettings:
    """The stage and region: all that names a deployment (destroy needs no more)."""
    if not STAGE.match(s.stage):
        raise ValidationError(
            f"stage {s.stage!r}: use 1-20 lower-case letters, digits or '-', starting with a letter",
            field="stage",
        )
    if not s.region:
        raise ValidationError("region: give --region or set AWS_DEFAULT_REGION", field="region")
    if not REGION.match(s.region):
        raise ValidationError(
            f"region {s.region!r} is not an AWS region name (like eu-west-1)", field="region"
        )
    return s


def check(s: DeploySettings) -> DeploySettings:
    """Shapes of every setting; raises ValidationError naming the first bad one."""
    check_target(s)
    if not s.data_buckets:
        raise ValidationError(
            "data-bucket: name at least one bucket the lab's FASTQs are in (--data-bucket, repeatable)",
            field="data-bucket",
        )
    for field_, names in (("data-bucket", s.data_buckets), ("reference-bucket", s.reference_buckets)):
        for name in names:
            check_bucket(name, field_)
    if s.subnet_id and not SUBNET.match(s.subnet_id):
        raise ValidationError(
            f"subnet {s.subnet_id!r} is not a subnet id (subnet-0123abcd...)", field="subnet"
        )
    if not (AMI.match(s.ami) or SSM_NAME.match(s.ami)):
        raise ValidationError(
            f"ami {s.ami!r} is neither an image id (ami-...) nor an SSM parameter name (/aws/service/...)",
            field="ami",
        )
    if not INSTANCE_TYPE.match(s.instance_type):
        raise ValidationError(
            f"instance-type {s.instance_type!r} is not an EC2 instance type", field="instance-type"
        )
    if not 1 <= s.max_workers <= 500:
        raise ValidationError("max-workers: between 1 and 500", field="max-workers")
    return s


def locate(s: DeploySettings, ec2, ssm) -> DeploySettings:
    """Read-only account checks: the subnet (default VPC's when none given) and the image."""
    if s.subnet_id:
        found = _call(lambda: ec2.describe_subnets(SubnetIds=[s.subnet_id])["Subnets"], "subnet", s.subnet_id)
    else:
        vpcs = ec2.describe_vpcs(Filters=[{"Name": "isDefault", "Values": ["true"]}])["Vpcs"]
        if not vpcs:
            raise ValidationError("subnet: this region has no default VPC; pass --subnet", field="subnet")
        found = ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpcs[0]["VpcId"]]}])["Subnets"]
        if not found:
            raise ValidationError("subnet: the default VPC has no subnet; pass --subnet", field="subnet")
        found = sorted(found, key=lambda sn: sn["AvailabilityZone"])
    subnet = found[0]
    image = s.ami
    if not AMI.match(image):
        image = _call(lambda: ssm.get_parameter(Name=s.ami)["Parameter"]["Value"], "ami", s.ami)
    if not _call(lambda: ec2.describe_images(ImageIds=[image])["Images"], "ami", image):
        raise ValidationError(f"ami {image!r} does not exist in {s.region}", field="ami")
    return s.with_(subnet_id=subnet["SubnetId"], vpc_id=subnet["VpcId"], ami_id=image)


def _call(fn, field_: str, value: str):
    from botocore.exceptions import ClientError

    try:
        return fn()
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "")
        if "NotFound" in code or "Invalid" in code or code == "ParameterNotFound":
            raise ValidationError(f"{field_} {value!r} does not exist ({code})", field=field_) from exc
        raise
