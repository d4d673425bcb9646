"""The Dockerfile's images, built here with podman (scripts/build_images.sh) and run as their
platforms run them: `api` answers /health, `serve` started as SageMaker starts it (`serve`)
answers /ping and /invocations on port 8080's contract, `worker` runs the analysis pipeline on
the demo's real reads; each as its non-root user."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow

if shutil.which("podman") is None:
    pytest.skip(
        "no container engine: podman is not installed (scripts/setup.sh installs it as root)",
        allow_module_level=True,
    )


def _env() -> dict:
    env = dict(os.environ)
    env["CONTAINERS_CONF"] = str(Path(env.get("GEMS_HOME", REPO / ".gems")) / "images" / "containers.conf")
    return env


@pytest.fixture(scope="session")
def images() -> dict:
    done = subprocess.run(
        ["bash", str(REPO / "scripts" / "build_images.sh")],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=1800,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    print(done.stdout)
    return _env()


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def podman(env, *args, timeout=600) -> subprocess.CompletedProcess:
    return subprocess.run(["podman", *args], env=env, capture_output=True, text=True, timeout=timeout)


def _get(url: str, body: bytes | None = None, deadline_s: float = 60) -> tuple[int, bytes]:
    deadline = time.monotonic() + deadline_s
    while True:
        try:
            req = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})
            with urllib.request.urlopen(req, timeout=10) as resp:
                return resp.status, resp.read()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read()
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


@pytest.fixture
def container(images):
    names = []

    def start(*args) -> str:
        name = f"gems-test-{os.getpid()}-{len(names)}"
        run = podman(images, "run", "-d", "--name", name, "--network", "host", *args)
        assert run.returncode == 0, run.stderr
        names.append(name)
        return name

    yield start
    for name in names:
        podman(images, "rm", "-f", "-t", "2", name)


def _user_and_health(env, image: str) -> tuple[str, str]:
    info = json.loads(podman(env, "image", "inspect", image).stdout)[0]
    # podman reports the Docker-format health check beside the OCI config, not inside it.
    health = info.get("Healthcheck") or info.get("Config", {}).get("Healthcheck") or {}
    return info.get("Config", {}).get("User", ""), json.dumps(health)


def test_api_image_answers_health_as_its_own_user(images, container):
    user, health = _user_and_health(images, "gems-api")
    assert user == "gems" and "/health" in health
    port = _port()
    name = container("gems-api", "waitress-serve", f"--listen=127.0.0.1:{port}", "app.wsgi:app")
    status, body = _get(f"http://127.0.0.1:{port}/health")
    assert status == 200 and json.loads(body)["status"] == "ok"
    assert podman(images, "exec", name, "id", "-u").stdout.strip() == "10001"


def test_serve_image_answers_as_sagemaker_calls_it(images, container):
    user, health = _user_and_health(images, "gems-serve")
    assert user == "gems" and "/ping" in health
    port = _port()
    model = REPO / "ml" / "models" / "default"
    container(
        "-v", f"{model}:/opt/ml/model:ro", "-e", f"SAGEMAKER_BIND_TO_PORT={port}", "gems-serve", "serve"
    )
    status, body = _get(f"http://127.0.0.1:{port}/ping", deadline_s=120)
    assert status == 200, body
    patient = {"mutated_genes": ["VHL", "PBRM1"], "sex": "male", "n_nonsilent": 60, "n_silent": 20}
    status, body = _get(f"http://127.0.0.1:{port}/invocations", json.dumps({"instances": [patient]}).encode())
    assert status == 200, body
    answer = json.loads(body)
    assert [p["predicted_site"] for p in answer["predictions"]] == ["Kidney"]  # VHL + PBRM1


def test_worker_image_runs_the_pipeline_on_real_reads(images, tmp_path):
    user, health = _user_and_health(images, "gems-worker")
    assert user == "gems" and "workers.program.worker" in health
    demo = REPO / "embedded" / "demo"
    out = tmp_path / "out"
    out.mkdir()
    out.chmod(0o777)
    run = podman(
        images,
        "run", "--rm", "--network", "none",
        "-v", f"{demo}:/demo:ro", "-v", f"{out}:/out",
        "gems-worker",
        "gems", "run-sample", "--sample", "HG002",
        "--r1", "/demo/reads/HG002_S1_L001_R1_001.fastq.gz", "--r2", "/demo/reads/HG002_S1_L001_R2_001.fastq.gz",
        "--reference", "/demo/references/demo.fa", "--targets", "/demo/references/demo-targets.bed",
        "--out", "/out/HG002",
        timeout=900,
    )  # fmt: skip
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-3000:]
    produced = {p.name for p in (out / "HG002").iterdir()}
    assert "report.json" in produced and any(n.endswith(".bam") for n in produced), produced
    assert any(n.endswith(".vcf.gz") for n in produced), produced
