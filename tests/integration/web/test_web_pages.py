"""The web pages and the JSON reads behind them, through the Flask app on moto."""

from __future__ import annotations

import json
import re

from web_helpers import AUTH, LAB

from gems.statekeys import results_prefix


def submit(client, **extra) -> dict:
    body = {"bucket": LAB, "prefix": "run1/", "hla_class": 1, **extra}
    response = client.post("/job", json=body, headers=AUTH)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def test_pages_render_with_labels_for_every_input(client):
    for path in ("/", "/jobs", "/jobs/new", "/predict/form"):
        response = client.get(path)
        assert response.status_code == 200, path
        html = response.get_data(as_text=True)
        assert '<html lang="en">' in html and 'name="viewport"' in html
        ids = set(re.findall(r'<(?:input|select)[^>]*\bid="([^"]+)"', html))
        labelled = set(re.findall(r'<label[^>]*\bfor="([^"]+)"', html))
        hidden = set(re.findall(r'<input[^>]*type="(?:hidden|checkbox|radio)"[^>]*id="([^"]+)"', html))
        assert ids - hidden <= labelled, (path, ids - hidden - labelled)
        for asset in re.findall(r'(?:src|href)="(/web/static/[^"]+)"', html):
            got = client.get(asset)
            assert got.status_code == 200, asset
            got.close()


def test_jobs_list_filters_and_job_page(client):
    job = submit(client, samples=["S1"])
    key = job["session_key"]
    html = client.get("/jobs").get_data(as_text=True)
    assert key[:12] in html and f"/jobs/{key}" in html
    assert key[:12] not in client.get("/jobs?status=COMPLETE").get_data(as_text=True)
    assert key[:12] in client.get(f"/jobs?bucket={LAB}&since=2000-01-01").get_data(as_text=True)
    assert key[:12] not in client.get("/jobs?bucket=other-bucket").get_data(as_text=True)
    assert key[:12] not in client.get("/jobs?until=2000-01-01").get_data(as_text=True)
    page = client.get(f"/jobs/{key}").get_data(as_text=True)
    assert "Worker 0" in page and 'data-sample="S1"' in page and f"s3://{LAB}/run1/" in page
    fragment = client.get(f"/jobs/{key}/workers")
    assert fragment.status_code == 200 and "<html" not in fragment.get_data(as_text=True)
    missing = client.get("/jobs/not-a-job")
    assert missing.status_code == 404 and "no job with session_key" in missing.get_data(as_text=True)


def test_samples_lists_pairs_without_launching(client, services):
    response = client.get(f"/samples?bucket={LAB}&prefix=run1", headers=AUTH)
    assert response.status_code == 200
    found = response.get_json()
    assert found["prefix"] == "run1/" and found["count"] == 2
    assert [s["name"] for s in found["samples"]] == ["S1", "S2"]
    assert found["samples"][0]["files"] == [
        "run1/S1_S1_L001_R1_001.fastq.gz",
        "run1/S1_S1_L001_R2_001.fastq.gz",
    ]
    assert services.clients.ec2.describe_instances()["Reservations"] == []


def test_samples_bad_input_names_the_field(client):
    cases = {
        "/samples?prefix=run1": "bucket",
        f"/samples?bucket={LAB}": "prefix",
        "/samples?bucket=no-such-bucket&prefix=run1": "bucket",
        f"/samples?bucket={LAB}&prefix=../etc": "prefix",
        f"/samples?bucket={LAB}&prefix=empty/": "prefix",
        f"/samples?bucket={LAB}&prefix=odd/": "prefix",  # R1 without its R2
        f"/samples?bucket={LAB}&prefix=run1&extra=1": "extra",
    }
    for url, field in cases.items():
        response = client.get(url, headers=AUTH)
        assert response.status_code == 400, url
        body = response.get_json()
        assert body["field"] == field and body["message"], (url, body)
    assert client.get(f"/samples?bucket={LAB}&prefix=run1").status_code == 401


def test_genes_for_autocomplete(client, vocabulary_dir):
    answer = client.get("/predict/genes?q=k").get_json()
    assert answer["genes"] == ["KRAS", "KRT1"]  # the model's own genes first
    assert "Missense_Mutation" in answer["variant_classes"] and answer["age_range"] == [10, 90]
    assert client.get("/predict/genes?limit=2").get_json()["genes"] == ["TP53", "KRAS"]
    assert client.get("/predict/genes?limit=0").get_json()["field"] == "limit"


def put_results(services, job, sample: str, tsv: str) -> str:
    s3 = services.clients.s3
    base = results_prefix(job["prefix"], job["session_key"], sample)
    report = {"status": "COMPLETE", "steps": {"align": {"status": "done", "seconds": 1.5, "peak_rss_mb": 90}}}
    s3.put_object(Bucket=LAB, Key=base + "report.json", Body=json.dumps(report).encode())
    s3.put_object(Bucket=LAB, Key=base + "report.html", Body=b"<html><body>report</body></html>")
    s3.put_object(Bucket=LAB, Key=base + "variants.tsv", Body=tsv.encode())
    return base


def test_reports_and_variants_of_a_finished_sample(client, services, vocabulary_dir):
    job = submit(client)
    key = job["session_key"]
    tsv = (
        "chrom\tpos\tref\talt\tfilter\tgene\tconsequence\tprotein_change\n"
        "chr17\t7675088\tC\tT\tPASS\tTP53\tmissense_variant\tp.R175H\n"
        "chr12\t25245350\tC\tT\tPASS\tKRAS\tsynonymous_variant\tp.=\n"
        "chr5\t112175000\tCA\tC\tPASS\tAPC\tframeshift_variant\tp.L45fs\n"
        "chr1\t100\tA\tG\tPASS\tNOPE1\tstop_gained\tp.W10*\n"
    )
    put_results(services, job, "S1", tsv)
    reports = client.get(f"/job/{key}/reports", headers=AUTH).get_json()["samples"]
    assert reports["S1"]["status"] == "COMPLETE"
    assert reports["S1"]["steps"] == [{"step": "align", "status": "done", "seconds": 1.5}]
    assert "response-content-type=text%2Fhtml" in reports["S1"]["report_url"]
    assert client.get(f"/job/{key}/reports").status_code == 401
    answer = client.get(f"/job/{key}/samples/S1/mutations", headers=AUTH).get_json()
    assert answer["mutations"] == [
        {"gene": "TP53", "variant_class": "Missense_Mutation", "protein_change": "p.R175H"},
        {"gene": "APC", "variant_class": "Frame_Shift_Del", "protein_change": "p.L45fs"},
    ]
    assert answer["n_silent"] == 1 and answer["not_in_model"] == ["NOPE1"]
    # Germline calls fed to a model of tumours' somatic mutations: said plainly (issue 28 item 7).
    assert answer["variant_origin"] == "germline" and "not a prediction of a tumour" in answer["warning"]
    page = client.get("/predict/form").get_data(as_text=True)
    assert "Germline calls, not somatic" in page
    missing = client.get(f"/job/{key}/samples/S2/mutations", headers=AUTH)
    assert missing.status_code == 404 and missing.get_json()["field"] == "sample"


def test_job_page_shows_failures_with_their_reasons(client, services):
    from gems.states import SampleStatus, WorkerStatus
    from gems.status import new_worker_record, record_status

    job = submit(client, samples=["S1", "S2"], workers=1)
    key, worker = job["session_key"], job["workers"][0]
    record = new_worker_record(key, 0, worker["instance_id"], ["S1", "S2"])
    common = dict(state_bucket=services.config.state_bucket, record=record)
    record_status(services.clients.ec2, services.clients.s3, **common, status=WorkerStatus.RUNNING)
    record_status(
        services.clients.ec2,
        services.clients.s3,
        **common,
        sample="S1",
        sample_status=SampleStatus.FAILED,
        sample_fields={"reason": "S1_S1_L001_R1_001.fastq.gz: not gzip", "step": "qc"},
    )
    record_status(
        services.clients.ec2,
        services.clients.s3,
        **common,
        sample="S2",
        sample_status=SampleStatus.RUNNING,
        sample_fields={"step": "align"},
    )
    html = client.get(f"/jobs/{key}/workers").get_data(as_text=True)
    assert re.search(r'data-sample="S1" data-status="FAILED"', html)
    assert "S1_S1_L001_R1_001.fastq.gz: not gzip" in html
    assert re.search(r'data-sample="S2" data-status="RUNNING"', html) and ">align<" in html
    assert 'data-active="true"' in html  # the page keeps refreshing
    record_status(
        services.clients.ec2,
        services.clients.s3,
        **common,
        status=WorkerStatus.FAILED,
        reason="1 of 2 samples failed: S1: not gzip",
    )
    html = client.get(f"/jobs/{key}/workers").get_data(as_text=True)
    assert "<strong>Reason:</strong> 1 of 2 samples failed: S1: not gzip" in html


def test_pages_when_reading_needs_the_key(app, client):
    app.config["GEMS"] = app.config["GEMS"].with_(read_requires_key=True)
    job = submit(client)
    listing = client.get("/jobs").get_data(as_text=True)
    assert job["session_key"][:12] not in listing and "needs your API key" in listing
    page = client.get(f"/jobs/{job['session_key']}")
    assert page.status_code == 200 and "Enter your API key" in page.get_data(as_text=True)
    assert client.get(f"/jobs/{job['session_key']}/workers").status_code == 401
    fragment = client.get(f"/jobs/{job['session_key']}/workers", headers=AUTH)
    assert fragment.status_code == 200 and "Worker 0" in fragment.get_data(as_text=True)


def test_pages_work_under_an_api_gateway_stage(client):
    """Behind API Gateway the app is mounted under /<stage>: every URL the pages use carries it."""
    page = client.get("/jobs/new", base_url="http://api.example/prod/").get_data(as_text=True)
    assert 'data-root="/prod"' in page  # the JavaScript prefixes its API calls with it
    assert 'href="/prod/web/static/web/web.css"' in page and 'data-samples-url="/prod/samples"' in page
    doc = client.get("/openapi.json", base_url="http://api.example/prod/").get_json()
    assert doc["servers"] == [{"url": "/prod"}]
    docs = client.get("/docs", base_url="http://api.example/prod/").get_data(as_text=True)
    assert 'src="/prod/static/swagger-ui/swagger-ui-bundle.js"' in docs
