"""`gems interrupt INSTANCE_ID`: give a running spot worker of the embedded stack EC2's spot
interruption notice, as EC2 does two minutes before it reclaims the instance (on AWS, Fault
Injection Service's `aws:ec2:send-spot-instance-interruptions` does the same for a drill).

The running `gems up` (another process) takes the request from `<GEMS_HOME>/interrupts/`: its
instance runner posts the notice to the instance's metadata service and terminates the
instance `--in` seconds later, whatever the worker has done by then.
"""

from __future__ import annotations

import argparse
import time

from embedded.runner import INSTANCE_ID
from gems.config import Config
from gems.errors import GemsError, ValidationError


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="gems interrupt", description="Give a running spot worker EC2's interruption notice."
    )
    parser.add_argument("instance_id", help="the worker's instance (gems status KEY lists them)")
    parser.add_argument("--in", dest="in_s", type=int, default=120, help="seconds until EC2 reclaims it")
    parser.add_argument("--wait", type=float, default=10.0, help="seconds to wait for the stack to answer")
    args = parser.parse_args(argv)
    if not INSTANCE_ID.match(args.instance_id):
        raise ValidationError(f"{args.instance_id!r} is not an EC2 instance id (i-...)", field="instance_id")
    if not 0 <= args.in_s <= 3600:
        raise ValidationError("--in must be 0-3600 seconds", field="in")
    folder = Config.from_env().home / "interrupts"
    folder.mkdir(parents=True, exist_ok=True)
    iid = args.instance_id
    answers = [folder / f"{iid}.given", folder / f"{iid}.refused"]
    for old in answers:
        old.unlink(missing_ok=True)
    request = folder / f"{iid}.request"
    request.write_text(f"{args.in_s}\n")
    deadline = time.monotonic() + args.wait
    while time.monotonic() < deadline:
        for answer in answers:
            if answer.exists():
                text = answer.read_text().strip()
                answer.unlink(missing_ok=True)
                if answer.suffix == ".refused":
                    raise GemsError(text)
                print(f"{iid}: spot interruption notice given; {text}")
                return 0
        time.sleep(0.2)
    request.unlink(missing_ok=True)
    raise GemsError(
        f"no running embedded stack took the notice (is `gems up` running with GEMS_HOME={folder.parent}?)"
    )
