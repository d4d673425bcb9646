"""The web blueprint's entries in the OpenAPI document (app.openapi_registry)."""

from __future__ import annotations

from app.openapi_registry import Answer, Operation, register
from app.web.api import GenesQuerySchema, SamplesQuerySchema
from gems.states import SampleStatus

_PAGE = Operation(html=True, responses={200: Answer("An HTML page.", html=True)})


def describe() -> None:
    for endpoint in ("web.jobs_page", "web.new_job_page", "web.predict_page"):
        register(endpoint, _PAGE)
    # 404: this deployment has no BaseSpace app configured.
    register(
        "web.basespace.launch",
        Operation(html=True, responses={200: Answer("An HTML page.", html=True)}, errors=(400, 404, 503)),
    )
    register(
        "web.job_page",
        Operation(html=True, responses={200: Answer("An HTML page.", html=True)}, errors=(404,)),
    )
    register(
        "web.job_workers_fragment",
        Operation(html=True, responses={200: Answer("An HTML fragment.", html=True)}, errors=(404,)),
    )
    register(
        "web.basespace.confirm",
        Operation(
            html=True,
            form={
                "type": "object",
                "required": ["token", "session_id"],
                "properties": {
                    "token": {
                        "type": "string",
                        "description": "the BaseSpace access token the launch page got",
                    },
                    "session_id": {"type": "string", "description": "the BaseSpace app session id"},
                    "returnurl": {"type": "string", "description": "where 'Back to BaseSpace' goes"},
                },
            },
            responses={
                303: Answer("The job was launched: on to its page.", html=True),
                200: Answer("The launch page again, with the reason it could not start.", html=True),
            },
            errors=(400, 404, 503),
        ),
    )
    register(
        "web.webapi.samples",
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
            errors=(400,),
        ),
    )
    register(
        "web.webapi.genes",
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
        ),
    )
    register(
        "web.webapi.reports",
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
        ),
    )
    register(
        "web.webapi.sample_mutations",
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
                    },
                )
            },
            errors=(400, 503),
        ),
    )
