"""Configuration, read from the environment in this one place."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from urllib.parse import urlsplit

from gems.errors import NotFoundError, UnavailableError

REPO_ROOT = Path(__file__).resolve().parent.parent


def _int(env: dict, key: str, default: int) -> int:
    raw = env.get(key)
    return default if raw in (None, "") else int(raw)


def _path(env: dict, key: str, default: Path) -> Path:
    raw = env.get(key)
    return Path(raw).expanduser() if raw else default


@dataclass(frozen=True)
class BaseSpaceSettings:
    api_url: str = "https://api.basespace.illumina.com"
    oauth_url: str = "https://basespace.illumina.com"
    client_id: str = ""
    client_secret: str = ""
    bucket: str = ""  # where the launched samples' FASTQs are copied for the job
    job_defaults: dict = field(default_factory=dict)  # reference/options merged into each job
    redirect_uri: str = ""  # this endpoint's public URL, when the app cannot see it (API Gateway stage)
    defaults_ok: bool = True  # GEMS_BASESPACE_JOB_DEFAULTS parsed as a JSON object

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> BaseSpaceSettings:
        env = os.environ if environ is None else environ
        base = cls()
        raw = env.get("GEMS_BASESPACE_JOB_DEFAULTS") or "{}"
        try:
            defaults = json.loads(raw)
        except ValueError:
            defaults = None  # said by check(), when a launch needs it, not at app start-up
        return cls(
            api_url=(env.get("GEMS_BASESPACE_API") or base.api_url).rstrip("/"),
            oauth_url=(env.get("GEMS_BASESPACE_OAUTH") or base.oauth_url).rstrip("/"),
            client_id=env.get("GEMS_BASESPACE_CLIENT_ID", ""),
            client_secret=env.get("GEMS_BASESPACE_CLIENT_SECRET", ""),
            bucket=env.get("GEMS_BASESPACE_BUCKET", ""),
            job_defaults=defaults if isinstance(defaults, dict) else {},
            defaults_ok=isinstance(defaults, dict),
            redirect_uri=env.get("GEMS_BASESPACE_REDIRECT_URI", ""),
        )

    def check(self) -> None:
        if not self.defaults_ok:
            raise UnavailableError("GEMS_BASESPACE_JOB_DEFAULTS is not a JSON object")
        missing = [
            name
            for name, value in (
                ("GEMS_BASESPACE_CLIENT_ID", self.client_id),
                ("GEMS_BASESPACE_CLIENT_SECRET", self.client_secret),
                ("GEMS_BASESPACE_BUCKET", self.bucket),
            )
            if not value
        ]
        if missing:
            # Not a server fault: this deployment simply has no BaseSpace app.
            raise NotFoundError(
                f"BaseSpace launch is not configured on this deployment: set {', '.join(missing)}"
            )


@dataclass(frozen=True)
class WorkerSettings:
    """What a worker instance is told by its user-data (exports rendered by gems.plan)."""

    session_key: str = ""  # GEMS_SESSION_KEY: the job it works for
    instance_index: int | None = None  # GEMS_INSTANCE_INDEX: which of the job's workers it is
    job_token: str = ""  # GEMS_JOB_TOKEN: its job's token for the API's worker calls
    # GEMS_WORKDIR: where samples are worked on (unset: a fresh temporary folder per worker)
    workdir: Path | None = None
    # GEMS_PIDFILE: where the worker writes its process id, for the embedded runner or an operator
    pidfile: Path | None = None
    log_path: Path = Path("/var/log/gems-worker.log")  # GEMS_LOG: the log uploaded beside its record
    # AWS_EC2_METADATA_SERVICE_ENDPOINT (botocore's own name): the instance metadata service
    metadata_endpoint: str = "http://169.254.169.254/"

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> WorkerSettings:
        base = cls()
        index = env.get("GEMS_INSTANCE_INDEX")
        return cls(
            session_key=env.get("GEMS_SESSION_KEY", ""),
            instance_index=int(index) if index not in (None, "") else None,
            job_token=env.get("GEMS_JOB_TOKEN", ""),
            workdir=Path(env["GEMS_WORKDIR"]) if env.get("GEMS_WORKDIR") else None,
            pidfile=Path(env["GEMS_PIDFILE"]) if env.get("GEMS_PIDFILE") else None,
            log_path=Path(env.get("GEMS_LOG") or base.log_path),
            metadata_endpoint=env.get("AWS_EC2_METADATA_SERVICE_ENDPOINT") or base.metadata_endpoint,
        )


@dataclass(frozen=True)
class Config:
    """Everything the app, the workers and the CLI read from the environment."""

    region: str = "us-east-1"
    # None on real AWS; the embedded stack points every boto3 client (and credstash) here.
    endpoint_url: str | None = None
    # Where job records, manifests and the model registry live.
    state_bucket: str = "gems-state"
    # Buckets besides the job's own that job inputs (reference, annotation, ...) may be read from.
    reference_buckets: tuple[str, ...] = ()
    # The cohort data lake (Parquet tables of every finished sample, see docs/lake.md).
    lake_bucket: str = "gems-lake"
    # Public URL of the API, handed to workers so they can call /stop_instances.
    api_url: str = "http://127.0.0.1:8000"
    credstash_table: str = "credential-store"
    kms_alias: str = "alias/credstash"  # the KMS key credstash encrypts new secrets with
    # Whether the region came from AWS_DEFAULT_REGION/AWS_REGION (gems deploy will not guess one).
    region_given: bool = False
    max_workers: int = 20
    samples_per_worker: int = 3
    ami_id: str = ""  # required on AWS; the embedded stack and tests use moto's example image
    instance_type: str = "c5.2xlarge"
    instance_profile: str | None = None
    subnet_id: str | None = None
    security_group_ids: tuple[str, ...] = ()
    # A worker whose heartbeat is older than this is declared FAILED by the read path.
    heartbeat_timeout_s: int = 900
    # CreateTags a second one job's fleet may spend on liveness and progress (gems.tagrate):
    # EC2 refills an account's mutating actions at about 5 a second.
    tag_writes_per_s: float = 2.0
    # The dead-man's switch: a worker instance still up after this long powers itself off.
    max_runtime_s: int = 86400
    # How workers are bought unless a job says (gems.capacity): "on-demand" or "spot".
    capacity: str = "on-demand"
    # Relaunches of each worker's work the platform took (spot reclaim, lost instance).
    system_retries: int = 2
    # Where job costs are priced: "live" (AWS spot price history and Price List API, the shipped
    # table for what they cannot price) or "table" (gems/billing/prices.json only); unset: live on AWS,
    # the table against an endpoint (moto has no real prices).
    prices: str = "live"
    # How long a failed callback delivery is tried again (with backoff) before it is given up.
    callback_retry_s: int = 21600
    # How often a worker asks its metadata service for a spot interruption notice.
    spot_poll_s: float = 5.0
    # Where worker code comes from on a real instance (pip spec or wheel URL); "local" in the embedded stack.
    worker_source: str = "local"
    sagemaker_endpoint: str | None = None
    # Model deployment (`gems model deploy-candidate`): the serving image, the role SageMaker assumes.
    serve_image: str | None = None
    sagemaker_role: str | None = None
    sagemaker_instance_type: str = "ml.m5.large"
    model_url: str | None = None  # local inference server (embedded stack)
    imds_url: str | None = None  # the embedded stack's instance metadata server
    shared_dir: Path = field(default_factory=lambda: (REPO_ROOT.parent / "shared").resolve())
    # A built peer HLA typer (T1K's source folder after `make`) that benchmarks.hla_peer runs
    # beside gems on the same reads; benchmarks only, never the product.
    t1k_dir: Path | None = None
    home: Path = field(default_factory=lambda: default_home())
    embedded: bool = False
    # GET /job is open by default (lab dashboards, curl); set GEMS_READ_REQUIRES_KEY=1 to close it.
    read_requires_key: bool = False
    # Whether a non-admin key without scopes may submit nothing (GEMS_KEYS_NEED_SCOPES=1) instead
    # of reading the whole lab (gems.scopes).
    keys_need_scopes: bool = False
    basespace: BaseSpaceSettings = field(default_factory=BaseSpaceSettings)
    worker: WorkerSettings = field(default_factory=WorkerSettings)
    # The API key the CLI and the embedded stack use instead of .gems/api_key.
    api_key: str | None = None
    # Where built HLA typing indexes are kept (GEMS_HLA_CACHE; else $XDG_CACHE_HOME/gems/hla,
    # else ~/.cache/gems/hla).
    hla_cache: Path = field(default_factory=lambda: Path.home() / ".cache" / "gems" / "hla")
    # The model the embedded stack, the CLI and the inference server use (GEMS_MODEL_DIR; unset:
    # the committed one, or SageMaker's /opt/ml/model where it is mounted).
    model_dir: Path | None = None
    model_host: str = "0.0.0.0"  # GEMS_MODEL_HOST: where the inference server listens
    # GEMS_MODEL_PORT, or SAGEMAKER_BIND_TO_PORT where SageMaker sets it
    model_port: int = 8080
    log_level: str = "INFO"  # GEMS_LOG_LEVEL
    debug: bool = False  # GEMS_DEBUG=1: the CLI shows tracebacks instead of one line

    @classmethod
    def from_env(cls, env: dict | None = None) -> Config:
        env = dict(os.environ if env is None else env)
        base = cls()
        groups = env.get("GEMS_SECURITY_GROUP_IDS", "")
        references = env.get("GEMS_REFERENCE_BUCKETS", "")
        return cls(
            region=env.get("AWS_DEFAULT_REGION") or env.get("AWS_REGION") or base.region,
            endpoint_url=env.get("AWS_ENDPOINT_URL") or None,
            state_bucket=env.get("GEMS_STATE_BUCKET", base.state_bucket),
            reference_buckets=tuple(b.strip() for b in references.split(",") if b.strip()),
            lake_bucket=env.get("GEMS_LAKE_BUCKET", base.lake_bucket),
            api_url=env.get("GEMS_API", base.api_url).rstrip("/"),
            credstash_table=env.get("GEMS_CREDSTASH_TABLE", base.credstash_table),
            kms_alias=env.get("GEMS_KMS_ALIAS") or base.kms_alias,
            region_given=bool(env.get("AWS_DEFAULT_REGION") or env.get("AWS_REGION")),
            max_workers=_int(env, "GEMS_MAX_WORKERS", base.max_workers),
            samples_per_worker=_int(env, "GEMS_SAMPLES_PER_WORKER", base.samples_per_worker),
            ami_id=env.get("GEMS_AMI_ID", base.ami_id),
            instance_type=env.get("GEMS_INSTANCE_TYPE", base.instance_type),
            instance_profile=env.get("GEMS_INSTANCE_PROFILE") or None,
            subnet_id=env.get("GEMS_SUBNET_ID") or None,
            security_group_ids=tuple(g for g in groups.split(",") if g),
            heartbeat_timeout_s=_int(env, "GEMS_HEARTBEAT_TIMEOUT", base.heartbeat_timeout_s),
            tag_writes_per_s=float(env.get("GEMS_TAG_WRITES_PER_S") or base.tag_writes_per_s),
            max_runtime_s=_int(env, "GEMS_MAX_RUNTIME", base.max_runtime_s),
            capacity=env.get("GEMS_CAPACITY") or base.capacity,
            system_retries=_int(env, "GEMS_SYSTEM_RETRIES", base.system_retries),
            prices=env.get("GEMS_PRICES") or ("table" if env.get("AWS_ENDPOINT_URL") else base.prices),
            callback_retry_s=_int(env, "GEMS_CALLBACK_RETRY_S", base.callback_retry_s),
            spot_poll_s=float(env.get("GEMS_SPOT_POLL_S") or base.spot_poll_s),
            worker_source=env.get("GEMS_WORKER_SOURCE", base.worker_source),
            sagemaker_endpoint=env.get("GEMS_SAGEMAKER_ENDPOINT") or None,
            serve_image=env.get("GEMS_SERVE_IMAGE") or None,
            sagemaker_role=env.get("GEMS_SAGEMAKER_ROLE") or None,
            sagemaker_instance_type=env.get("GEMS_SAGEMAKER_INSTANCE_TYPE") or base.sagemaker_instance_type,
            model_url=env.get("GEMS_MODEL_URL") or None,
            imds_url=env.get("GEMS_IMDS_URL") or None,
            shared_dir=_path(env, "GEMS_SHARED", base.shared_dir),
            t1k_dir=Path(env["GEMS_T1K"]).expanduser() if env.get("GEMS_T1K") else None,
            home=_path(env, "GEMS_HOME", base.home),
            embedded=env.get("GEMS_EMBEDDED", "") == "1",
            read_requires_key=env.get("GEMS_READ_REQUIRES_KEY", "") == "1",
            keys_need_scopes=env.get("GEMS_KEYS_NEED_SCOPES", "") == "1",
            basespace=BaseSpaceSettings.from_env(env),
            worker=WorkerSettings.from_env(env),
            api_key=env.get("GEMS_API_KEY") or None,
            hla_cache=_hla_cache(env),
            model_dir=_path(env, "GEMS_MODEL_DIR", Path()) if env.get("GEMS_MODEL_DIR") else None,
            model_host=env.get("GEMS_MODEL_HOST") or base.model_host,
            model_port=int(
                env.get("SAGEMAKER_BIND_TO_PORT") or env.get("GEMS_MODEL_PORT") or base.model_port
            ),
            log_level=env.get("GEMS_LOG_LEVEL") or base.log_level,
            debug=bool(env.get("GEMS_DEBUG")),
        )

    @property
    def service_buckets(self) -> tuple[str, str]:
        """The service's own buckets: never a job's input or output."""
        return (self.state_bucket, self.lake_bucket)

    @property
    def own_ports(self) -> frozenset[int]:
        """The ports of this deployment's own services on its machine (the embedded stack's API,
        local AWS, model and metadata servers): a job's callback may never reach them."""
        ports = set()
        for url in (self.api_url, self.endpoint_url, self.model_url, self.imds_url):
            try:
                parts = urlsplit(url or "")
                port = parts.port or {"http": 80, "https": 443}.get(parts.scheme)
            except ValueError:
                continue
            if port:
                ports.add(port)
        return frozenset(ports)

    def check_launch(self) -> None:
        """Settings a real deployment must give before it may start workers (a 503 naming them):
        workers must be able to reach the API to stop their fleet, and boot a real image."""
        missing = []
        if not self.ami_id:
            missing.append("GEMS_AMI_ID (the worker image)")
        if not self.embedded and self.endpoint_url is None and _loopback(self.api_url):
            missing.append(f"GEMS_API (workers cannot reach {self.api_url} to stop their fleet)")
        if missing:
            raise UnavailableError("this deployment cannot start workers: set " + "; ".join(missing))

    def with_(self, **changes) -> Config:
        return replace(self, **changes)


def _hla_cache(env: Mapping[str, str]) -> Path:
    if env.get("GEMS_HLA_CACHE"):
        return Path(env["GEMS_HLA_CACHE"]).expanduser()
    xdg = env.get("XDG_CACHE_HOME")
    return (Path(xdg).expanduser() if xdg else Path.home() / ".cache") / "gems" / "hla"


def default_home() -> Path:
    """`.gems` of the checkout; of the user's home for an installed gems (a worker image, an
    instance), whose package folder is not for writing."""
    if (REPO_ROOT / "pyproject.toml").is_file():
        return REPO_ROOT / ".gems"
    return Path.home() / ".gems"


def _loopback(url: str) -> bool:
    from urllib.parse import urlparse

    host = urlparse(url).hostname or ""
    return host in ("localhost", "::1") or host.startswith("127.")


MOTO_AMI = "ami-12c6146b"  # an image moto knows (the embedded stack and tests)
# The embedded stack's demo data (embedded/seed.py uploads it; the new-job page offers it).
DEMO_BUCKET = "gems-demo"
DEMO_PREFIX = "demo/"


def shared_dir() -> Path:
    """The real shared data (../shared beside the repo unless GEMS_SHARED says otherwise)."""
    return Config.from_env().shared_dir
