"""What a name given by a user or read from an S3 key may be, before it reaches a path or a bucket.

Three rules, each checked where the name comes in (submit, sample lookup, TES create, `gems
run-sample`) and again where it is used (the worker's disk), so a record written by an older
version cannot slip past:

- a sample name: letters, digits and `._-`, starting with a letter or a digit, at most 100
  characters (it becomes a folder, an S3 key segment, a tag value and a page's text);
- an S3 key that a worker turns into a file: no empty, `.` or `..` segment, no leading `/`, no
  backslash, no control character;
- an input URL of a job (reference, annotation, targets, HLA reference): `s3://` only, in the
  job's own bucket or one the deployment allow-lists, never the service's state or lake bucket.

A sample's name comes from its read files by one rule too (`read_file`, `sample_of`): the
planner, the sample lookup, TES and `gems run-sample` all name HG002_S1_L001_R1_001.fastq.gz HG002.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from gems.errors import ValidationError

SAMPLE_NAME_MAX = 100
_SAMPLE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$", re.ASCII)
BUCKET_NAME = re.compile(r"^[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9]$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
KEY_MAX = 1024  # S3's own limit, in bytes
SAMPLE_RULE = "letters, digits and . _ - only, starting with a letter or digit, at most 100 characters"


# A run's read files: <sample>_S1_L001_R1_001.fastq.gz (Illumina), <sample>_R1.fastq.gz, <sample>_1.fq.gz.
_READ_FILE = re.compile(r"^(?P<stem>.+?)_(?:R)?(?P<mate>[12])(?P<tail>_\d{3})?\.f(?:ast)?q\.gz$")
_ILLUMINA_SUFFIX = re.compile(r"_S\d+(?:_L\d{3})?$")  # sample number and lane
# Any other FASTQ a user hands `gems run-sample`: a read number and FASTQ suffixes dropped.
_LOOSE_SUFFIX = re.compile(r"([._-](R?[12])(_\d{3})?)?(\.f(ast)?q)?(\.gz)?$", re.IGNORECASE)


@dataclass(frozen=True)
class ReadFile:
    sample: str
    mate: str  # "1" or "2"
    pair: tuple[str, str]  # what R1 and R2 of one pair share: the name's stem and chunk number


def read_file(file_name: str) -> ReadFile | None:
    """A run's read file by its name, or None when the name is not one (it is then ignored)."""
    m = _READ_FILE.match(file_name)
    if not m:
        return None
    return ReadFile(_ILLUMINA_SUFFIX.sub("", m["stem"]), m["mate"], (m["stem"], m["tail"] or ""))


def sample_of(file_name: str) -> str:
    """The sample a read file is of: a run's naming first, else the name less its FASTQ suffixes."""
    found = read_file(file_name)
    if found:
        return found.sample
    return _ILLUMINA_SUFFIX.sub("", _LOOSE_SUFFIX.sub("", file_name)) or "sample"


def shown(name: str) -> str:
    """A name as an error message may print it: quoted, control characters escaped."""
    return ascii(name[:120])


def sample_problem(name: str) -> str | None:
    """Why `name` is not a valid sample name, or None when it is."""
    if not name:
        return "the sample name is empty"
    if len(name) > SAMPLE_NAME_MAX:
        return f"the sample name is {len(name)} characters long (at most {SAMPLE_NAME_MAX})"
    if not _SAMPLE.match(name):
        return f"sample names may hold {SAMPLE_RULE}"
    return None


def check_sample(name: str, field: str = "samples") -> str:
    problem = sample_problem(name)
    if problem:
        raise ValidationError(f"sample {shown(name)}: {problem}", field=field)
    return name


def key_problem(key: str) -> str | None:
    """Why an S3 key cannot safely become a path below a folder, or None."""
    if not key:
        return "the key is empty"
    if len(key.encode()) > KEY_MAX:
        return f"the key is over {KEY_MAX} bytes"
    if _CONTROL.search(key):
        return "the key holds a control character"
    if key.startswith("/") or "\\" in key:
        return "the key must be relative, with '/' separators only"
    segments = key.rstrip("/").split("/")
    if any(s in ("", ".", "..") for s in segments):
        return "the key must not hold empty, '.' or '..' segments"
    return None


def check_key(key: str, field: str) -> str:
    problem = key_problem(key)
    if problem:
        raise ValidationError(f"{field}: {shown(key)}: {problem}", field=field)
    return key


def inside(root: Path, relative: str, field: str = "key") -> Path:
    """`root / relative`, refused unless it stays inside `root` once resolved (links included)."""
    check_key(relative, field)
    base = root.resolve()
    target = (base / relative).resolve()
    if target != base and base not in target.parents:
        raise ValidationError(f"{field}: {shown(relative)} points outside its folder", field=field)
    return target


def check_bucket(bucket: str, field: str) -> str:
    if not BUCKET_NAME.match(bucket or "") or ".." in bucket:
        raise ValidationError(f"{field}: {shown(bucket)} is not a valid S3 bucket name", field=field)
    return bucket


def input_url(
    url: str, *, job_bucket: str, allowed: tuple[str, ...], forbidden: tuple[str, ...], field: str
) -> tuple[str, str]:
    """An input of a job -> (bucket, key), or ValidationError naming the field.

    `s3://bucket/key` or a bare key in the job's bucket; the bucket must be the job's own or one
    in `allowed`, and never one in `forbidden` (the service's own state and lake).
    """
    if not isinstance(url, str) or not url:
        raise ValidationError(f"{field} must be an s3:// URL or a key in the job's bucket", field=field)
    if url.startswith("s3://"):
        bucket, _, key = url[5:].partition("/")
        check_bucket(bucket, field)
    elif "://" in url or url.startswith("/") or ":" in url.split("/", 1)[0]:
        raise ValidationError(
            f"{field}: only s3:// URLs (or keys in the job's bucket) are read, not {shown(url[:40])}",
            field=field,
        )
    else:
        bucket, key = job_bucket, url
    if bucket in forbidden:
        raise ValidationError(f"{field}: bucket {bucket!r} belongs to the service itself", field=field)
    if bucket != job_bucket and bucket not in allowed:
        allowed_text = ", ".join(allowed) if allowed else "none (GEMS_REFERENCE_BUCKETS is unset)"
        raise ValidationError(
            f"{field}: bucket {bucket!r} is neither the job's bucket nor an allowed reference bucket "
            f"({allowed_text})",
            field=field,
        )
    check_key(key, field)
    return bucket, key
