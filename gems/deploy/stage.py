"""The API function's Zappa stage, built from the stack's outputs, and the Zappa run itself.

Zappa deploys the function (and API Gateway, and the sweep's schedule) with the stage settings
written here to `<home>/deploy/<stage>/zappa_settings.json`; the committed `zappa_settings.json`
gives what every stage shares (handler, runtime, excludes, events). The workers' `GEMS_API` is
the function's own URL, which API Gateway only names after the first `zappa deploy`: so a first
deploy runs `zappa deploy`, reads the URL with `zappa status`, then `zappa update`s with it.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

from gems.config import REPO_ROOT
from gems.deploy.settings import DeploySettings
from gems.deploy.wheel import DIST_PREFIX
from gems.errors import GemsError

BASE_SETTINGS = REPO_ROOT / "zappa_settings.json"
BASE_STAGE = "dev"
ZAPPA = REPO_ROOT / ".venv-lambda" / "bin" / "zappa"  # made by scripts/package_lambda.sh


def stage_settings(
    s: DeploySettings, out: dict[str, str], wheel_name: str, api_url: str = "", base: dict | None = None
) -> dict:
    """{stage: settings} for Zappa (pure): the shared settings plus this stack's names."""
    shared = dict((base or json.loads(BASE_SETTINGS.read_text()))[BASE_STAGE])
    env = dict(shared.get("environment_variables", {}))
    env.update(
        {
            "GEMS_STATE_BUCKET": out["StateBucket"],
            "GEMS_LAKE_BUCKET": out["LakeBucket"],
            "GEMS_CREDSTASH_TABLE": out["CredstashTable"],
            "GEMS_KMS_ALIAS": out["CredstashKeyAlias"],
            "GEMS_AMI_ID": out["WorkerAmi"],
            "GEMS_INSTANCE_TYPE": s.instance_type,
            "GEMS_INSTANCE_PROFILE": out["WorkerInstanceProfile"],
            "GEMS_SUBNET_ID": out["SubnetId"],
            "GEMS_SECURITY_GROUP_IDS": out["WorkerSecurityGroup"],
            "GEMS_MAX_WORKERS": str(s.max_workers),
            "GEMS_REFERENCE_BUCKETS": ",".join(s.reference_buckets),
            "GEMS_WORKER_SOURCE": f"s3://{out['StateBucket']}/{DIST_PREFIX}{wheel_name}",
            "GEMS_SAGEMAKER_ROLE": out["ModelRoleArn"],
        }
    )
    if api_url:
        env["GEMS_API"] = api_url.rstrip("/")
    else:
        env.pop("GEMS_API", None)
    shared.update(
        {
            "aws_region": s.region,
            "s3_bucket": out["DeploymentBucket"],
            "manage_roles": False,
            "role_name": out["ApiRoleName"],
            "role_arn": out["ApiRoleArn"],
            "environment_variables": env,
        }
    )
    return {s.stage: shared}


def write(path: Path, settings: dict) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(settings, indent=2, sort_keys=True) + "\n")
    return path


def zappa_commands(stage: str, settings_file: Path, deployed: bool) -> list[list[str]]:
    """The Zappa runs for this stage (pure): deploy the first time, update afterwards."""
    verb = "update" if deployed else "deploy"
    return [[str(ZAPPA), verb, stage, "-s", str(settings_file)]]


def run_zappa(argv: list[str]) -> str:
    if not ZAPPA.exists():
        raise GemsError("the Lambda virtualenv is missing: run bash scripts/package_lambda.sh first")
    done = subprocess.run(argv, cwd=REPO_ROOT, capture_output=True, text=True, timeout=1800)  # noqa: S603
    if done.returncode != 0:
        raise GemsError(f"{' '.join(argv[1:3])} failed: {(done.stderr or done.stdout).strip()[-400:]}")
    return done.stdout


API_URL = re.compile(r"https://[a-z0-9]+\.execute-api\.[a-z0-9-]+\.amazonaws\.com/[A-Za-z0-9_-]+")


def api_url_of(status_output: str) -> str:
    """The stage's URL in `zappa status --json` output (or its plain text)."""
    try:
        found = json.loads(status_output).get("API Gateway URL", "")
    except ValueError:
        found = ""
    if not found:
        match = API_URL.search(status_output)
        found = match.group(0) if match else ""
    return found
