"""The embedded stack: moto, the API, the instance runner and the model server, on loopback."""

from __future__ import annotations

import logging
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from embedded import seed
from embedded.ec2_limits import EC2_ITSELF
from embedded.moto_server import MotoServer
from embedded.runner import InstanceRunner
from gems import logs
from gems.aws.clients import client
from gems.config import MOTO_AMI, REPO_ROOT, Config

log = logging.getLogger(__name__)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def json_errors():
    """The HTTP server's own errors (414 URI too long, 400 bad request line, ...) as JSON, like the
    app's: they are answered before any request reaches Flask."""
    import json

    from werkzeug.serving import WSGIRequestHandler

    class JSONErrorHandler(WSGIRequestHandler):
        error_content_type = "application/json"

        def send_error(self, code, message=None, explain=None):
            short = self.responses.get(code, ("error", ""))[0]
            body = {"error": short.lower().replace(" ", "_").replace("-", "_"), "message": message or short}
            self.error_message_format = json.dumps(body).replace("%", "%%")  # no placeholders left
            super().send_error(code, message, explain)

    return JSONErrorHandler


@dataclass
class StackOptions:
    home: Path = field(default_factory=lambda: REPO_ROOT / ".gems")
    port: int = 8000
    moto_port: int = 8001
    model_port: int = 8002
    imds_port: int = 0  # the instances' metadata service (any free port)
    persist: bool = True
    runner: bool = True
    model: bool = True
    seed_demo: bool = True
    # Boot instances as fresh EC2 machines: an empty disk, only the user-data's environment, the
    # worker installed by pip from the wheel this stack published (GEMS_WORKER_SOURCE overrides).
    cold: bool = False
    # Boot instances as containers of this worker image (a custom AMI's stand-in); implies cold.
    image: str | None = None


class Stack:
    def __init__(self, options: StackOptions | None = None):
        self.options = options or StackOptions()
        o = self.options
        o.cold = o.cold or bool(o.image)
        o.port = o.port or free_port()
        o.moto_port = o.moto_port or free_port()
        o.model_port = o.model_port or free_port()
        o.imds_port = o.imds_port or free_port()
        self.moto = MotoServer(o.moto_port, o.home / "aws" if o.persist else None)
        self.api_url = f"http://127.0.0.1:{o.port}"
        self.model_url = f"http://127.0.0.1:{o.model_port}"
        self.api_key = ""
        # What workers install: what is already here (warm), or the wheel published at start (cold).
        self.worker_source = (Config.from_env().worker_source or "local") if o.cold else "local"
        self.api_key_path: Path | None = None
        self.config: Config | None = None
        self.runner: InstanceRunner | None = None
        self._http = None
        self._model_proc: subprocess.Popen | None = None

    def environment(self) -> dict[str, str]:
        """What every process of the stack (and each local 'instance') sees."""
        o = self.options
        given = Config.from_env()  # what the user set for the stack, before the stack's own
        return {
            "AWS_ACCESS_KEY_ID": "embedded",
            "AWS_SECRET_ACCESS_KEY": "embedded",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_ENDPOINT_URL": self.moto.url,
            "GEMS_API": self.api_url,
            "GEMS_STATE_BUCKET": given.state_bucket,
            "GEMS_EMBEDDED": "1",
            "GEMS_HOME": str(o.home),
            "GEMS_MODEL_URL": self.model_url if o.model else "",
            "GEMS_IMDS_URL": f"http://127.0.0.1:{o.imds_port}",
            "GEMS_WORKER_SOURCE": self.worker_source,
            "GEMS_AMI_ID": given.ami_id or MOTO_AMI,
            # Workers launch with a role, as on AWS: their credentials come from their metadata.
            "GEMS_INSTANCE_PROFILE": given.instance_profile or "gems-worker",
        }

    def start(self) -> Stack:
        from werkzeug.serving import make_server

        from app import create_app
        from app.services import Services

        o = self.options
        o.home.mkdir(parents=True, exist_ok=True)
        for noisy in ("werkzeug", "botocore", "moto"):
            logging.getLogger(noisy).setLevel(logging.WARNING)
        env = self.environment()
        os.environ.update(env)  # boto3 and credstash in this process read the same settings
        self.moto.start()
        self.config = Config.from_env()
        self.api_key, self.api_key_path = seed.api_key(o.home)
        secrets = seed.secrets(self.config, self.api_key)
        services = self.services = Services.from_config(self.config, secrets=secrets)
        seed.buckets(services.clients.s3, self.config)
        if self.config.instance_profile:
            seed.instance_profile(client(self.config, "iam"), self.config.instance_profile)
        if o.cold and self.worker_source == "local":
            self._publish_worker(services.clients.s3)
        if o.seed_demo:
            seed.demo_data(services.clients.s3)
        if o.model:
            self._start_model()
        app = self._app = create_app(self.config, services=services)
        # The terminal is for people; the stack's JSON log lines go to a file.
        self.log_path = o.home / "gems.log"
        self._log_stream = open(self.log_path, "a", buffering=1)  # noqa: SIM115 - closed in stop()
        logs.configure("api", stream=self._log_stream)
        self._http = make_server("127.0.0.1", o.port, app, threaded=True, request_handler=json_errors())
        threading.Thread(target=self._http.serve_forever, name="api", daemon=True).start()
        self._write_env_file(env)
        if o.runner:
            # its own client: what stands in for EC2 is not throttled as the account is
            ec2 = client(self.config, "ec2", user_agent_extra=EC2_ITSELF)
            self.runner = InstanceRunner(
                ec2, services.jobs, o.home, dict(os.environ), cold=o.cold, image=o.image
            )
            self.runner.start()
        return self

    def _publish_worker(self, s3) -> None:
        """Build the worker wheel and put it in the local state bucket, as `gems deploy` does."""
        from gems.deploy import wheel

        built = wheel.build(self.options.home / "dist")
        key, url = wheel.publish(s3, self.config.state_bucket, built)
        self.worker_source = url
        os.environ["GEMS_WORKER_SOURCE"] = url
        self.config = self.config.with_(worker_source=url)
        self.services.config = self.services.jobs.config = self.config
        log.info("published the worker wheel to s3://%s/%s", self.config.state_bucket, key)

    def restart_api(self, down_s: float = 0.0) -> None:
        """Stop the API server, wait, and serve a fresh app on the same port, as a restarted API
        process (or a Lambda cold start) would: moto, the instance runner and the workers go on."""
        from werkzeug.serving import make_server

        from app import create_app
        from app.services import Services
        from gems.aws.secrets import CredstashSecrets

        self._http.shutdown()
        self._http.server_close()
        self._flush_drift()  # a process that ends writes its served counts
        time.sleep(down_s)
        services = Services.from_config(self.config, secrets=CredstashSecrets(self.config))
        app = self._app = create_app(self.config, services=services)
        logs.configure("api", stream=self._log_stream)
        self._http = make_server(
            "127.0.0.1", self.options.port, app, threaded=True, request_handler=json_errors()
        )
        threading.Thread(target=self._http.serve_forever, name="api", daemon=True).start()

    def _flush_drift(self) -> None:
        from app.drift import served_counts

        pending = served_counts(self._app) if getattr(self, "_app", None) is not None else None
        if pending is not None:
            pending.flush_quietly()

    def _write_env_file(self, env: dict[str, str]) -> None:
        """`source .gems/env` points any AWS tool (gems lake, the aws CLI) at this stack."""
        import shlex

        self.env_path = self.options.home / "env"
        keep = (
            "AWS_ACCESS_KEY_ID",
            "AWS_SECRET_ACCESS_KEY",
            "AWS_DEFAULT_REGION",
            "AWS_ENDPOINT_URL",
            "GEMS_API",
            "GEMS_EMBEDDED",
            "GEMS_HOME",
        )
        lines = [f"export {k}={shlex.quote(env[k])}" for k in keep]
        self.env_path.write_text(
            "# written by `gems up`: the embedded stack's local AWS and API\n" + "\n".join(lines) + "\n"
        )

    def _start_model(self) -> None:
        from ml.artifacts import default_model_dir

        cmd = [sys.executable, "-m", "ml.serve", "--model", str(default_model_dir()), "--host", "127.0.0.1"]
        cmd += ["--port", str(self.options.model_port)]
        log_path = self.options.home / "model-server.log"
        with open(log_path, "ab") as out:
            self._model_proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT)  # noqa: S603
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(f"{self.model_url}/ping", timeout=1)  # noqa: S310 - loopback
                return
            except urllib.error.HTTPError as exc:  # up, but without a usable model
                log.warning(
                    "the model server answers %s on /ping (see %s); /predict will answer 503",
                    exc.code,
                    log_path,
                )
                return
            except OSError:
                if self._model_proc.poll() is not None:
                    break
                time.sleep(0.3)
        log.warning("the model server did not start (see %s); /predict will answer 503", log_path)

    def stop(self) -> None:
        if self.runner:
            self.runner.stop()
        if self._http:
            self._http.shutdown()
        self._flush_drift()  # while moto still answers
        if self._model_proc and self._model_proc.poll() is None:
            self._model_proc.terminate()
            try:
                self._model_proc.wait(10)
            except subprocess.TimeoutExpired:
                self._model_proc.kill()
        self.moto.stop()
        if getattr(self, "_log_stream", None):
            self._log_stream.close()

    def __enter__(self) -> Stack:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()
