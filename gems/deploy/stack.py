"""The stage's CloudFormation stack: plan (a change set, described and then deleted), apply,
outputs, destroy. The template is `template.yaml` beside this file; nothing here builds
resources by hand.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from botocore.exceptions import ClientError

from gems.deploy.settings import DeploySettings
from gems.errors import ConflictError, GemsError

TEMPLATE = Path(__file__).with_name("template.yaml")
CAPABILITIES = ["CAPABILITY_NAMED_IAM"]
NO_CHANGES = "didn't contain changes"
GONE = ("DELETE_COMPLETE",)
# States a stack can be changed from; anything *_IN_PROGRESS means another deploy is running.
SETTLED = ("CREATE_COMPLETE", "UPDATE_COMPLETE", "UPDATE_ROLLBACK_COMPLETE", "IMPORT_COMPLETE")


def parameters(s: DeploySettings) -> dict[str, str]:
    """The template's parameters for these settings (pure)."""
    reads = list(dict.fromkeys(s.data_buckets + s.reference_buckets))
    return {
        "Stage": s.stage,
        "VpcId": s.vpc_id,
        "SubnetId": s.subnet_id,
        "WorkerAmi": s.ami,
        "DataBuckets": ",".join(s.data_buckets),
        "ReadBuckets": ",".join(reads),
    }


def _cfn_parameters(params: dict[str, str]) -> list[dict]:
    return [{"ParameterKey": k, "ParameterValue": v} for k, v in params.items()]


@dataclass
class Plan:
    stack: str
    action: str  # "create", "update" or "none"
    changes: list[str] = field(default_factory=list)  # "Add  StateBucket (AWS::S3::Bucket)", ...
    parameters: dict[str, str] = field(default_factory=dict)

    def lines(self) -> list[str]:
        if self.action == "none":
            return [f"stack {self.stack}: no changes"]
        head = f"stack {self.stack}: {self.action}"
        return [head] + [f"  {c}" for c in self.changes]


def current(cfn, name: str) -> dict | None:
    try:
        stack = cfn.describe_stacks(StackName=name)["Stacks"][0]
    except ClientError as exc:
        if "does not exist" in str(exc):
            return None
        raise
    return None if stack["StackStatus"] in GONE else stack


def _old_parameters(stack: dict) -> dict[str, set[str]]:
    """Each parameter's stored value, and its resolved value for SSM-typed ones (the AMI)."""
    out: dict[str, set[str]] = {}
    for p in stack.get("Parameters", []):
        out[p["ParameterKey"]] = {_plain(p.get("ParameterValue", "")), _plain(p.get("ResolvedValue", ""))}
    return out


def _plain(value: str) -> str:
    # moto reports a CommaDelimitedList parameter as Python's repr of the list, AWS as given.
    if value.startswith("[") and value.endswith("]"):
        return ",".join(v.strip().strip("'\"") for v in value[1:-1].split(",") if v.strip())
    return value


def plan(cfn, s: DeploySettings, template: str | None = None) -> Plan:
    """What applying would do, from a change set that is deleted again: nothing changes."""
    body = TEMPLATE.read_text() if template is None else template
    params = parameters(s)
    stack = current(cfn, s.stack_name)
    if stack is not None and stack["StackStatus"] not in SETTLED:
        raise ConflictError(f"stack {s.stack_name} is {stack['StackStatus']}: wait for it, then deploy again")
    kind = "UPDATE" if stack else "CREATE"
    made = cfn.create_change_set(
        StackName=s.stack_name,
        ChangeSetName=f"gems-plan-{int(time.time())}",
        ChangeSetType=kind,
        TemplateBody=body,
        Parameters=_cfn_parameters(params),
        Capabilities=CAPABILITIES,
    )
    try:
        described = _settled_change_set(cfn, made["Id"], s.stack_name)
    finally:
        _drop_change_set(cfn, made["Id"], s.stack_name, created_stack=kind == "CREATE")
    if described["Status"] == "FAILED":
        if NO_CHANGES in (described.get("StatusReason") or ""):
            return Plan(s.stack_name, "none", parameters=params)
        raise GemsError(f"CloudFormation refused the change: {described.get('StatusReason')}")
    changes = [_change_line(c["ResourceChange"]) for c in described.get("Changes", [])]
    if stack is not None:
        old = _old_parameters(stack)
        same = {"WorkerAmi": {s.ami_id}}  # stored as the SSM name (AWS) or the image it named (moto)
        changes += [
            f"Parameter {k} -> {v!r}"
            for k, v in params.items()
            if not ({v} | same.get(k, set())) & old.get(k, set())
        ]
        if cfn.get_template(StackName=s.stack_name)["TemplateBody"] != body and not described.get("Changes"):
            changes.append("Template changed")
    return Plan(s.stack_name, kind.lower(), changes or ["(CloudFormation lists no resource changes)"], params)


def _change_line(rc: dict) -> str:
    extra = " (replaced)" if rc.get("Replacement") == "True" else ""
    return f"{rc['Action']:<6} {rc['LogicalResourceId']} ({rc['ResourceType']}){extra}"


def _settled_change_set(cfn, change_set: str, stack: str, timeout_s: float = 300) -> dict:
    deadline = time.monotonic() + timeout_s
    while True:
        d = cfn.describe_change_set(ChangeSetName=change_set, StackName=stack)
        if d["Status"] in ("CREATE_COMPLETE", "FAILED") or time.monotonic() > deadline:
            return d
        time.sleep(2)


def _drop_change_set(cfn, change_set: str, stack: str, *, created_stack: bool) -> None:
    cfn.delete_change_set(ChangeSetName=change_set, StackName=stack)
    if created_stack:
        # A CREATE change set leaves an empty stack in REVIEW_IN_PROGRESS; a plan must leave nothing.
        found = current(cfn, stack)
        if found is not None and found["StackStatus"] == "REVIEW_IN_PROGRESS":
            cfn.delete_stack(StackName=stack)


def apply(cfn, p: Plan, template: str | None = None) -> None:
    """Create or update the stack as planned and wait for it to settle."""
    if p.action == "none":
        return
    body = TEMPLATE.read_text() if template is None else template
    args = dict(
        StackName=p.stack,
        TemplateBody=body,
        Parameters=_cfn_parameters(p.parameters),
        Capabilities=CAPABILITIES,
    )
    if p.action == "create":
        cfn.create_stack(**args, Tags=[{"Key": "gems:stage", "Value": p.parameters["Stage"]}])
        waiter = "stack_create_complete"
    else:
        cfn.update_stack(**args)
        waiter = "stack_update_complete"
    try:
        cfn.get_waiter(waiter).wait(StackName=p.stack, WaiterConfig={"Delay": 5, "MaxAttempts": 360})
    except Exception as exc:  # noqa: BLE001 - the stack's own events say why; name them
        raise GemsError(f"stack {p.stack} did not {p.action}: {_last_failure(cfn, p.stack) or exc}") from exc


def _last_failure(cfn, stack: str) -> str:
    try:
        events = cfn.describe_stack_events(StackName=stack)["StackEvents"]
    except ClientError:
        return ""
    for e in events:
        if e.get("ResourceStatus", "").endswith("FAILED"):
            return f"{e['LogicalResourceId']}: {e.get('ResourceStatusReason', '')}"
    return ""


def outputs(cfn, name: str) -> dict[str, str]:
    stack = current(cfn, name)
    if stack is None:
        raise GemsError(f"stack {name} does not exist: run gems deploy first")
    return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}


def resources(cfn, name: str) -> list[tuple[str, str, str]]:
    """(logical id, type, physical id) of every resource in the stack."""
    pages = cfn.get_paginator("list_stack_resources").paginate(StackName=name)
    return [
        (r["LogicalResourceId"], r["ResourceType"], r.get("PhysicalResourceId", ""))
        for page in pages
        for r in page["StackResourceSummaries"]
    ]


def delete(cfn, name: str) -> None:
    cfn.delete_stack(StackName=name)
    try:
        cfn.get_waiter("stack_delete_complete").wait(
            StackName=name, WaiterConfig={"Delay": 5, "MaxAttempts": 360}
        )
    except Exception as exc:  # noqa: BLE001
        raise GemsError(f"stack {name} was not deleted: {_last_failure(cfn, name) or exc}") from exc
