"""The stage template's IAM policies against the AWS calls the code really makes.

Every boto3 call is recorded while the API serves a job's life (submit, read, logs, results,
stop, the sweep) and while a worker runs it, then mapped to its IAM action and the ARN of the
resource it touches: each must be allowed, action and resource, to the role that makes it
(`ApiRole` for the Lambda function, `WorkerRole` for the instance profile), and each role may
allow only what was recorded plus the calls these moto-backed flows cannot reach, listed below
with the reason. moto evaluates no policy, so the template's resources are resolved here (its
`!Sub`, `!Ref`, `!GetAtt`, `!Join`, `!Split` with this test's names); conditions (tag and
source-instance checks) are not evaluated.
"""

from __future__ import annotations

import json
import re
from fnmatch import fnmatch
from pathlib import Path

import botocore.client
import pytest
from cfnlint.decode import decode_str
from jobhelpers import LAB, bearer
from motostack import use_pipeline

from workers.program.worker import Worker

TEMPLATE = Path(__file__).resolve().parents[3] / "gems" / "deploy" / "template.yaml"

# S3 operations whose IAM action has another name.
S3_ACTIONS = {
    "HeadObject": ["s3:GetObject"],
    "HeadBucket": ["s3:ListBucket"],
    "ListObjectsV2": ["s3:ListBucket"],
    "ListObjects": ["s3:ListBucket"],
    "CopyObject": ["s3:GetObject", "s3:PutObject"],
    "CreateMultipartUpload": ["s3:PutObject"],
    "UploadPart": ["s3:PutObject"],
    "CompleteMultipartUpload": ["s3:PutObject"],
    "DeleteObjects": ["s3:DeleteObject"],
}

# Allowed but not reached by these flows, and why each is still needed on AWS.
NOT_EXERCISED = {
    "ApiRole": {
        "iam:PassRole": "RunInstances with the worker instance profile (the test config launches none)",
        "sagemaker:InvokeEndpoint": "/predict on AWS (the embedded stack serves the model locally)",
        "athena:StartQueryExecution": "lake questions on AWS (embedded: DuckDB)",
        "athena:GetQueryExecution": "lake questions on AWS",
        "athena:GetQueryResults": "lake questions on AWS",
        "athena:StopQueryExecution": "lake questions on AWS (deadline passed)",
        "glue:GetDatabase": "Athena reads the lake's catalog as the caller",
        "glue:GetTable": "Athena reads the lake's catalog as the caller",
        "glue:GetPartitions": "Athena reads the lake's catalog as the caller",
        "s3:GetBucketLocation": "Athena writes query results to the lake bucket",
        "s3:PutObject": "Athena query results under the lake bucket",
        "s3:DeleteObject": "clearing the idempotency lock of a failed submit",
        "logs:CreateLogGroup": "the Lambda runtime's own logs",
        "logs:CreateLogStream": "the Lambda runtime's own logs",
        "logs:PutLogEvents": "the Lambda runtime's own logs",
        "ec2:DescribeTags": "tag reads outside DescribeInstances",
        "ec2:DescribeSpotPriceHistory": "a spot job's cost at live prices (the recorded job is on-demand)",
    },
    "WorkerRole": {
        "glue:GetDatabase": "the lake step registers partitions (stand-in pipeline here)",
        "glue:CreateDatabase": "the lake step, first sample of a stage",
        "glue:GetTable": "the lake step",
        "glue:CreateTable": "the lake step, first sample of a stage",
        "glue:UpdateTable": "the lake step, a table's new columns",
        "glue:BatchCreatePartition": "the lake step",
        "ec2:DescribeTags": "reading its own instance's tags",
        "s3:ListBucket": "the lake step lists its tables; references listed by prefix",
    },
}


def _policies() -> dict[str, list[dict]]:
    template, errors = decode_str(TEMPLATE.read_text())
    assert not errors
    out = {}
    for name in ("ApiRole", "WorkerRole", "ModelRole"):
        statements = []
        for policy in template["Resources"][name]["Properties"]["Policies"]:
            statements += policy["PolicyDocument"]["Statement"]
        out[name] = statements
    return out


def _actions(statement: dict) -> list[str]:
    a = statement["Action"]
    return [a] if isinstance(a, str) else list(a)


def _allowed(statements: list[dict], action: str) -> bool:
    return any(
        fnmatch(action, pattern) for s in statements if s["Effect"] == "Allow" for pattern in _actions(s)
    )


ACCOUNT, REGION = "123456789012", "us-east-1"  # moto's account; the test config's region


def _resources(service: str, operation: str, params: dict) -> list[str]:
    """The ARNs a call acts on, as IAM authorizes it ("*" for calls that name no resource)."""
    ec2 = f"arn:aws:ec2:{REGION}:{ACCOUNT}"
    if service == "s3":
        if "Key" in params:
            return [f"arn:aws:s3:::{params['Bucket']}/{params['Key']}"]
        return [f"arn:aws:s3:::{params['Bucket']}"] if "Bucket" in params else ["*"]
    if service == "ec2" and operation == "RunInstances":
        out = [f"{ec2}:instance/*", f"{ec2}:volume/*", f"arn:aws:ec2:{REGION}::image/{params['ImageId']}"]
        out += [f"{ec2}:subnet/{params['SubnetId']}"] if params.get("SubnetId") else []
        return out + [f"{ec2}:security-group/{g}" for g in params.get("SecurityGroupIds", [])]
    if service == "ec2" and operation in ("CreateTags", "TerminateInstances"):
        return [f"{ec2}:instance/{i}" for i in params.get("Resources") or params.get("InstanceIds")]
    if service == "dynamodb":
        return [f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{params['TableName']}"]
    if service == "kms":
        return ["credstash-key"]  # the ciphertext names the key: the stage's credstash key
    return ["*"]


class Recorder:
    def __init__(self):
        self.actions: list[str] = []
        self.touched: list[tuple[str, str]] = []  # (action, resource ARN)

    def clear(self) -> None:
        self.actions.clear()
        self.touched.clear()


@pytest.fixture
def record(monkeypatch) -> Recorder:
    recorder = Recorder()
    real = botocore.client.BaseClient._make_api_call

    def recording(self, operation, params):
        service = self.meta.service_model.signing_name
        if service == "s3":
            actions = S3_ACTIONS.get(operation, [f"s3:{operation}"])
        else:
            actions = [f"{service}:{operation}"]
        recorder.actions.extend(actions)
        for action in actions:
            recorder.touched += [(action, arn) for arn in _resources(service, operation, params)]
        return real(self, operation, params)

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", recording)
    return recorder


def _resolve(node, names: dict, local: dict | None = None):
    """A template value with its intrinsic functions applied (the subset the policies use)."""
    if isinstance(node, list):
        return [_resolve(n, names, local) for n in node]
    if isinstance(node, str):
        return node
    ((fn, arg),) = node.items()
    if fn == "Ref":
        return names[arg]
    if fn == "Fn::GetAtt":
        return names[".".join(arg) if isinstance(arg, list) else arg]
    if fn == "Fn::Join":
        return arg[0].join(_resolve(arg[1], names, local))
    if fn == "Fn::Split":
        return _resolve(arg[1], names, local).split(arg[0])
    if fn == "Fn::Sub":
        text, extra = (arg, {}) if isinstance(arg, str) else (arg[0], arg[1])
        scope = dict(names, **{k: _resolve(v, names) for k, v in extra.items()})
        return re.sub(r"\$\{([^}]+)\}", lambda m: scope.get(m.group(1), m.group(0)), text)
    raise AssertionError(f"the test cannot resolve {fn}")


def _names(config) -> dict:
    """What the template's names resolve to for this test's configuration."""
    bucket = lambda name: f"arn:aws:s3:::{name}"  # noqa: E731
    return {
        "AWS::Partition": "aws", "AWS::Region": REGION, "AWS::AccountId": ACCOUNT, "Stage": "test",
        "StateBucket": config.state_bucket, "StateBucket.Arn": bucket(config.state_bucket),
        "LakeBucket": config.lake_bucket, "LakeBucket.Arn": bucket(config.lake_bucket),
        "DataBuckets": [LAB], "ReadBuckets": [LAB, *config.reference_buckets],
        "CredstashTable.Arn": f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/{config.credstash_table}",
        "CredstashKey.Arn": "credstash-key",
        "WorkerRole.Arn": f"arn:aws:iam::{ACCOUNT}:role/gems-test-worker",
        "SubnetId": config.subnet_id or "", "WorkerAmi": config.ami_id,
        "WorkerSecurityGroup.GroupId": (config.security_group_ids or ("",))[0],
    }  # fmt: skip


def _allows(statements: list[dict], action: str, arn: str, names: dict) -> bool:
    for s in statements:
        if s["Effect"] != "Allow" or not any(fnmatch(action, p) for p in _actions(s)):
            continue
        resources = _resolve(s["Resource"], names)
        for pattern in [resources] if isinstance(resources, str) else resources:
            if pattern == "*" or fnmatch(arn, pattern):
                return True
    return False


@pytest.fixture
def stand_in_pipeline(monkeypatch):
    def run_sample(sample, r1, r2, out, options, on_progress=None):
        out.mkdir(parents=True, exist_ok=True)
        on_progress("align", 0.5)
        (out / "report.json").write_text(json.dumps({"sample": sample}))
        return {"sample": sample}

    use_pipeline(monkeypatch, run_sample)


def test_each_role_allows_what_its_code_calls_and_nothing_more(
    client, services, config, record, stand_in_pipeline, tmp_path
):
    from app.events import sweep_jobs

    key = client.post("/job", json={"bucket": LAB, "prefix": "run1/", "hla_class": 1}, headers=bearer()).json[
        "session_key"
    ]
    client.get("/job")
    job = client.get(f"/job/{key}").json
    iid = job["workers"][0]["instance_id"]
    api_calls, api_touched = set(record.actions), set(record.touched)
    record.clear()

    w = Worker(config, services.clients, key, 0, services.keys.worker_token(key), iid)
    w.stop_fleet = lambda: None
    w.run(tmp_path / "w")
    w.hand_over()  # as main() ends: the last worker finishes the job and asks for the fleet's stop
    worker_calls, worker_touched = set(record.actions), set(record.touched)
    record.clear()

    for path in (f"/job/{key}", f"/job/{key}/logs", f"/job/{key}/results"):
        client.get(path, headers=bearer())
    client.post("/stop_instances", json={"session_key": key, "token": w.token})
    second = client.post("/job", json={"bucket": LAB, "prefix": "run1/", "hla_class": 2}, headers=bearer())
    sweep_jobs(services.jobs, services.clients.ec2)  # a running job: its instances are looked up
    client.post(f"/job/{second.json['session_key']}/stop", headers=bearer())
    api_calls |= set(record.actions)
    api_touched |= set(record.touched)

    policies, names = _policies(), _names(config)
    for role, calls, touched in (
        ("ApiRole", api_calls, api_touched),
        ("WorkerRole", worker_calls, worker_touched),
    ):
        assert calls, role
        denied = sorted(a for a in calls if not _allowed(policies[role], a))
        assert denied == [], f"{role} lacks {denied}"
        outside = sorted({(a, arn) for a, arn in touched if not _allows(policies[role], a, arn, names)})
        assert outside == [], f"{role} may not do these to these resources: {outside}"
        granted = {a for s in policies[role] for a in _actions(s)}
        broader = sorted(granted - calls - set(NOT_EXERCISED[role]))
        assert broader == [], f"{role} allows {broader}, which no code of it calls"


def test_no_policy_grants_a_wildcard_action_or_resource_it_need_not():
    # AWS accepts only "*" as the resource of these (they name no resource).
    resourceless = {
        "ec2:DescribeInstances",
        "ec2:DescribeTags",
        "ec2:DescribeImages",
        "ec2:DescribeSpotPriceHistory",
        "pricing:GetProducts",
        "ecr:GetAuthorizationToken",
    }
    for role, statements in _policies().items():
        for s in statements:
            for action in _actions(s):
                assert "*" not in action, f"{role} grants {action}"
            if s.get("Resource") == "*":
                assert set(_actions(s)) <= resourceless | {
                    "ecr:BatchGetImage",
                    "ecr:GetDownloadUrlForLayer",
                }, (
                    role,
                    s["Sid"],
                )
