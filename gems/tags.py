"""The EC2 tag codec: a worker's state as instance tags, within real AWS limits.

Real EC2 allows 50 tags per resource, keys of 128 and values of 256 characters, letters,
digits, spaces and `+ - = . _ : / @` only, and no `aws:` prefix. moto checks none of that
but the count, so the product enforces it here, before anything is sent.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

from gems.errors import ValidationError
from gems.states import WorkerStatus

MAX_TAGS = 50
MAX_KEY = 128
MAX_VALUE = 256
_ALLOWED = re.compile(r"^[\w .:/=+\-@]*$", re.ASCII)

PREFIX = "gems:"
SESSION = PREFIX + "session"
INDEX = PREFIX + "index"
BUCKET = PREFIX + "bucket"
JOB_PREFIX = PREFIX + "prefix"
HLA_CLASS = PREFIX + "hla-class"
CREATED = PREFIX + "created"
STATUS = PREFIX + "status"
# A finished worker's status, written only with its final record. The worker writes STATUS to
# S3 and then to its tags; a tag write delayed past the stop's would set STATUS back to RUNNING
# (EC2 tags are last writer wins), but no unfinished write ever touches ENDED, so it decides.
ENDED = PREFIX + "ended"
STEP = PREFIX + "step"
UPDATED = PREFIX + "updated"
HEARTBEAT = PREFIX + "heartbeat"
REASON = PREFIX + "reason"
SAMPLES = PREFIX + "samples"  # space-separated sample names, when they fit (commas are not allowed)
MANIFEST = PREFIX + "manifest"  # else: the S3 key of the worker's sample manifest
PROGRESS = PREFIX + "progress"  # samples finished / total, e.g. "1/3"
ATTEMPT = PREFIX + "attempt"  # 1, then 2, ... for a worker relaunched after its instance was lost
REPLACES = PREFIX + "replaces"  # the index of the worker a relaunch took over from
CAPACITY = PREFIX + "capacity"  # spot or on-demand, as launched
NAME = "Name"


class TagError(ValidationError):
    """A tag that real EC2 would refuse."""


def now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def clean_value(value: str) -> str:
    """Make free text (a step name, a failure reason) safe for a tag value."""
    text = re.sub(r"[^\w .:/=+\-@]", " ", str(value), flags=re.ASCII)
    text = re.sub(r"\s+", " ", text).strip()
    return text[:MAX_VALUE]


def check_tag(key: str, value: str) -> None:
    if not key or len(key) > MAX_KEY:
        raise TagError(f"tag key {key[:40]!r} must be 1-{MAX_KEY} characters", field="tags")
    if key.lower().startswith("aws:"):
        raise TagError(f"tag key {key[:40]!r} uses the reserved aws: prefix", field="tags")
    if len(value) > MAX_VALUE:
        raise TagError(f"tag {key!r} value is {len(value)} characters (limit {MAX_VALUE})", field="tags")
    for text in (key, value):
        if not _ALLOWED.match(text):
            raise TagError(f"tag {key[:40]!r} has characters EC2 does not allow", field="tags")


def to_aws(tags: dict[str, str]) -> list[dict[str, str]]:
    """Validate a tag dict against EC2's limits and return it in the API's list shape."""
    if len(tags) > MAX_TAGS:
        raise TagError(f"{len(tags)} tags (EC2 allows {MAX_TAGS} per instance)", field="tags")
    out = []
    for key, value in tags.items():
        value = str(value)
        check_tag(key, value)
        out.append({"Key": key, "Value": value})
    return out


def from_aws(items: list[dict]) -> dict[str, str]:
    return {t["Key"]: t["Value"] for t in items}


_NAME_IN_TAG = re.compile(r"^[\w.:/=+\-@]+$", re.ASCII)


def fits_in_tag(names: list[str]) -> bool:
    joined = " ".join(names)
    return len(joined) <= MAX_VALUE and all(_NAME_IN_TAG.match(n) for n in names)


@dataclass(frozen=True)
class WorkerTags:
    """What the read path learns about one worker from its tags."""

    instance_id: str
    session_key: str
    index: int
    bucket: str
    prefix: str
    hla_class: str
    created: str
    status: WorkerStatus
    step: str
    updated: str
    heartbeat: str
    reason: str
    samples: list[str] | None  # None when they live in a manifest
    manifest: str | None
    progress: str
    attempt: int = 1
    replaces: int | None = None
    capacity: str = ""

    @classmethod
    def parse(cls, instance_id: str, tags: dict[str, str]) -> WorkerTags | None:
        if SESSION not in tags or INDEX not in tags:
            return None
        try:
            status = WorkerStatus(tags.get(ENDED) or tags.get(STATUS, WorkerStatus.PENDING.value))
            index = int(tags[INDEX])
            attempt = int(tags.get(ATTEMPT) or 1)
            replaces = int(tags[REPLACES]) if tags.get(REPLACES) else None
        except ValueError:
            return None  # a hand-edited tag must not break the listing
        samples = tags.get(SAMPLES)
        return cls(
            instance_id=instance_id,
            session_key=tags[SESSION],
            index=index,
            bucket=tags.get(BUCKET, ""),
            prefix=tags.get(JOB_PREFIX, ""),
            hla_class=tags.get(HLA_CLASS, ""),
            created=tags.get(CREATED, ""),
            status=status,
            step=tags.get(STEP, ""),
            updated=tags.get(UPDATED, ""),
            heartbeat=tags.get(HEARTBEAT, ""),
            reason=tags.get(REASON, ""),
            samples=samples.split(" ") if samples else ([] if MANIFEST not in tags else None),
            manifest=tags.get(MANIFEST),
            progress=tags.get(PROGRESS, ""),
            attempt=attempt,
            replaces=replaces,
            capacity=tags.get(CAPACITY, ""),
        )


def launch_tags(
    *,
    session_key: str,
    index: int,
    bucket: str,
    prefix: str,
    hla_class: str,
    created: str,
    samples: list[str],
    manifest_key: str,
    capacity: str = "on-demand",
    attempt: int = 1,
    replaces: int | None = None,
    launched: str | None = None,
) -> dict[str, str]:
    """The tags an instance carries from its first moment (TagSpecifications); `launched` (a
    relaunch's own time, else the job's) starts its heartbeat clock."""
    tags = {
        NAME: f"gems-{session_key[:12]}-{index}",
        SESSION: session_key,
        INDEX: str(index),
        BUCKET: bucket,
        JOB_PREFIX: prefix,
        HLA_CLASS: hla_class,
        CREATED: created,
        STATUS: WorkerStatus.PENDING.value,
        STEP: "launching",
        UPDATED: launched or created,
        HEARTBEAT: launched or created,
        PROGRESS: f"0/{len(samples)}",
        CAPACITY: capacity,
        ATTEMPT: str(attempt),
    }
    if replaces is not None:
        tags[REPLACES] = str(replaces)
    if fits_in_tag(samples):
        tags[SAMPLES] = " ".join(samples)
    else:
        tags[MANIFEST] = manifest_key
    to_aws(tags)  # refuse now what EC2 would refuse later
    return tags
