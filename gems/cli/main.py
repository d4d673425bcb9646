"""Entry point of the `gems` command."""

from __future__ import annotations

import importlib
import logging
import sys

from botocore.exceptions import NoCredentialsError

from gems.config import Config
from gems.errors import GemsError

# name -> (module, function, one-line help). Each function takes argv (list[str]) and returns an exit code.
COMMANDS: dict[str, tuple[str, str, str]] = {
    "up": ("embedded.cli", "up", "start the embedded stack (moto, API, instance runner, model server)"),
    "demo": ("embedded.cli", "demo", "run a demo job on the real demo reads through the embedded stack"),
    "submit": ("gems.cli.remote", "submit", "submit a job to a deployment (--wait to follow it)"),
    "status": ("gems.cli.remote", "status", "show jobs and their workers"),
    "logs": ("gems.cli.remote", "logs", "print a job's worker logs"),
    "results": ("gems.cli.remote", "results", "download a job's results"),
    "stop": ("gems.cli.remote", "stop", "stop a job's instances"),
    "interrupt": (
        "embedded.interrupt",
        "main",
        "give a running spot worker of the embedded stack EC2's interruption notice",
    ),
    "deploy": (
        "gems.cli.deploy",
        "deploy",
        "deploy a stage into an AWS account (--plan: print, change nothing)",
    ),
    "destroy": ("gems.cli.deploy", "destroy", "remove a stage's resources (--delete-data: also its records)"),
    "keys": ("gems.cli.keys", "main", "create, list and revoke API keys (--admin: may act on every job)"),
    "predict": ("gems.cli.remote", "predict", "predict primary sites for a CSV of patients"),
    "run-sample": ("workers.pipeline.cli", "run_sample", "run the analysis pipeline on one sample locally"),
    "eval-vcf": (
        "workers.evaluation.evalvcf",
        "main",
        "SNP/indel precision, recall and F1 against a truth VCF",
    ),
    "type-hla": ("workers.hla.cli", "type_hla", "HLA-type one sample (class I, II or both)"),
    "eval-hla": ("workers.hla.cli", "eval_hla", "2-field HLA concordance against a truth table"),
    "model": ("ml.cli", "main", "train, evaluate, predict, deploy and promote the cancer-type model"),
    "lake": ("lake.cli", "main", "query the cohort data lake"),
}


def _usage() -> str:
    width = max(len(n) for n in COMMANDS)
    lines = ["usage: gems COMMAND [ARGS...]", "", "commands:"]
    lines += [f"  {name:<{width}}  {help_}" for name, (_, _, help_) in COMMANDS.items()]
    lines += ["", "Run `gems COMMAND --help` for a command's options. Set GEMS_DEBUG=1 for tracebacks."]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help", "help"):
        print(_usage())
        return 0 if argv else 2
    name, rest = argv[0], argv[1:]
    if name not in COMMANDS:
        print(f"gems: unknown command {name!r} (try `gems --help`)", file=sys.stderr)
        return 2
    module, func, _ = COMMANDS[name]
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    logging.getLogger("botocore").setLevel(logging.WARNING)
    try:
        return int(getattr(importlib.import_module(module), func)(rest) or 0)
    except GemsError as exc:
        print(f"gems {name}: {exc.message}", file=sys.stderr)
        return 1
    except NoCredentialsError:
        home = Config.from_env().home
        print(
            f"gems {name}: no AWS credentials; for the embedded stack run `source {home}/env` (written by gems up)",
            file=sys.stderr,
        )
        return 1
    except KeyboardInterrupt:
        print(f"gems {name}: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # noqa: BLE001 - one line for the user, the traceback on request
        if Config.from_env().debug:
            raise
        print(f"gems {name}: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
