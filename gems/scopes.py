"""Key scopes: which S3 data an API key may run jobs on.

A key made with `gems keys create NAME --scope BUCKET[/PREFIX]...` may submit a job (POST /job,
a TES task, a retry) only when the job's bucket and prefix, and every input it names in the
job's bucket, lie inside one of its scopes; `GET /samples` lists only inside them too. Inputs in
the deployment's reference buckets (GEMS_REFERENCE_BUCKETS: shared genomes and annotations) are
open to every key. A key without scopes reads the whole lab (every bucket the service may read)
unless the deployment sets GEMS_KEYS_NEED_SCOPES=1; an admin key reads everything. A refusal is
a 403 naming the field and comes before anything is stored or listed.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from gems import names
from gems.errors import ForbiddenError, ValidationError

MAX_SCOPES = 50


@dataclass(frozen=True)
class Scope:
    """A bucket, or one folder of it (`prefix` ends with '/'; '' is the whole bucket)."""

    bucket: str
    prefix: str = ""

    @classmethod
    def parse(cls, text: str, field: str = "scope") -> Scope:
        """`BUCKET` or `BUCKET/PREFIX`: a folder, so `lab/alice` never covers `lab/alice2/`."""
        if not isinstance(text, str) or not text.strip():
            raise ValidationError("a scope is BUCKET or BUCKET/PREFIX", field=field)
        bucket, _, prefix = text.strip().removeprefix("s3://").partition("/")
        names.check_bucket(bucket, field)
        prefix = prefix.strip("/")
        if prefix:
            if problem := names.key_problem(prefix):
                raise ValidationError(f"scope prefix {names.shown(prefix)}: {problem}", field=field)
            prefix += "/"
        return cls(bucket, prefix)

    def covers(self, bucket: str, key: str) -> bool:
        """Whether an object key (or a job's prefix, ending in '/') lies inside this scope."""
        return bucket == self.bucket and key.startswith(self.prefix)

    def __str__(self) -> str:
        return f"{self.bucket}/{self.prefix}".rstrip("/")


def parse_all(texts: Iterable[str], field: str = "scope") -> tuple[Scope, ...]:
    out = tuple(dict.fromkeys(Scope.parse(t, field) for t in texts))
    if len(out) > MAX_SCOPES:
        raise ValidationError(f"a key holds at most {MAX_SCOPES} scopes", field=field)
    return out


@dataclass(frozen=True)
class Reach:
    """What one caller may read: everything (admin, or a key without scopes where that is the
    lab's rule), or only inside its scopes."""

    scopes: tuple[Scope, ...] = ()
    everything: bool = True
    user: str = ""

    @classmethod
    def of(cls, caller, *, keys_need_scopes: bool) -> Reach:
        """`caller`: a gems.auth.Caller."""
        if caller.admin:
            return cls()
        scopes = parse_all(caller.scopes)
        if not scopes and keys_need_scopes:
            return cls((), everything=False, user=caller.user)
        return cls(scopes, everything=not scopes, user=caller.user)

    def allows(self, bucket: str, key: str) -> bool:
        return self.everything or any(s.covers(bucket, key) for s in self.scopes)

    def check_folder(self, bucket: str, prefix: str) -> None:
        """A job's (or a listing's) bucket and prefix: the 403 names `bucket` when no scope
        holds that bucket at all, else `prefix`."""
        held = any(s.bucket == bucket for s in self.scopes)
        self.check(bucket, prefix, "prefix" if held else "bucket")

    def check(self, bucket: str, key: str, field: str) -> None:
        """403 naming the field when the object or prefix lies outside every scope."""
        if self.allows(bucket, key):
            return
        if not self.scopes:
            raise ForbiddenError(
                f"the key of {self.user} has no scopes, and this deployment requires them "
                "(an admin can add some: gems keys create NAME --scope BUCKET/PREFIX)",
                field=field,
            )
        held = ", ".join(str(s) for s in self.scopes)
        raise ForbiddenError(
            f"{field}: s3://{bucket}/{key} is outside the scopes of this key ({held})", field=field
        )
