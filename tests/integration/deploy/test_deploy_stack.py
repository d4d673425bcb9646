"""`gems deploy` / `gems destroy` against a bare moto server: the CloudFormation template, plans
that change nothing, a second deploy with nothing to do, keys for the stage, a destroy that keeps
data unless told, and settings refused before any change."""

from __future__ import annotations

import io
import json
import socket
import subprocess
import sys
import time
from pathlib import Path

import boto3
import pytest

from gems.cli.main import main

REPO = Path(__file__).resolve().parents[3]
TEMPLATE = REPO / "gems" / "deploy" / "template.yaml"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def bare_aws(monkeypatch, tmp_path):
    """A fresh moto server process (nothing in it but AWS's own defaults) and an environment
    pointing the CLI at it, as `source .gems/env` or real credentials would."""
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            assert time.monotonic() < deadline, "moto server did not start"
            time.sleep(0.2)
    for key in ("GEMS_EMBEDDED", "GEMS_STATE_BUCKET", "GEMS_CREDSTASH_TABLE", "AWS_REGION"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("AWS_ENDPOINT_URL", url)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    monkeypatch.setenv("GEMS_HOME", str(tmp_path / "home"))
    yield lambda service: boto3.client(service, endpoint_url=url, region_name="eu-west-1")
    proc.terminate()
    proc.wait(timeout=10)


def gems(*argv: str, stdin: str = "", monkeypatch=None) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    old = sys.stdout, sys.stderr, sys.stdin
    sys.stdout, sys.stderr, sys.stdin = out, err, io.StringIO(stdin)
    try:
        rc = main(list(argv))
    finally:
        sys.stdout, sys.stderr, sys.stdin = old
    return rc, out.getvalue(), err.getvalue()


def nothing_made(aws) -> None:
    stacks = aws("cloudformation").list_stacks()["StackSummaries"]
    assert [s for s in stacks if s["StackStatus"] != "DELETE_COMPLETE"] == []
    assert aws("s3").list_buckets()["Buckets"] == []
    assert [r["RoleName"] for r in aws("iam").list_roles()["Roles"]] == []


def test_template_passes_cfn_lint():
    done = subprocess.run(
        [str(Path(sys.executable).with_name("cfn-lint")), str(TEMPLATE)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize(
    "argv, env, field",
    [
        (["--data-bucket", "lab-a"], {"AWS_DEFAULT_REGION": ""}, "region"),
        (["--stage", "my stage", "--data-bucket", "lab-a"], {}, "stage"),
        (["--subnet", "subnet-xyz", "--data-bucket", "lab-a"], {}, "subnet"),
        (["--subnet", "subnet-0123456789abcdef0", "--data-bucket", "lab-a"], {}, "subnet"),
        (["--ami", "ami-0123456789abcdef0", "--data-bucket", "lab-a"], {}, "ami"),
        (["--ami", "/aws/service/no/such/parameter", "--data-bucket", "lab-a"], {}, "ami"),
        ([], {}, "data-bucket"),
        (["--data-bucket", "Bad_Bucket"], {}, "data-bucket"),
        (["--region", "mars", "--data-bucket", "lab-a"], {}, "region"),
    ],
)
def test_bad_settings_stop_before_any_change(bare_aws, monkeypatch, argv, env, field):
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    rc, out, err = gems("deploy", *argv)
    assert rc != 0
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"gems deploy: {field}"), err
    nothing_made(bare_aws)


def test_plan_lists_the_stack_and_changes_nothing(bare_aws):
    rc, out, _ = gems("deploy", "--plan", "--data-bucket", "lab-a")
    assert rc == 0
    assert "stack gems-dev: create" in out
    for logical in (
        "StateBucket",
        "CredstashTable",
        "ApiRole",
        "WorkerInstanceProfile",
        "WorkerSecurityGroup",
    ):
        assert logical in out
    assert "nothing was changed" in out
    nothing_made(bare_aws)


def test_deploy_keys_redeploy_and_destroy(bare_aws, tmp_path):
    rc, out, err = gems("deploy", "--no-function", "--data-bucket", "lab-a", "--reference-bucket", "refs")
    assert rc == 0, err
    assert "deployed stage dev" in out
    cfn, s3 = bare_aws("cloudformation"), bare_aws("s3")
    outputs = {
        o["OutputKey"]: o["OutputValue"]
        for o in cfn.describe_stacks(StackName="gems-dev")["Stacks"][0]["Outputs"]
    }
    state = outputs["StateBucket"]
    wheels = [o["Key"] for o in s3.list_objects_v2(Bucket=state, Prefix="dist/").get("Contents", [])]
    assert len(wheels) == 1 and wheels[0].endswith("-py3-none-any.whl")

    # The Zappa stage is the stack's outputs: workers get this stack's image, role, network and wheel.
    stage = json.loads((tmp_path / "home" / "deploy" / "dev" / "zappa_settings.json").read_text())["dev"]
    env = stage["environment_variables"]
    assert env["GEMS_STATE_BUCKET"] == state
    assert env["GEMS_AMI_ID"] == outputs["WorkerAmi"] and env["GEMS_AMI_ID"].startswith("ami-")
    assert env["GEMS_INSTANCE_PROFILE"] == outputs["WorkerInstanceProfile"]
    assert env["GEMS_SECURITY_GROUP_IDS"] == outputs["WorkerSecurityGroup"]
    assert env["GEMS_SUBNET_ID"] == outputs["SubnetId"]
    assert env["GEMS_WORKER_SOURCE"] == f"s3://{state}/{wheels[0]}"
    assert env["GEMS_REFERENCE_BUCKETS"] == "refs"
    assert stage["role_name"] == outputs["ApiRoleName"] and stage["s3_bucket"] == outputs["DeploymentBucket"]
    assert stage["log_level"] == "INFO"

    # The worker signing key is in the stage's credstash; a user's key can be added to it.
    rc, key, _ = gems("keys", "--stage", "dev", "create", "alice")
    assert rc == 0 and len(key.strip()) >= 32
    items = bare_aws("dynamodb").scan(TableName=outputs["CredstashTable"])["Items"]
    names = {i["name"]["S"] for i in items}
    assert {"gems.worker_signing_key", "gems.api_keys"} <= names
    assert key.strip() not in json.dumps(items, default=repr)  # only its digest is stored

    rc, out, _ = gems("deploy", "--no-function", "--data-bucket", "lab-a", "--reference-bucket", "refs")
    assert rc == 0 and out.splitlines()[0] == "stack gems-dev: no changes"
    assert "\nno changes\n" in out

    rc, out, _ = gems("deploy", "--plan", "--no-function", "--data-bucket", "lab-a", "--data-bucket", "lab-b")
    assert rc == 0 and "stack gems-dev: update" in out and "DataBuckets" in out

    # A stage that holds job records is not deleted without --delete-data; unconfirmed, nothing goes.
    s3.put_object(Bucket=state, Key="jobs/k1/job.json", Body=b"{}")
    rc, _, err = gems("destroy", "--yes", "--no-function")
    assert rc == 1 and state in err and "--delete-data" in err
    rc, _, err = gems("destroy", "--delete-data", "--no-function", stdin="n\n")
    assert rc == 1 and "not confirmed" in err
    assert cfn.describe_stacks(StackName="gems-dev")["Stacks"][0]["StackStatus"].endswith("COMPLETE")
    assert s3.get_object(Bucket=state, Key="jobs/k1/job.json")["Body"].read() == b"{}"

    rc, out, err = gems("destroy", "--delete-data", "--no-function", stdin="y\n")
    assert rc == 0, err
    nothing_made(bare_aws)
    rc, out, _ = gems("destroy", "--yes", "--no-function")
    assert rc == 0 and "nothing to destroy" in out
