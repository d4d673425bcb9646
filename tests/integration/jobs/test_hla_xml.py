"""GET /job/<key>/hla.xml against moto: the job's HLA typing as HML 1.0.1, built from each
finished sample's MIRING record and valid against NMDP's schema (tests/data/hml); the owner's
only; a clear 404 or 409 when there is nothing to give; a record edited in the lab's bucket is
left out, never a 500."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import xmlschema
from jobhelpers import LAB, bearer
from motostack import use_pipeline

from gems.jobs import hml
from workers.program.worker import Worker

DATA = Path(__file__).resolve().parents[2] / "data"
SCHEMA = xmlschema.XMLSchema(str(DATA / "hml" / "hml-1.0.1.xsd"))
NS = {"h": hml.NAMESPACE}
JOB = {"bucket": LAB, "prefix": "run1/", "hla_class": 2, "workers": 1}


def _record(stem: str) -> dict:
    golden = json.loads((DATA / "hla" / f"golden_{stem}.miring.json").read_text())
    return dict(golden, message=dict(golden["message"], typed="2026-12-07T08:00:00Z", version="0.1.0"))


@pytest.fixture
def pipeline(monkeypatch):
    """S1 and S2 carry the real slices' records; S3 fails before typing."""
    records = {"S1": _record("hg00118_class2"), "S2": _record("na19141_dqa1")}

    def run_sample(sample, r1, r2, out, options, on_progress=None):
        if sample == "S3":
            raise RuntimeError("the reads could not be read")
        out.mkdir(parents=True, exist_ok=True)
        (out / "hla.miring.json").write_text(
            json.dumps(dict(records[sample], message=dict(records[sample]["message"], sample=sample)))
        )
        (out / "report.json").write_text(json.dumps({"sample": sample}))
        return {"sample": sample}

    use_pipeline(monkeypatch, run_sample)


def _submit(client, job=JOB) -> str:
    return client.post("/job", json=job, headers=bearer()).json["session_key"]


def _run(services, config, client, key, tmp_path) -> None:
    iid = client.get(f"/job/{key}").json["workers"][0]["instance_id"]
    w = Worker(config, services.clients, key, 0, services.keys.worker_token(key), iid)
    w.call_api = lambda path, within_s=0: client.post(path, json={"session_key": key, "token": w.token})
    w.run(tmp_path)
    w.hand_over()


def test_the_jobs_typing_is_valid_hml_with_consensus_and_flags(client, services, config, pipeline, tmp_path):
    key = _submit(client)
    _run(services, config, client, key, tmp_path)
    got = client.get(f"/job/{key}/hla.xml", headers=bearer())
    assert got.status_code == 200 and got.mimetype == "application/xml"
    SCHEMA.validate(got.data)  # raises with the first violation
    root = ET.fromstring(got.data)
    assert root.get("version") == "1.0.1"
    assert root.find("h:hmlid", NS).get("root").startswith("2.25.")
    samples = {s.get("id"): s for s in root.findall("h:sample", NS)}
    assert list(samples) == ["S1", "S2"]  # S3 failed: no typing to give
    typings = {
        t.find("h:typing-method/h:sbt-ngs", NS).get("locus"): t for t in samples["S1"].findall("h:typing", NS)
    }
    drb1 = typings["HLA-DRB1"]
    assert [h.get("type") for h in drb1.findall("h:allele-assignment/h:haploid", NS)] == ["15:01:01:01"] * 2
    assert drb1.find("h:allele-assignment/h:glstring", NS).text == "HLA-DRB1*15:01:01G+HLA-DRB1*15:01:01G"
    assert drb1.find("h:allele-assignment", NS).get("allele-version") == "3.32.0"
    ref = drb1.find("h:consensus-sequence/h:reference-database/h:reference-sequence", NS)
    assert (ref.get("name"), ref.get("accession")) == ("HLA-DRB1*15:01:01:01", "HLA00865")
    blocks = drb1.findall("h:consensus-sequence/h:consensus-sequence-block", NS)
    assert [b.get("description") for b in blocks] == [f"HLA-DRB1 exon {n}" for n in range(1, 7)]
    assert blocks[0].get("expected-copy-number") == "2"
    flags = {p.get("name"): p.get("value") for p in typings["HLA-DPA1"].findall("h:property", NS)}
    assert flags["gems:flag"] == "low_confidence"  # a flagged call travels with its flag
    assert typings["HLA-DRB3"].find("h:allele-assignment", NS) is None  # absent: nothing assigned
    s2 = {
        t.find("h:typing-method/h:sbt-ngs", NS).get("locus"): t for t in samples["S2"].findall("h:typing", NS)
    }
    dqa1 = s2["HLA-DQA1"]
    assert [h.get("type") for h in dqa1.findall("h:allele-assignment/h:haploid", NS)] == [
        "01:02:01:01",
        "01:03:01:01",
    ]
    assert len(dqa1.findall("h:consensus-sequence", NS)) == 2


def test_a_variant_is_written_where_the_reads_differ(client, services, config, monkeypatch, tmp_path):
    record = _record("na19141_dqa1")
    dqa1 = next(x for x in record["loci"] if x["locus"] == "HLA-DQA1")
    dqa1["alleles"][0]["variants"] = [
        {
            "start": 100,
            "end": 101,
            "allele_bases": "C",
            "read_bases": "T",
            "reads": 12,
            "share": 1.0,
            "novel": True,
        },
        {
            "start": 200,
            "end": 202,
            "allele_bases": "GA",
            "read_bases": "G",
            "reads": 9,
            "share": 0.9,
            "novel": False,
        },
    ]
    xml = hml.document("0" * 32, [("S1", record)], today="2026-12-07")
    SCHEMA.validate(xml)
    variants = ET.fromstring(xml).findall(".//h:variant", NS)
    assert [
        (v.get("start"), v.get("reference-bases"), v.get("alternate-bases"), v.get("name")) for v in variants
    ] == [
        ("100", "C", "T", "novel"),
        ("200", "GA", "G", "known in another allele"),
    ]


def test_only_the_owner_gets_it_and_nothing_yet_is_a_409(client, services, config, pipeline, tmp_path):
    key = _submit(client)
    early = client.get(f"/job/{key}/hla.xml", headers=bearer())
    assert early.status_code == 409 and early.json["field"] == "session_key"
    assert "no sample" in early.json["message"]
    assert client.get(f"/job/{key}/hla.xml").status_code == 401
    assert client.get(f"/job/{key}/hla.xml", headers=bearer("bob")).status_code == 404
    _run(services, config, client, key, tmp_path)
    assert client.get(f"/job/{key}/hla.xml", headers=bearer("bob")).status_code == 404
    assert client.get(f"/job/{key}/hla.xml", headers=bearer()).status_code == 200


def test_an_unknown_job_is_a_404_naming_the_key(client):
    got = client.get(f"/job/{'f' * 32}/hla.xml", headers=bearer())
    assert got.status_code == 404 and got.json["field"] == "session_key"


def test_an_edited_record_is_left_out_not_a_500(client, services, config, pipeline, tmp_path):
    key = _submit(client)
    _run(services, config, client, key, tmp_path)
    s3 = services.clients.s3
    prefix = f"run1/results/{key}/"
    s3.put_object(Bucket=LAB, Key=prefix + "S1/hla.miring.json", Body=b"{not json")
    bad = dict(_record("na19141_dqa1"))
    bad["loci"] = [
        {
            "locus": "HLA-DQA1",
            "alleles": [
                {"name": "DQA1*01:02:01:01", "blocks": [{"start": "x", "end": 4, "sequence": "ACGT"}]}
            ],
        }
    ]
    s3.put_object(Bucket=LAB, Key=prefix + "S2/hla.miring.json", Body=json.dumps(bad).encode())
    got = client.get(f"/job/{key}/hla.xml", headers=bearer())
    assert got.status_code == 409  # neither record is usable: nothing to give
    s3.put_object(
        Bucket=LAB, Key=prefix + "S2/hla.miring.json", Body=json.dumps(_record("na19141_dqa1")).encode()
    )
    got = client.get(f"/job/{key}/hla.xml", headers=bearer())
    assert got.status_code == 200
    SCHEMA.validate(got.data)
    assert [s.get("id") for s in ET.fromstring(got.data).findall("h:sample", NS)] == ["S2"]
    s2_bad = json.dumps(bad).encode()
    s3.put_object(Bucket=LAB, Key=prefix + "S1/hla.miring.json", Body=s2_bad)
    got = client.get(f"/job/{key}/hla.xml", headers=bearer())
    SCHEMA.validate(got.data)
    props = {p.get("value") for p in ET.fromstring(got.data).findall("h:property", NS)}
    assert "S1" in props  # said, not silently dropped
