"""Planning a job (pure): find sample pairs, spread them over workers, build each launch.

Nothing here talks to AWS; gems.jobs.service executes the plan through the wrappers in gems.aws.
"""

from __future__ import annotations

import hashlib
import math
import posixpath
import re
import uuid
from dataclasses import dataclass, field

import gems.tags
from gems import alignments, launchspec, names, sharding, statekeys, volumes
from gems.capacity import Capacity
from gems.config import Config
from gems.errors import ValidationError
from gems.scopes import Reach
from gems.volumes import Volume
from userdata.render import MAX_USER_DATA, render_user_data

_SAFE_PREFIX = re.compile(r"^[\w .:/=+\-@]+$", re.ASCII)


@dataclass(frozen=True)
class ReadPair:
    r1: str  # S3 key
    r2: str
    size: int = 0


@dataclass
class JobRequest:
    bucket: str
    prefix: str
    hla_class: int
    samples: list[str] | None = None
    workers: int | None = None
    reference: str | None = None
    options: dict = field(default_factory=dict)
    capacity: str | None = None  # spot or on-demand; None: the deployment's default
    system_retries: int | None = None  # relaunches of workers the platform takes; None: default
    max_cost_usd: float | None = None  # past it: no relaunch, and the job is stopped
    callback_url: str | None = None  # POSTed the job's JSON, signed, on each status change
    shards: int | None = None  # per sample (gems.sharding); None: chosen from each sample's size


@dataclass
class WorkerLaunch:
    """One worker's launch as planned: its samples, tags, manifest key, user-data and the
    RunInstances request (what the job record keeps of it is `gems.records.WorkerPlan`)."""

    index: int
    samples: list[str]
    tags: dict[str, str]
    manifest_key: str
    user_data: str = ""
    request: dict = field(default_factory=dict)
    capacity: Capacity = Capacity.ON_DEMAND
    attempt: int = 1
    replaces: int | None = None
    volume: Volume | None = None  # its root volume (None: the image's own)


@dataclass
class JobPlan:
    session_key: str
    created: str
    request: JobRequest
    pairs: dict[str, list[ReadPair]]  # by work unit: a shard unit has none (its lead cuts its reads)
    workers: list[WorkerLaunch]
    shards: dict[str, int] = field(default_factory=dict)  # the sharded samples' shard counts


def check_prefix(prefix: str) -> str:
    """Normalise a prefix; refuse empty, absolute, `..` or characters a tag cannot carry."""
    if not prefix or not prefix.strip("/"):
        raise ValidationError("prefix must not be empty", field="prefix")
    if prefix.startswith("/") or "\\" in prefix:
        raise ValidationError("prefix must be relative (no leading '/')", field="prefix")
    parts = prefix.split("/")
    if any(p in ("..", ".") for p in parts):
        raise ValidationError("prefix must not contain '.' or '..' segments", field="prefix")
    if not _SAFE_PREFIX.match(prefix):
        raise ValidationError(
            "prefix may hold letters, digits, spaces and . _ - / : = + @ only", field="prefix"
        )
    return prefix.strip("/") + "/"


INPUT_OPTIONS = ("hla_reference", "annotation", "targets")


def inputs(config: Config, request: JobRequest) -> list[tuple[str, str, str]]:
    """(field, bucket, key) of every S3 input a job names besides its reads; ValidationError
    naming the field for one outside the job's bucket and the reference buckets, or unsafe."""
    urls = [("reference", request.reference)]
    urls += [(f"options.{k}", (request.options or {}).get(k)) for k in INPUT_OPTIONS]
    return [
        (field_name, *names.input_url(
            url,
            job_bucket=request.bucket,
            allowed=config.reference_buckets,
            forbidden=config.service_buckets,
            field=field_name,
        ))
        for field_name, url in urls
        if url is not None
    ]  # fmt: skip


def check_bucket(config: Config, bucket: str) -> str:
    """A bucket a job or a listing may read: a valid name, never the service's own."""
    names.check_bucket(bucket, "bucket")
    if bucket in config.service_buckets:
        raise ValidationError(f"bucket {bucket!r} belongs to the service itself", field="bucket")
    return bucket


def check_reach(config: Config, request: JobRequest, reach: Reach) -> None:
    """The job's reads and every input in a non-reference bucket must lie inside the caller's
    scopes (a 403 naming the field). Call after check_request: the URLs are valid by then."""
    reach.check_folder(request.bucket, request.prefix)
    for field_name, bucket, key in inputs(config, request):
        if bucket not in config.reference_buckets:
            reach.check(bucket, key, field_name)


def check_request(config: Config, request: JobRequest) -> None:
    """Everything a job names must stay inside its own bucket (or an allow-listed one): no scheme
    but s3://, never the service's state or lake bucket, no key that could climb out of a folder."""
    check_bucket(config, request.bucket)
    inputs(config, request)
    for sample in request.samples or []:
        names.check_sample(sample, "samples")
    capacity_of(config, request)
    retries_of(config, request)
    if request.shards is not None:
        sharding.check_count(request.shards)
    sharding.batch_of(request.options)
    alignments.chosen_format((request.options or {}).get("alignment_format"), 0)
    cap = request.max_cost_usd
    if cap is not None and not (isinstance(cap, int | float) and 0 < cap < float("inf")):
        raise ValidationError("max_cost_usd must be a positive number of dollars", field="max_cost_usd")


MAX_SYSTEM_RETRIES = 10


def capacity_of(config: Config, request: JobRequest) -> Capacity:
    given, field_name = (
        (request.capacity, "capacity") if request.capacity else (config.capacity, "GEMS_CAPACITY")
    )
    try:
        return Capacity(given)
    except ValueError:
        allowed = ", ".join(c.value for c in Capacity)
        raise ValidationError(
            f"{field_name} must be one of {allowed}, not {given!r}", field=field_name
        ) from None


def retries_of(config: Config, request: JobRequest) -> int:
    n = config.system_retries if request.system_retries is None else request.system_retries
    if not 0 <= n <= MAX_SYSTEM_RETRIES:
        raise ValidationError(f"system_retries must be 0-{MAX_SYSTEM_RETRIES}", field="system_retries")
    return n


def discover_pairs(objects: list[dict], prefix: str) -> dict[str, list[ReadPair]]:
    """Group `*_R1_*.fastq.gz`/`*_R2_*` objects directly under `prefix` into pairs per sample.

    Results of earlier jobs (under `<prefix>results/`) are ignored. Several lanes of one sample
    become several pairs of that sample. An R1 without its R2 (or the reverse) is an error.
    """
    mates: dict[tuple[str, str], dict[str, tuple[str, int]]] = {}
    sample_of_pair: dict[tuple[str, str], str] = {}
    for obj in objects:
        key = obj["Key"]
        rel = key[len(prefix) :] if key.startswith(prefix) else key
        if "/" in rel:
            continue
        read = names.read_file(rel)
        if read is None:
            continue
        sample_of_pair[read.pair] = read.sample
        mates.setdefault(read.pair, {})[read.mate] = (key, int(obj.get("Size", 0)))
    pairs: dict[str, list[ReadPair]] = {}
    for pair_id, found in sorted(mates.items()):
        if set(found) != {"1", "2"}:
            have, missing = ("R1", "R2") if "1" in found else ("R2", "R1")
            raise ValidationError(
                f"{posixpath.basename(next(iter(found.values()))[0])} has no {missing} mate", field="prefix"
            )
        pairs.setdefault(sample_of_pair[pair_id], []).append(
            ReadPair(r1=found["1"][0], r2=found["2"][0], size=found["1"][1] + found["2"][1])
        )
    return pairs


def unusable(pairs: dict[str, list[ReadPair]]) -> dict[str, str]:
    """Samples whose names break the sample-name rule (gems.names), with the reason."""
    return {s: why for s in pairs if (why := names.sample_problem(s))}


def select_samples(pairs: dict[str, list[ReadPair]], wanted: list[str] | None) -> dict[str, list[ReadPair]]:
    if not pairs:
        raise ValidationError("no *_R1_*/*_R2_* fastq.gz pairs found under the prefix", field="prefix")
    if wanted is None:
        bad = unusable(pairs)
        if bad:
            name, why = next(iter(bad.items()))
            raise ValidationError(
                f"sample {names.shown(name)} ({names.shown(posixpath.basename(pairs[name][0].r1))}): {why}; "
                "rename its files, or list the samples to run in `samples`",
                field="samples",
                details={"unusable": [names.shown(s) for s in bad]},
            )
        return pairs
    missing = [s for s in wanted if s not in pairs]
    if missing:
        raise ValidationError(
            f"samples not found under the prefix: {', '.join(missing[:5])}; found: {', '.join(sorted(pairs)[:10])}",
            field="samples",
        )
    return {s: pairs[s] for s in dict.fromkeys(wanted)}


def worker_count(n_samples: int, requested: int | None, config: Config) -> int:
    if requested is not None:
        if requested < 1:
            raise ValidationError("workers must be at least 1", field="workers")
        if requested > config.max_workers:
            raise ValidationError(
                f"workers ({requested}) is over the cap of {config.max_workers}", field="workers"
            )
        return min(requested, n_samples)
    return min(max(1, math.ceil(n_samples / config.samples_per_worker)), config.max_workers)


def assign(pairs: dict[str, list[ReadPair]], n_workers: int) -> list[list[str]]:
    """Longest-processing-time first: the biggest samples go to the least loaded worker."""
    loads = [0] * n_workers
    groups: list[list[str]] = [[] for _ in range(n_workers)]
    sizes = {s: sum(p.size for p in ps) for s, ps in pairs.items()}
    for sample in sorted(pairs, key=lambda s: (-sizes[s], s)):
        i = min(range(n_workers), key=lambda k: (loads[k], len(groups[k]), k))
        groups[i].append(sample)
        loads[i] += sizes[sample]
    return [sorted(g) for g in groups]


def new_session_key(user: str, idempotency_key: str | None) -> str:
    """A fresh key, or one derived from the Idempotency-Key so a retried POST finds its job."""
    if idempotency_key:
        return hashlib.sha256(f"{user}\0{idempotency_key}".encode()).hexdigest()[:32]
    return uuid.uuid4().hex


def plan_worker(
    config: Config,
    request: JobRequest,
    *,
    session_key: str,
    created: str,
    token: str,
    index: int,
    samples: list[str],
    attempt: int = 1,
    replaces: int | None = None,
    launched: str | None = None,
    volume: Volume | None = None,
) -> WorkerLaunch:
    """One worker's launch: its tags, its user-data, its root `volume` and its RunInstances
    request. A relaunch (`attempt` > 1) names the worker it `replaces` and the time it is
    `launched`."""
    mkey = statekeys.manifest_key(session_key, index)
    capacity = capacity_of(config, request)
    w = WorkerLaunch(
        index=index,
        samples=samples,
        manifest_key=mkey,
        capacity=capacity,
        attempt=attempt,
        replaces=replaces,
        volume=volume,
        tags=gems.tags.launch_tags(
            session_key=session_key,
            index=index,
            bucket=request.bucket,
            prefix=request.prefix,
            hla_class=str(request.hla_class),
            created=created,
            samples=samples,
            manifest_key=mkey,
            capacity=capacity.value,
            attempt=attempt,
            replaces=replaces,
            launched=launched,
        ),
    )
    w.user_data = render_user_data(launchspec.worker_env(config, session_key, index, token))
    if len(w.user_data.encode()) > MAX_USER_DATA:
        raise ValidationError(
            f"user-data is {len(w.user_data.encode())} bytes (EC2 allows {MAX_USER_DATA})",
            field="samples",
        )
    w.request = launchspec.run_instances_request(
        config, w.tags, w.user_data, w.capacity, w.volume, client_token=f"{session_key}-{index}"
    )
    return w


def plan_job(
    config: Config,
    request: JobRequest,
    pairs: dict[str, list[ReadPair]],
    *,
    session_key: str,
    created: str,
    token: str,
) -> JobPlan:
    """Samples over workers: a sharded sample's units (gems.sharding) each get a worker of their
    own; the other samples are spread over `workers` as before."""
    chosen = select_samples(pairs, request.samples)
    sizes = {s: sum(p.size for p in ps) for s, ps in chosen.items()}
    counts = sharding.counts_for(
        sizes, request.shards, sharding.batch_of(request.options), reference=request.reference,
        max_workers=config.max_workers,
    )  # fmt: skip
    sharded = {s: n for s, n in counts.items() if n > 1}
    plain = {s: ps for s, ps in chosen.items() if s not in sharded}
    groups = assign(plain, worker_count(len(plain), request.workers, config)) if plain else []
    for sample, n in sharded.items():
        groups += [[unit] for unit in sharding.units(sample, n)]
    if len(groups) > config.max_workers:
        raise ValidationError(
            f"the job needs {len(groups)} workers, over the cap of {config.max_workers}", field="shards"
        )
    by_unit = {u: chosen.get(u, []) for group in groups for u in group}
    workers = [
        plan_worker(
            config,
            request,
            session_key=session_key,
            created=created,
            token=token,
            index=i,
            samples=units,
            volume=volumes.for_units(units, sizes, sharded),
        )  # fmt: skip
        for i, units in enumerate(groups)
    ]
    return JobPlan(
        session_key=session_key,
        created=created,
        request=request,
        pairs=by_unit,
        workers=workers,
        shards=sharded,
    )
