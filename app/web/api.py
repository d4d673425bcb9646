"""The small JSON reads the pages need beyond the job API: samples under a prefix, the model's gene
list, a job's reports (inline HTML links and step timings) and a sample's variants as predict input."""

from __future__ import annotations

from botocore.exceptions import ClientError
from flask import Blueprint, current_app, jsonify, request
from marshmallow import RAISE, Schema, fields, validate

from app.apidoc import Answer, Operation, documented
from app.auth import caller_reach, owner_only, require_api_key
from app.jobs.schemas import BUCKET_NAME
from gems import names
from gems.aws import s3 as S3
from gems.errors import GemsError, NotFoundError, UnavailableError, ValidationError
from gems.plan import check_bucket, check_prefix, discover_pairs, select_samples, unusable
from gems.statekeys import MULTIQC_REPORT, results_prefix
from gems.states import SampleStatus

bp = Blueprint("webapi", __name__)
MAX_VARIANTS_BYTES = 64 * 1024 * 1024  # a whole-genome variants.tsv is a few hundred MB: refuse, do not hang


class SamplesQuerySchema(Schema):
    class Meta:
        unknown = RAISE

    bucket = fields.String(required=True, validate=BUCKET_NAME)
    prefix = fields.String(required=True, validate=validate.Length(min=1, max=512))


class GenesQuerySchema(Schema):
    class Meta:
        unknown = RAISE

    q = fields.String(validate=validate.Length(max=40), metadata={"description": "symbol prefix"})
    limit = fields.Integer(validate=validate.Range(min=1, max=50000))


def _services():
    return current_app.extensions["gems"]


@bp.get("/samples")
@require_api_key
@documented(
    Operation(
        query=SamplesQuerySchema,
        responses={
            200: Answer(
                "Samples found under the prefix.",
                {"type": "object"},
                {
                    "bucket": "gems-demo",
                    "prefix": "demo/",
                    "count": 1,
                    "samples": [
                        {
                            "name": "NA12878",
                            "pairs": 1,
                            "size": 1065432,
                            "files": [
                                "demo/NA12878_S2_L001_R1_001.fastq.gz",
                                "demo/NA12878_S2_L001_R2_001.fastq.gz",
                            ],
                        }
                    ],
                },
            )
        },
        errors=(400, 403),
    )
)
def samples(query: dict):
    """The read pairs found under bucket/prefix, per sample, without launching anything.

    The same discovery POST /job uses: `<sample>_S1_L001_R1_001.fastq.gz` style pairs directly
    under the prefix; an unpaired mate or an empty prefix is a 400 naming the field. Pairs whose
    sample name breaks the rule (letters, digits, `._-`) are listed in `skipped` with the reason.
    """
    args = query
    prefix = check_prefix(args["prefix"])
    check_bucket(_services().config, args["bucket"])
    caller_reach().check_folder(args["bucket"], prefix)  # sample names are the data's too
    s3 = _services().clients.s3
    if not S3.bucket_exists(s3, args["bucket"]):
        raise ValidationError(f"bucket {args['bucket']!r} does not exist or is not readable", field="bucket")
    pairs = discover_pairs(list(S3.list_keys(s3, args["bucket"], prefix)), prefix)
    bad = unusable(pairs)
    if not pairs:
        select_samples(pairs, None)  # the 400 POST /job would give
    skipped = [
        {
            "name": names.shown(name),
            "files": [names.shown(k) for p in pairs[name] for k in (p.r1, p.r2)],
            "reason": why,
        }
        for name, why in sorted(bad.items())
    ]
    pairs = {name: ps for name, ps in pairs.items() if name not in bad}
    found = [
        {
            "name": name,
            "pairs": len(ps),
            "size": sum(p.size for p in ps),
            "files": [key for p in ps for key in (p.r1, p.r2)],
        }
        for name, ps in sorted(pairs.items())
    ]
    return jsonify(
        {
            "bucket": args["bucket"],
            "prefix": prefix,
            "count": len(found),
            "samples": found,
            "skipped": skipped,
        }
    )


def _vocabulary():
    from app.predict import vocabulary

    try:
        return vocabulary, vocabulary.load()
    except (OSError, KeyError, ValueError, GemsError) as exc:
        raise UnavailableError(f"the model's gene list cannot be read: {exc}") from None


@bp.get("/predict/genes")
@documented(
    Operation(
        query=GenesQuerySchema,
        responses={
            200: Answer(
                "Gene symbols (model features first) and accepted values.",
                {"type": "object"},
                {
                    "genes": ["KRAS", "KRT1"],
                    "total": 2,
                    "model_genes": 400,
                    "variant_classes": ["Missense_Mutation", "Nonsense_Mutation"],
                    "sexes": ["female", "male"],
                    "races": ["white", "black", "asian", "other", "unknown"],
                    "age_range": [10, 90],
                },
            )
        },
        errors=(400, 503),
    )
)
def genes(query: dict):
    """The gene symbols and values the served model accepts, for the prediction form's autocomplete.

    `q` narrows to symbols starting with it (case-insensitive), the model's own feature genes first.
    """
    args = query
    module, vocab = _vocabulary()
    q = (args.get("q") or "").upper()
    model = [g for g in vocab.model_genes if g.upper().startswith(q)]
    seen = set(model)
    rest = sorted(g for g in vocab.genes if g not in seen and g.upper().startswith(q))
    listed = model + rest
    limit = args.get("limit")
    response = jsonify(
        {
            "genes": listed[:limit] if limit else listed,
            "total": len(listed),
            "model_genes": len(vocab.model_genes),
            "variant_classes": list(module.VARIANT_CLASSES),
            "sexes": list(module.SEXES),
            "races": list(module.RACES),
            "age_range": list(vocab.age_range),
        }
    )
    response.cache_control.max_age = 3600
    response.cache_control.public = True
    return response


def _job(session_key: str) -> dict:
    return _services().jobs.get(session_key)


@bp.get("/job/<session_key>/reports")
@owner_only("session_key")
@documented(
    Operation(
        responses={
            200: Answer(
                "Per sample: an inline report link and the step timings.",
                {"type": "object"},
                {
                    "session_key": "cbb3a6d176c94146a4ff0e53ca8eba91",
                    "samples": {
                        "NA12878": {
                            "report_url": "https://gems-demo.s3.amazonaws.com/...report.html?...",
                            "status": SampleStatus.COMPLETE.value,
                            "steps": [{"step": "align", "status": "done", "seconds": 2.1}],
                        }
                    },
                },
            )
        }
    )
)
def reports(session_key: str):
    """Each sample's report: a link that opens report.html in the browser, and its step timings;
    and the job's MultiQC report (`multiqc_url`) once its last worker has built it.

    The link is pre-signed (an hour) with `Content-Type: text/html` so the browser shows the
    report instead of downloading it; the timings come from the sample's report.json.
    """
    job = _job(session_key)
    s3 = _services().clients.s3
    wanted = request.args.get("sample")
    base = results_prefix(job["prefix"], session_key)
    out: dict[str, dict] = {}
    multiqc = None
    for obj in S3.list_keys(s3, job["bucket"], base):
        sample, _, name = obj["Key"][len(base) :].partition("/")
        if obj["Key"] == base + MULTIQC_REPORT:  # the job's MultiQC page (workers.program.jobqc)
            multiqc = S3.presigned_get(
                s3, job["bucket"], obj["Key"], 3600, content_type="text/html; charset=utf-8", inline=True
            )
            continue
        if name not in ("report.html", "report.json") or (wanted and sample != wanted):
            continue
        entry = out.setdefault(sample, {"report_url": None, "status": None, "steps": []})
        if name == "report.html":
            entry["report_url"] = S3.presigned_get(
                s3, job["bucket"], obj["Key"], 3600, content_type="text/html; charset=utf-8", inline=True
            )
        else:
            report = S3.get_json(s3, job["bucket"], obj["Key"]) or {}
            entry["status"] = report.get("status")
            # a list, in the order the pipeline ran them (a JSON object's keys get sorted)
            entry["steps"] = [
                {
                    "step": step,
                    **{k: v for k, v in (info or {}).items() if k in ("status", "seconds", "reason")},
                }
                for step, info in (report.get("steps") or {}).items()
            ]
    return jsonify({"session_key": session_key, "samples": out, "multiqc_url": multiqc})


GERMLINE_WARNING = (
    "These are germline calls of one sample: gems does not call somatic variants yet. The model was "
    "trained on tumours' somatic mutations, so what it answers for them is not a prediction of a "
    "tumour's primary site. Use a tumour's somatic calls (from a tumour-normal caller) instead."
)


@bp.get("/job/<session_key>/samples/<sample>/mutations")
@owner_only("session_key")
@documented(
    Operation(
        responses={
            200: Answer(
                "The sample's coding variants as predict `mutations`.",
                {"type": "object"},
                {
                    "session_key": "cbb3a6d176c94146a4ff0e53ca8eba91",
                    "sample": "NA12878",
                    "mutations": [
                        {
                            "gene": "TP53",
                            "variant_class": "Missense_Mutation",
                            "protein_change": "p.R175H",
                        }
                    ],
                    "n_silent": 3,
                    "not_in_model": [],
                    "not_counted": 41,
                    "truncated": False,
                    "variant_origin": "germline",
                    "warning": "These are germline calls ...",
                },
            )
        },
        errors=(400, 503),
    )
)
def sample_mutations(session_key: str, sample: str):
    """A finished sample's variants.tsv turned into the `mutations` of a POST /predict body.

    PASS calls with a coding consequence in a gene the model knows, one per allele, with the MAF
    variant class and the protein change; silent ones are counted as `n_silent`. The pipeline calls
    one sample's germline variants (no tumour-normal pair, no somatic calling), so the answer says
    `variant_origin: germline` and carries a `warning`: the model was trained on tumours' somatic
    mutations, and what it answers for germline variants is no prediction of a tumour's site.
    """
    from app.web.variants import mutations_from_rows, read_tsv

    job = _job(session_key)
    key = results_prefix(job["prefix"], session_key, sample) + "variants.tsv"
    s3 = _services().clients.s3
    try:
        head = s3.head_object(Bucket=job["bucket"], Key=key)
    except ClientError:
        raise NotFoundError(
            f"sample {sample!r} of job {session_key} has no variants.tsv (not finished, or no annotation)",
            field="sample",
        ) from None
    if head["ContentLength"] > MAX_VARIANTS_BYTES:
        raise ValidationError(
            f"variants.tsv is {head['ContentLength'] // 2**20} MB; the form takes up to "
            f"{MAX_VARIANTS_BYTES // 2**20} MB (send the mutations to POST /predict yourself)",
            field="sample",
        )
    text = S3.get_text(s3, job["bucket"], key) or ""
    _, vocab = _vocabulary()
    mapped = mutations_from_rows(read_tsv(text), vocab.canonical)
    return jsonify(
        {
            "session_key": session_key,
            "sample": sample,
            "mutations": mapped.mutations,
            "n_silent": mapped.n_silent,
            "not_in_model": mapped.not_in_model,
            "not_counted": mapped.not_counted,
            "truncated": mapped.truncated,
            "variant_origin": "germline",
            "warning": GERMLINE_WARNING,
        }
    )
