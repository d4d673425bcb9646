"""An embedded instance's disk is held to its root volume, as EC2 holds a machine to its EBS
volume: one whose folder outgrows it is powered off and its worker failed with the reason."""

from __future__ import annotations

import time
from pathlib import Path

import boto3
from moto import mock_aws

from embedded.disks import Disks, used_bytes
from embedded.runner import InstanceRunner
from gems import tags
from gems.config import MOTO_AMI
from gems.states import WorkerStatus

MIB = 1 << 20


def test_a_disk_is_measured_by_what_its_files_take(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "f").write_bytes(b"x" * 3 * MIB)
    with open(tmp_path / "sparse", "wb") as fh:  # a sparse file takes only what it holds
        fh.seek(50 * MIB)
        fh.write(b"x")
    assert 3 * MIB <= used_bytes(tmp_path) < 3 * MIB + 64 * 1024
    disks = Disks(gib_bytes=MIB, every_s=10)
    disks.watch("i-1", tmp_path, gib=2)
    disks.watch("i-2", tmp_path, gib=4)
    assert disks.over(now=100.0) == [("i-1", used_bytes(tmp_path), 2 * MIB)]
    assert disks.over(now=105.0) == []  # checked every 10 s
    disks.forget("i-1")
    assert disks.peaks["i-1"] == (used_bytes(tmp_path), 2 * MIB)


class _Lifecycle:
    def __init__(self):
        self.ended: list[tuple] = []

    def mark_lost(self, session_key, instance_id, why, status=WorkerStatus.LOST):
        self.ended.append((session_key, instance_id, why, status))


class _Jobs:
    def __init__(self):
        self.lifecycle = _Lifecycle()


def test_an_instance_whose_work_outgrows_its_volume_is_powered_off_and_failed(tmp_path):
    with mock_aws():
        ec2 = boto3.client("ec2", region_name="us-east-1")
        user_data = "#!/bin/bash\nhead -c 3000000 /dev/zero > big\nsleep 60\n"
        ec2.run_instances(
            ImageId=MOTO_AMI, MinCount=1, MaxCount=1, UserData=user_data,
            BlockDeviceMappings=[{"DeviceName": "/dev/sda1", "Ebs": {"VolumeSize": 2, "VolumeType": "gp3"}}],
            TagSpecifications=[{"ResourceType": "instance", "Tags": [{"Key": tags.SESSION, "Value": "k" * 32}]}],
        )  # fmt: skip
        jobs = _Jobs()
        runner = InstanceRunner(ec2, jobs, tmp_path, {}, sweep_s=1e9, disks=Disks(gib_bytes=MIB, every_s=0))
        try:
            deadline = time.monotonic() + 30
            while not jobs.lifecycle.ended and time.monotonic() < deadline:
                runner.tick()
                time.sleep(0.2)
        finally:
            runner.stop()
        ((key, iid, why, status),) = jobs.lifecycle.ended
        assert key == "k" * 32 and status is WorkerStatus.FAILED
        assert why.startswith("its root volume is full (") and why.endswith(" of 2 GiB)")
        assert iid not in runner.booted and runner.disks.peaks[iid][1] == 2 * MIB
        assert Path(tmp_path / "instances" / iid / "big").exists()
