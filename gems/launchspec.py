"""What EC2 is asked to launch for one worker (pure): the RunInstances request, and the
environment its user-data exports for the worker program."""

from __future__ import annotations

import gems.tags
from gems.capacity import Capacity, market_options
from gems.config import Config
from gems.volumes import Volume


def run_instances_request(
    config: Config,
    tags: dict[str, str],
    user_data: str,
    capacity: Capacity,
    volume: Volume | None,
    client_token: str,
) -> dict:
    """RunInstances for one worker: the stage's image, type, network and role; the worker's tags
    (on its volume too: the job's and its name), user-data, capacity and root volume."""
    tag_list = gems.tags.to_aws(tags)
    request: dict = {
        "ImageId": config.ami_id,
        "InstanceType": config.instance_type,
        "MinCount": 1,
        "MaxCount": 1,
        "UserData": user_data,
        "ClientToken": client_token,
        "InstanceInitiatedShutdownBehavior": "terminate",
        "MetadataOptions": {"HttpTokens": "required", "InstanceMetadataTags": "enabled"},
        "TagSpecifications": [
            {"ResourceType": "instance", "Tags": tag_list},
            {
                "ResourceType": "volume",
                "Tags": [t for t in tag_list if t["Key"] in (gems.tags.SESSION, gems.tags.NAME)],
            },
        ],
    }
    if volume is not None:
        request["BlockDeviceMappings"] = [volume.mapping()]
    if market := market_options(capacity):
        request["InstanceMarketOptions"] = market
    if config.instance_profile:
        request["IamInstanceProfile"] = {"Name": config.instance_profile}
    if config.subnet_id:
        request["SubnetId"] = config.subnet_id
    if config.security_group_ids:
        request["SecurityGroupIds"] = list(config.security_group_ids)
    return request


def worker_env(config: Config, session_key: str, index: int, token: str) -> dict[str, str]:
    """What the user-data exports for the worker program: its job, its place in it, its token
    and the stage's settings a worker reads."""
    env = {
        "GEMS_SESSION_KEY": session_key,
        "GEMS_INSTANCE_INDEX": str(index),
        "GEMS_JOB_TOKEN": token,
        "GEMS_API": config.api_url,
        "GEMS_STATE_BUCKET": config.state_bucket,
        "GEMS_LAKE_BUCKET": config.lake_bucket,
        "GEMS_REFERENCE_BUCKETS": ",".join(config.reference_buckets),
        "AWS_DEFAULT_REGION": config.region,
        "GEMS_WORKER_SOURCE": config.worker_source,
        "GEMS_HEARTBEAT_TIMEOUT": str(config.heartbeat_timeout_s),
        "GEMS_TAG_WRITES_PER_S": str(config.tag_writes_per_s),
        "GEMS_MAX_RUNTIME": str(config.max_runtime_s),
        "GEMS_SPOT_POLL_S": str(config.spot_poll_s),
    }
    if config.endpoint_url:
        env["AWS_ENDPOINT_URL"] = config.endpoint_url
    return env
