"""`gems keys create NAME [--admin] [--scope BUCKET[/PREFIX]]... | list | revoke NAME`: the
deployment's API keys, in credstash.

A key is printed once, when it is made; only its SHA-256 digest is stored. An admin key may act
on every user's job (stop, retry, logs, results, TES cancel) and read the lake's per-sample rows;
any other key acts on its own jobs only, and runs jobs only on data inside its scopes (gems.scopes).
A change takes effect on every API process within gems.auth.KEYS_BOUND_S (5) seconds. The command talks to the credstash of the AWS account
the environment points at: the embedded stack's after `source .gems/env`. The embedded stack
writes its credstash anew at each start (moto's KMS keys do not survive it), so there the
digests are also kept in `.gems/api_keys.json`, and `gems up` stores them again.
"""

from __future__ import annotations

import argparse
import sys

from gems import auth
from gems.config import Config


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="gems keys", description="Manage the deployment's API keys.")
    p.add_argument(
        "--stage",
        help="a stage made by gems deploy (its credstash table and key); default: the environment's",
    )
    sub = p.add_subparsers(dest="action", required=True)
    create = sub.add_parser("create", help="make a key for NAME (replacing its old one) and print it once")
    create.add_argument("name")
    create.add_argument("--admin", action="store_true", help="the key may act on every user's jobs")
    create.add_argument(
        "--scope",
        action="append",
        default=[],
        metavar="BUCKET[/PREFIX]",
        help="S3 data the key may run jobs on (repeat for more); none: the deployment's rule "
        "for unscoped keys (docs/security.md)",
    )
    sub.add_parser("list", help="the users that have a key, admins, and each key's scopes (never the keys)")
    revoke = sub.add_parser("revoke", help="delete NAME's key")
    revoke.add_argument("name")
    args = p.parse_args(argv)

    from gems.aws.secrets import CredstashSecrets  # boto3 and credstash load only for this command

    config = Config.from_env()
    if args.stage:
        config = _stage_config(config, args.stage)
    secrets = CredstashSecrets(config, ttl=0)
    if args.action == "list":
        for row in auth.list_keys(secrets):
            scopes = ",".join(row["scopes"]) or ("*" if row["admin"] else "-")
            print(f"{row['user']}\t{'admin' if row['admin'] else 'user'}\t{scopes}")
        return 0
    if args.action == "create":
        key = auth.create_key(secrets, args.name, admin=args.admin, scopes=tuple(args.scope))
    else:
        auth.revoke_key(secrets, args.name)
    if config.embedded:
        auth.save_keys(config.home, auth.key_table(secrets))
    if args.action == "create":
        print(key)
        print(
            f"gems keys: made {'an admin' if args.admin else 'a'} key for {args.name}; it is shown only once "
            f"and works on every API process within {auth.KEYS_BOUND_S} s",
            file=sys.stderr,
        )
    else:
        print(
            f"gems keys: revoked the key of {args.name}; every API process refuses it within "
            f"{auth.KEYS_BOUND_S} s",
            file=sys.stderr,
        )
    return 0


def _stage_config(config: Config, stage: str) -> Config:
    """The credstash table and key of a deployed stage, from its stack's outputs."""
    from gems.aws.clients import client
    from gems.deploy import settings, stack

    target = settings.check_target(
        settings.DeploySettings(stage=stage, region=config.region if config.region_given else "")
    )
    out = stack.outputs(client(config, "cloudformation"), target.stack_name)
    return config.with_(credstash_table=out["CredstashTable"], kms_alias=out["CredstashKeyAlias"])
