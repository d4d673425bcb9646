"""Each embedded instance's disk held to its root volume, as EC2 holds a machine to its EBS volume.

On EC2 a worker whose work outgrows its root volume fails its writes ("No space left on
device"); on this machine an instance's folder would grow until the machine's own disk is full,
and a launch that sized its volume too small would pass here and fail there. So the runner
reads each instance's root volume from EC2 (the moto server) and measures the instance's folder
(its disk: its work, caches and, booted cold, its install) every few seconds; an instance over
its volume is powered off and its worker recorded FAILED with the reason, where EC2 would have
failed the write. Each instance's peak is kept, for the tests to hold every launch to its size.
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)
GIB = 1 << 30
CHECK_S = 3.0


def root_volume_gib(ec2, instance: dict) -> int | None:
    """The size of the volume attached at the instance's root device, as EC2 reports it."""
    iid, root = instance["InstanceId"], instance.get("RootDeviceName")
    volumes = ec2.describe_volumes(Filters=[{"Name": "attachment.instance-id", "Values": [iid]}])["Volumes"]
    for volume in volumes:
        if any(a.get("Device") == root for a in volume.get("Attachments", [])):
            return int(volume["Size"])
    return max((int(v["Size"]) for v in volumes), default=None)


def used_bytes(folder: Path) -> int:
    """Bytes the folder's files take on disk (allocated blocks: a sparse file takes what it holds)."""
    total, stack = 0, [str(folder)]
    while stack:
        try:
            entries = list(os.scandir(stack.pop()))
        except OSError:
            continue
        for entry in entries:
            try:
                if entry.is_dir(follow_symlinks=False):
                    stack.append(entry.path)
                elif entry.is_file(follow_symlinks=False):
                    total += entry.stat(follow_symlinks=False).st_blocks * 512
            except OSError:  # gone meanwhile: the worker removes its files as it goes
                continue
    return total


@dataclass
class Disk:
    folder: Path
    limit: int  # bytes
    peak: int = 0
    checked: float = 0.0


class Disks:
    """The instances' disks: `watch` at boot, `over` on every runner tick."""

    def __init__(self, gib_bytes: int = GIB, every_s: float = CHECK_S):
        self.gib_bytes, self.every_s = gib_bytes, every_s
        self.disks: dict[str, Disk] = {}
        self.peaks: dict[
            str, tuple[int, int]
        ] = {}  # instance -> (peak bytes, volume bytes), kept after it ends

    def watch(self, instance_id: str, folder: Path, gib: int) -> None:
        self.disks[instance_id] = Disk(folder, gib * self.gib_bytes)

    def forget(self, instance_id: str) -> None:
        disk = self.disks.pop(instance_id, None)
        if disk is not None:
            self.peaks[instance_id] = (disk.peak, disk.limit)

    def over(self, now: float | None = None) -> list[tuple[str, int, int]]:
        """(instance, bytes used, volume bytes) of each instance due a check whose disk is full."""
        now = time.monotonic() if now is None else now
        full = []
        for iid, disk in self.disks.items():
            if now - disk.checked < self.every_s:
                continue
            disk.checked = now
            used = used_bytes(disk.folder)
            disk.peak = max(disk.peak, used)
            self.peaks[iid] = (disk.peak, disk.limit)
            if used > disk.limit:
                full.append((iid, used, disk.limit))
        return full
