"""A job naming a reference or an input file that is not in S3 is refused at submit (moto): a 400
naming the field, and no worker launched to fail at "preparing references"."""

from __future__ import annotations

import os

from jobhelpers import LAB, bearer, instances


def _submit(client, **extra):
    body = {"bucket": LAB, "prefix": "run/", "hla_class": 1, "reference": f"s3://{LAB}/refs/genome.fa"}
    return client.post("/job", json={**body, **extra}, headers=bearer())


def test_a_missing_reference_or_input_is_a_400_naming_its_field(client, services, lab):
    for mate in (1, 2):
        lab.put_object(Bucket=LAB, Key=f"run/S_S1_L001_R{mate}_001.fastq.gz", Body=os.urandom(2_000))
    lab.put_object(Bucket=LAB, Key="refs/genome.fa.fai", Body=b"c\t4\t3\t4\t5\n")  # its index, not it
    answer = _submit(client)
    assert answer.status_code == 400 and answer.json["field"] == "reference", answer.json
    assert f"s3://{LAB}/refs/genome.fa does not exist" in answer.json["message"]
    lab.put_object(Bucket=LAB, Key="refs/genome.fa", Body=b">c\nACGT\n")
    answer = _submit(client, options={"targets": f"s3://{LAB}/refs/exome.bed"})
    assert answer.status_code == 400 and answer.json["field"] == "options.targets", answer.json
    assert instances(services.clients.ec2) == []
    answer = _submit(client)
    assert answer.status_code == 201, answer.json
