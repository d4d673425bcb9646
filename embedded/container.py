"""An instance booted from a machine image: a podman container of the worker image.

`gems up --image gems-worker` stands for a custom AMI (or the worker image on any container
host) with the worker already installed: each instance is a container of that image that runs
its user-data as EC2 runs it (as root, once, from its own disk), reaching the stack's loopback
AWS, API and metadata service through the host's network. Provisioning finds the worker in the
image and installs nothing, which is what removes the cold boot's install time.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from gems.config import default_home


def name(instance_id: str) -> str:
    return f"gems-{instance_id}"


def engine_env(home: Path) -> dict[str, str]:
    """What podman itself needs (not the instance): the host's PATH and home, its settings
    (scripts/build_images.sh writes the containers.conf this machine needs), a runtime folder."""
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": os.environ.get("HOME", "/root")}
    # This stack's home, else the checkout's (where the images were built for a test's home).
    candidates = [os.environ.get("CONTAINERS_CONF"), home / "images" / "containers.conf"]
    candidates.append(default_home() / "images" / "containers.conf")
    conf = next((str(c) for c in candidates if c and Path(c).is_file()), None)
    if conf:
        env["CONTAINERS_CONF"] = conf
    if os.environ.get("XDG_RUNTIME_DIR"):
        env["XDG_RUNTIME_DIR"] = os.environ["XDG_RUNTIME_DIR"]
    return env


def command(image: str, instance_id: str, folder: Path, instance_env: dict[str, str]) -> list[str]:
    """podman run for one instance; its environment goes through a file on its disk, not argv."""
    env_file = folder / "instance.env"
    env_file.write_text("".join(f"{k}={v}\n" for k, v in instance_env.items()))
    return [
        "podman", "run", "--rm", "--init", "--pull", "never",
        "--name", name(instance_id),
        "--network", "host",
        "--user", "0",  # EC2 runs user-data as root
        "--no-healthcheck",  # the image's check is for a container host; an instance has none
        "--env-file", str(env_file),
        "-v", f"{folder}:{folder}", "-w", str(folder),
        image,
        "bash", str(folder / "user-data.sh"),
    ]  # fmt: skip


def remove(instance_id: str, home: Path) -> None:
    """End the container if it still runs (a terminated instance): podman's own stop, then gone."""
    subprocess.run(  # noqa: S603 - fixed podman command
        ["podman", "rm", "-f", "-t", "3", name(instance_id)],
        env=engine_env(home),
        capture_output=True,
        timeout=60,
    )


def exists(image: str, home: Path) -> bool:
    done = subprocess.run(  # noqa: S603
        ["podman", "image", "exists", image], env=engine_env(home), capture_output=True, timeout=60
    )
    return done.returncode == 0
