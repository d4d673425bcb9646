"""`gems deploy [--stage NAME] [--plan]` and `gems destroy [--stage NAME] [--yes] [--delete-data]`.

deploy: check the settings (nothing is called before they pass), find the subnet and image,
plan the stage's CloudFormation stack (`gems/deploy/template.yaml`) as a change set, apply it,
publish the worker wheel to the state bucket, store a worker signing key, write the Zappa stage
settings from the stack's outputs and run Zappa. `--plan` prints all of that and changes nothing;
a deploy that finds nothing to do prints `no changes`.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import zipfile
from pathlib import Path

import gems.deploy.settings
import gems.deploy.stage
from gems.config import Config
from gems.deploy import stack


def _parser(prog: str) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog=prog)
    p.add_argument(
        "--stage", default="dev", help="stage name (default dev); resources are named gems-STAGE-*"
    )
    p.add_argument("--region", default="", help="AWS region (default: AWS_DEFAULT_REGION)")
    p.add_argument("--no-function", action="store_true", help="leave the Zappa function alone")
    return p


def _settings(args, config: Config) -> gems.deploy.settings.DeploySettings:
    region = args.region or (config.region if config.region_given else "")
    fields = dict(stage=args.stage, region=region)
    for name in ("subnet_id", "ami", "instance_type", "max_workers"):
        value = getattr(args, name, None)
        if value not in (None, ""):
            fields[name] = value
    fields["data_buckets"] = tuple(getattr(args, "data_bucket", None) or ())
    fields["reference_buckets"] = tuple(getattr(args, "reference_bucket", None) or ())
    return gems.deploy.settings.DeploySettings(**fields)


def _clients(config: Config, region: str):
    from gems.aws.clients import client

    c = config.with_(region=region)
    return {name: client(c, name) for name in ("cloudformation", "ec2", "ssm", "s3", "lambda")}


def _wheel_digest(wheel: Path) -> str:
    """The wheel's contents, not its bytes: pip stamps every build with the time."""
    h = hashlib.sha256()
    with zipfile.ZipFile(wheel) as z:
        for name in sorted(z.namelist()):
            h.update(name.encode() + b"\0" + z.read(name))
    return h.hexdigest()


def deploy(argv: list[str]) -> int:
    p = _parser("gems deploy")
    p.add_argument("--plan", action="store_true", help="print what would change; change nothing")
    p.add_argument("--data-bucket", action="append", help="a bucket of the lab's FASTQs (repeatable)")
    p.add_argument("--reference-bucket", action="append", help="a bucket jobs may read references from")
    p.add_argument("--subnet", dest="subnet_id", help="subnet for workers (default: the default VPC's)")
    p.add_argument(
        "--ami", help=f"worker image id or SSM parameter (default {gems.deploy.settings.DEFAULT_AMI})"
    )
    p.add_argument("--instance-type", help="worker instance type (default c5.2xlarge)")
    p.add_argument("--max-workers", type=int, help="cap on workers per job (default 20)")
    args = p.parse_args(argv)
    config = Config.from_env()
    s = gems.deploy.settings.check(_settings(args, config))
    aws = _clients(config, s.region)
    s = gems.deploy.settings.locate(s, aws["ec2"], aws["ssm"])
    planned = stack.plan(aws["cloudformation"], s)
    for line in planned.lines():
        print(line)
    if args.plan:
        print("worker wheel: built and published to the state bucket when its contents change")
        if not args.no_function:
            print(f"function: zappa deploy/update {s.stage} with the stack's outputs as its settings")
        print("plan only: nothing was changed")
        return 0
    stack.apply(aws["cloudformation"], planned)
    out = stack.outputs(aws["cloudformation"], s.stack_name)
    changed = [planned.action] if planned.action != "none" else []
    wheel, digest, published = _publish_wheel(aws["s3"], out["StateBucket"], config, s)
    changed += published
    changed += _signing_key(config, s, out)
    if not args.no_function:
        changed += _function(aws["lambda"], config, s, out, wheel.name, digest)
    else:
        gems.deploy.stage.write(_stage_file(config, s), gems.deploy.stage.stage_settings(s, out, wheel.name))
    print("no changes" if not changed else f"deployed stage {s.stage}: {', '.join(changed)}")
    print(f"stage settings: {_stage_file(config, s)}")
    return 0


def _stage_dir(config: Config, s: gems.deploy.settings.DeploySettings) -> Path:
    return config.home / "deploy" / s.stage


def _stage_file(config: Config, s: gems.deploy.settings.DeploySettings) -> Path:
    return _stage_dir(config, s) / "zappa_settings.json"


def _publish_wheel(
    s3, bucket: str, config: Config, s: gems.deploy.settings.DeploySettings
) -> tuple[Path, str, list[str]]:
    """Build the wheel; upload it unless the state bucket has these contents already."""
    from botocore.exceptions import ClientError

    from gems.deploy import wheel as wheel_builder

    built = wheel_builder.build(_stage_dir(config, s) / "dist")
    digest = _wheel_digest(built)
    key = wheel_builder.DIST_PREFIX + built.name
    try:
        stored = s3.head_object(Bucket=bucket, Key=key).get("Metadata", {}).get("gems-digest")
    except ClientError:
        stored = None  # not published yet
    if stored == digest:
        return built, digest, []
    s3.put_object(Bucket=bucket, Key=key, Body=built.read_bytes(), Metadata={"gems-digest": digest})
    return built, digest, [f"worker wheel {built.name}"]


def _signing_key(config: Config, s: gems.deploy.settings.DeploySettings, out: dict) -> list[str]:
    from gems import auth
    from gems.aws.secrets import CredstashSecrets

    c = config.with_(
        region=s.region, credstash_table=out["CredstashTable"], kms_alias=out["CredstashKeyAlias"]
    )
    return ["worker signing key"] if auth.ensure_signing_key(CredstashSecrets(c, ttl=0)) else []


def _function(
    lam, config: Config, s: gems.deploy.settings.DeploySettings, out: dict, wheel_name: str, digest: str
) -> list[str]:
    path = _stage_file(config, s)
    deployed = _function_exists(lam, f"gems-{s.stage}")
    old = json.loads(path.read_text()) if path.is_file() else {}
    url = old.get(s.stage, {}).get("environment_variables", {}).get("GEMS_API", "") if deployed else ""
    settings = gems.deploy.stage.stage_settings(s, out, wheel_name, api_url=url)
    mark = _stage_dir(config, s) / "function.digest"  # the code the function was last deployed with
    if deployed and settings == old and mark.is_file() and mark.read_text() == digest:
        return []
    gems.deploy.stage.write(path, settings)
    for argv in gems.deploy.stage.zappa_commands(s.stage, path, deployed):
        gems.deploy.stage.run_zappa(argv)
    if not url:  # first deploy: the workers' GEMS_API is the URL API Gateway just made
        url = gems.deploy.stage.api_url_of(
            gems.deploy.stage.run_zappa(
                [str(gems.deploy.stage.ZAPPA), "status", s.stage, "-s", str(path), "--json"]
            )
        )
        gems.deploy.stage.write(path, gems.deploy.stage.stage_settings(s, out, wheel_name, api_url=url))
        gems.deploy.stage.run_zappa([str(gems.deploy.stage.ZAPPA), "update", s.stage, "-s", str(path)])
    mark.write_text(digest)
    return [f"function gems-{s.stage} ({url})"]


def _function_exists(lam, name: str) -> bool:
    try:
        lam.get_function(FunctionName=name)
        return True
    except Exception:  # noqa: BLE001 - ResourceNotFoundException
        return False


def destroy(argv: list[str]) -> int:
    p = _parser("gems destroy")
    p.add_argument("--yes", action="store_true", help="do not ask")
    p.add_argument("--delete-data", action="store_true", help="also delete job records, logs and the lake")
    args = p.parse_args(argv)
    config = Config.from_env()
    s = gems.deploy.settings.DeploySettings(
        stage=args.stage, region=args.region or (config.region if config.region_given else "")
    )
    gems.deploy.settings.check_target(s)
    aws = _clients(config, s.region)
    if stack.current(aws["cloudformation"], s.stack_name) is None:
        print(f"stack {s.stack_name} does not exist: nothing to destroy")
        return 0
    found = stack.resources(aws["cloudformation"], s.stack_name)
    buckets = {logical: phys for logical, kind, phys in found if kind == "AWS::S3::Bucket" and phys}
    from gems.aws import s3 as S3
    from gems.deploy import wheel as wheel_builder

    held = {}
    for logical, b in buckets.items():
        if logical != "DeploymentBucket" and S3.bucket_exists(aws["s3"], b):
            n = S3.object_count(
                aws["s3"], b, ignore_prefix=wheel_builder.DIST_PREFIX if logical == "StateBucket" else ""
            )
            if n:
                held[b] = n
    if held and not args.delete_data:
        names = ", ".join(f"{b} ({n} objects)" for b, n in held.items())
        print(
            f"gems destroy: {names} hold data; nothing was changed (--delete-data deletes it)",
            file=sys.stderr,
        )
        return 1
    print(f"stack {s.stack_name}: delete")
    for logical, kind, phys in found:
        print(f"  Remove {logical} ({kind}) {phys}")
    if not args.yes:
        try:
            answer = input(f"Delete stage {s.stage} and everything above? [y/N] ")
        except EOFError:
            answer = ""
        if answer.strip().lower() not in ("y", "yes"):
            print(
                "gems destroy: not confirmed; nothing was changed (--yes skips this question)",
                file=sys.stderr,
            )
            return 1
    if not args.no_function and _function_exists(aws["lambda"], f"gems-{s.stage}"):
        path = _stage_file(config, s)
        gems.deploy.stage.run_zappa(
            [str(gems.deploy.stage.ZAPPA), "undeploy", s.stage, "-s", str(path), "--yes", "--remove-logs"]
        )
    for b in buckets.values():
        if S3.bucket_exists(aws["s3"], b):
            S3.empty_bucket(aws["s3"], b)
    stack.delete(aws["cloudformation"], s.stack_name)
    print(f"destroyed stage {s.stage}")
    return 0
