"""The published GA4GH client (py-tes) drives gems end to end: create, wait, get, list, cancel."""

from __future__ import annotations

import time

import pytest
import tes
from e2e_helpers import RunningStack

from embedded.seed import DEMO_BUCKET, DEMO_PREFIX

pytestmark = pytest.mark.slow
DEMO = f"s3://{DEMO_BUCKET}/{DEMO_PREFIX}"
REFS = f"s3://{DEMO_BUCKET}/references/"


def demo_task(sample: str, n: int) -> tes.Task:
    reads = [
        tes.Input(url=f"{DEMO}{sample}_S{n}_L001_R{m}_001.fastq.gz", path=f"/in/R{m}.fq.gz") for m in (1, 2)
    ]
    refs = [
        tes.Input(name="reference", url=f"{REFS}demo.fa", path="/ref/demo.fa"),
        tes.Input(name="annotation", url=f"{REFS}demo.gff3", path="/ref/demo.gff3"),
        tes.Input(name="targets", url=f"{REFS}demo-targets.bed", path="/ref/targets.bed"),
    ]
    return tes.Task(
        name=f"py-tes {sample}",
        inputs=reads + refs,
        outputs=[tes.Output(url=f"{DEMO}tes-out/", path="/out", type="DIRECTORY")],
        executors=[tes.Executor(image="gems-worker", command=["gems", "run-sample"], env={"HLA_CLASS": "1"})],
        tags={"suite": "py-tes"},
    )


def test_py_tes_creates_waits_lists_and_cancels(stack_home):
    stack = RunningStack(stack_home).start()
    try:
        key = (stack_home / "api_key").read_text().strip()
        client = tes.HTTPClient(stack.api_url, token=key, timeout=30)
        info = client.get_service_info()
        assert info.type["artifact"] == "tes"

        task_id = client.create_task(demo_task("NA12878", 2))
        done = client.wait(task_id, timeout=600)
        assert done.state == "COMPLETE", client.get_task(task_id, view="FULL").as_json()
        full = client.get_task(task_id, view="FULL")
        names = {o.path for o in full.logs[0].outputs}
        assert {"NA12878/report.json", "NA12878/variants.vcf.gz", "NA12878/sample.bam"} <= names
        assert all(o.url.startswith(f"{DEMO}results/{task_id}/") for o in full.logs[0].outputs)
        assert full.logs[0].logs[0].exit_code == 0 and full.logs[0].logs[0].stdout  # the worker's log
        assert full.executors[0].image == "gems-worker" and full.tags["suite"] == "py-tes"

        second = client.create_task(demo_task("HG002", 1))
        client.cancel_task(second)
        deadline = time.monotonic() + 60
        while client.get_task(second).state != "CANCELED" and time.monotonic() < deadline:
            time.sleep(0.5)
        assert client.get_task(second).state == "CANCELED"

        listed = client.list_tasks(view="BASIC", page_size=1)
        assert len(listed.tasks) == 1 and listed.next_page_token
        rest = client.list_tasks(view="MINIMAL", page_token=listed.next_page_token)
        states = {t.id: t.state for t in listed.tasks + rest.tasks}
        assert states == {task_id: "COMPLETE", second: "CANCELED"}
    finally:
        assert stack.stop() == 0
