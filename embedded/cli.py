"""`gems up` (start the embedded stack) and `gems demo` (run a demo job through it)."""

from __future__ import annotations

import argparse
import contextlib
import logging
import shutil
import signal
import sys
import threading
import time

from embedded import seed
from embedded.stack import Stack, StackOptions
from gems.api_client import ApiClient
from gems.config import Config
from gems.errors import GemsError, ValidationError
from gems.jobs.jobview import is_settled
from gems.states import JobStatus, SampleStatus


def _stack_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--port", type=int, default=8000, help="API port on 127.0.0.1 (default 8000)")
    parser.add_argument("--moto-port", type=int, default=8001, help="local AWS (moto) port (default 8001)")
    parser.add_argument("--model-port", type=int, default=8002, help="local model server port (default 8002)")
    parser.add_argument("--no-model", action="store_true", help="do not start the model server")
    parser.add_argument(
        "--reset", action="store_true", help="forget the stored local state (.gems/aws) first"
    )
    parser.add_argument(
        "--cold",
        action="store_true",
        help="boot each instance as a fresh EC2 machine: only its user-data's environment, the worker "
        "installed by pip from the wheel published to the local S3 (GEMS_WORKER_SOURCE overrides)",
    )
    parser.add_argument(
        "--image",
        metavar="IMAGE",
        help="boot each instance cold, as a podman container of this worker image (a custom AMI: "
        "the worker is already installed); build it with scripts/build_images.sh worker",
    )


def _check_image(image: str, home) -> None:
    from embedded import container

    if shutil.which("podman") is None:
        raise ValidationError("--image needs podman, which is not installed", field="image")
    if not container.exists(image, home):
        raise ValidationError(
            f"no image {image!r} here: build it with `bash scripts/build_images.sh worker`", field="image"
        )


def _options(args) -> StackOptions:
    home = Config.from_env().home
    if args.image:
        _check_image(args.image, home)
    if args.reset:
        shutil.rmtree(home / "aws", ignore_errors=True)
    return StackOptions(
        home=home,
        port=args.port,
        moto_port=args.moto_port,
        model_port=args.model_port,
        model=not args.no_model,
        cold=args.cold,
        image=args.image,
    )


def up(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="gems up", description="Start the embedded stack on loopback.")
    _stack_args(parser)
    args = parser.parse_args(argv)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    stack = Stack(_options(args)).start()
    where = stack.api_key_path or "the GEMS_API_KEY environment variable"
    print(f"gems is up: API {stack.api_url}  (docs {stack.api_url}/docs, web app {stack.api_url}/)")
    print(f"API key: in {where}")
    print(f"local AWS (moto): {stack.moto.url}; state kept in {stack.options.home}; logs in {stack.log_path}")
    print(f"demo reads: s3://{seed.DEMO_BUCKET}/{seed.DEMO_PREFIX}  -  try `gems demo` in another terminal")
    print(f"`source {stack.env_path}` points gems lake (and the aws CLI) at this stack's local AWS")
    print("Ctrl-C stops everything.", flush=True)
    done = threading.Event()
    # Both set here, not left to Python's default: a shell that starts `gems up` in the background
    # (nohup, `&` in a script) hands it SIGINT ignored, and Ctrl-C or `kill -INT` must still stop it.
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: done.set())
    with contextlib.suppress(KeyboardInterrupt):
        while not done.wait(1):
            pass
    print("\nstopping gems ...", flush=True)
    stack.stop()
    return 0


def _describe(job: dict) -> str:
    parts = [f"{job['overall_status']:<8}"]
    for w in job["workers"]:
        step = w.get("step") or "-"
        parts.append(f"w{w['instance_index']}:{w['status']}[{w.get('progress', '')}] {step}")
    return "  ".join(parts)


def follow(client: ApiClient, session_key: str, timeout_s: float = 1800, out=sys.stdout) -> dict:
    """Print a job's state each time it changes, until it is finished."""
    last = ""
    deadline = time.monotonic() + timeout_s
    while True:
        job = client.job(session_key)
        line = _describe(job)
        if line != last:
            print(f"{time.strftime('%H:%M:%S')}  {line}", file=out, flush=True)
            last = line
        if is_settled(job):
            return job
        if time.monotonic() > deadline:
            raise GemsError(f"job {session_key} still {job['overall_status']} after {timeout_s:.0f} s")
        time.sleep(1)


def print_results(client: ApiClient, job: dict, out=sys.stdout) -> None:
    res = client.results(job["session_key"])
    print(f"results: s3://{res['bucket']}/{res['prefix']}", file=out)
    for sample, files in sorted(res["samples"].items()):
        names = ", ".join(f["name"] for f in files)
        print(f"  {sample}: {names}", file=out)
    for w in job["workers"]:
        for sample, st in (w.get("sample_status") or {}).items():
            if st.get("status") == SampleStatus.FAILED:
                print(f"  {sample} FAILED: {st.get('reason', '')}", file=out)


def demo(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="gems demo",
        description="Run the demo job (real reads, full pipeline) through the embedded stack: "
        "a running `gems up` at GEMS_API if there is one, else a stack started just for the demo.",
    )
    _stack_args(parser)
    parser.add_argument("--timeout", type=float, default=1800, help="seconds to wait for the job")
    args = parser.parse_args(argv)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    config = Config.from_env()
    stack = None
    client = ApiClient(config.api_url)
    try:
        client.health()
        key, _ = seed.api_key(config.home)
        print(f"using the running gems at {config.api_url}")
    except GemsError:
        stack = Stack(_options(args)).start()
        client = ApiClient(stack.api_url)
        key = stack.api_key
        print(f"started the embedded stack at {stack.api_url} (it stops when the demo ends)")
    client.key = key
    try:
        body = seed.demo_job()
        print(
            f"submitting the demo job: s3://{body['bucket']}/{body['prefix']} with {body['workers']} workers"
        )
        status, job = client.submit(body)
        print(f"job {job['session_key']} ({'created' if status == 201 else 'existing'})")
        job = follow(client, job["session_key"], timeout_s=args.timeout)
        job = client.job(job["session_key"])
        print_results(client, job)
        print(f"job {job['session_key']} {job['overall_status']}")
        key = job["session_key"]
        if stack:
            print(f"browse it: run `gems up`, then open http://127.0.0.1:{args.port}/jobs/{key}")
        else:
            print(f"browse it: {client.api_url}/jobs/{key}")
        print(f"download it: gems results {key} --out results/")
        return 0 if job["overall_status"] == JobStatus.COMPLETE else 1
    finally:
        if stack:
            stack.stop()
