"""EC2: launch, tag, read tags in one page loop, stop/terminate a job's instances."""

from __future__ import annotations

import logging
import time
import weakref
from collections import defaultdict
from dataclasses import dataclass

from botocore.exceptions import ClientError

import gems.tags
from gems.capacity import SPOT_REFUSED, Capacity, on_demand_instead
from gems.errors import UnavailableError
from gems.volumes import ROOT_DEVICE

log = logging.getLogger(__name__)

# Real EC2 is eventually consistent just after RunInstances: a new ID may be NotFound for a while.
_NOT_FOUND = {"InvalidInstanceID.NotFound", "InvalidInstanceID.Malformed"}
_CAPACITY = {"InsufficientInstanceCapacity", "RequestLimitExceeded", "Throttling", "InstanceLimitExceeded"}


def _code(exc: ClientError) -> str:
    return exc.response.get("Error", {}).get("Code", "")


def retry(call, *, codes: set[str], attempts: int = 6, base: float = 0.25, what: str = "EC2 call"):
    for attempt in range(1, attempts + 1):
        try:
            return call()
        except ClientError as exc:
            if _code(exc) not in codes or attempt == attempts:
                raise
            delay = base * 2 ** (attempt - 1)
            log.info("%s: %s, retrying in %.2fs", what, _code(exc), delay)
            time.sleep(delay)
    raise AssertionError("unreachable")


def run_instance(ec2, request: dict, *, attempts: int = 5, base: float = 0.5) -> str:
    """Send one RunInstances request; back off on capacity/throttling, then a clear 503."""
    try:
        resp = retry(lambda: ec2.run_instances(**request), codes=_CAPACITY, attempts=attempts, base=base)
    except ClientError as exc:
        if _code(exc) in _CAPACITY:
            raise UnavailableError(
                f"EC2 could not launch workers: {_code(exc)} (retried {attempts} times)"
            ) from exc
        raise
    return resp["Instances"][0]["InstanceId"]


# client -> image id -> its root device name (fixed for an image's life): one lookup per image
# for as long as the client lives (a Lambda container's)
_ROOT_DEVICES: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def root_device(ec2, image_id: str) -> str:
    """The device name of an image's root volume (/dev/xvda, /dev/sda1, ...): a launch that sizes
    the root volume must name it, or EC2 attaches a second, empty volume instead."""
    known = _ROOT_DEVICES.setdefault(ec2, {})
    if image_id not in known:
        images = retry(
            lambda: ec2.describe_images(ImageIds=[image_id])["Images"],
            codes={"RequestLimitExceeded", "Throttling"},
        )
        if not images or not images[0].get("RootDeviceName"):
            raise UnavailableError(f"EC2 image {image_id} was not found or names no root device")
        known[image_id] = images[0]["RootDeviceName"]
    return known[image_id]


def with_root_device(ec2, request: dict) -> dict:
    """`request` with its root volume's placeholder device name (gems.volumes) made the image's."""
    mappings = request.get("BlockDeviceMappings") or []
    if not any(m.get("DeviceName") == ROOT_DEVICE for m in mappings):
        return request
    device = root_device(ec2, request["ImageId"])
    named = [dict(m, DeviceName=device) if m.get("DeviceName") == ROOT_DEVICE else m for m in mappings]
    return dict(request, BlockDeviceMappings=named)


@dataclass(frozen=True)
class Launched:
    instance_id: str
    capacity: Capacity
    note: str = ""  # why it is not what was asked for (spot refused)
    instance_type: str = ""


def launch(ec2, request: dict) -> Launched:
    """Launch one worker as planned. A spot request EC2 cannot fill now is launched on-demand
    at once (a job waiting for spot would cost the lab its day), and the note says why."""
    itype = request.get("InstanceType", "")
    request = with_root_device(ec2, request)
    if "InstanceMarketOptions" not in request:
        return Launched(run_instance(ec2, request), Capacity.ON_DEMAND, instance_type=itype)
    try:
        resp = ec2.run_instances(**request)
        return Launched(resp["Instances"][0]["InstanceId"], Capacity.SPOT, instance_type=itype)
    except ClientError as exc:
        if _code(exc) not in SPOT_REFUSED:
            raise
        note = f"spot refused ({_code(exc)}): launched on-demand"
        log.warning("%s", note)
    return Launched(run_instance(ec2, on_demand_instead(request)), Capacity.ON_DEMAND, note, itype)


def create_tags(ec2, instance_ids: list[str], tags: dict[str, str], attempts: int = 6) -> None:
    """`attempts`: 1 for a write the next one supersedes (a heartbeat), which should not wait out
    EC2's throttling."""
    aws_tags = gems.tags.to_aws(tags)
    retry(
        lambda: ec2.create_tags(Resources=instance_ids, Tags=aws_tags),
        codes=_NOT_FOUND | {"RequestLimitExceeded"},
        attempts=attempts,
        what="CreateTags",
    )


def read_gems_tags(ec2, session_key: str | None = None) -> dict[str, dict[str, str]]:
    """All gems tags by instance ID, in one DescribeTags page loop (no per-instance calls).

    With a session key, a first loop finds that job's instances and a second reads their tags.
    """
    filters = [{"Name": "resource-type", "Values": ["instance"]}]
    if session_key:
        ids = [
            t["ResourceId"]
            for t in _tag_pages(
                ec2,
                filters
                + [
                    {"Name": "key", "Values": [gems.tags.SESSION]},
                    {"Name": "value", "Values": [session_key]},
                ],
            )
        ]
        if not ids:
            return {}
        filters = filters + [{"Name": "resource-id", "Values": ids}]
    by_instance: dict[str, dict[str, str]] = defaultdict(dict)
    for tag in _tag_pages(ec2, filters):
        by_instance[tag["ResourceId"]][tag["Key"]] = tag["Value"]
    return {iid: tags for iid, tags in by_instance.items() if gems.tags.SESSION in tags}


def _tag_pages(ec2, filters: list[dict]):
    for page in ec2.get_paginator("describe_tags").paginate(
        Filters=filters, PaginationConfig={"PageSize": 1000}
    ):
        yield from page.get("Tags", [])


def instance_states(ec2, session_key: str) -> dict[str, str]:
    """Instance ID -> state name for one job's instances."""
    filters = [{"Name": f"tag:{gems.tags.SESSION}", "Values": [session_key]}]
    states = {}
    for page in ec2.get_paginator("describe_instances").paginate(Filters=filters):
        for res in page.get("Reservations", []):
            for inst in res.get("Instances", []):
                states[inst["InstanceId"]] = inst["State"]["Name"]
    return states


def terminate(ec2, instance_ids: list[str]) -> list[str]:
    """Terminate instances; already-terminated ones are fine (idempotent)."""
    if not instance_ids:
        return []
    resp = retry(
        lambda: ec2.terminate_instances(InstanceIds=instance_ids), codes=_NOT_FOUND, what="TerminateInstances"
    )
    return [i["InstanceId"] for i in resp.get("TerminatingInstances", [])]


def user_data(ec2, instance_id: str) -> str | None:
    import base64

    attr = ec2.describe_instance_attribute(InstanceId=instance_id, Attribute="userData")
    raw = attr.get("UserData", {}).get("Value")
    return base64.b64decode(raw).decode() if raw else None
