"""A real deployment refuses to start workers that could never stop their fleet or boot (issue 14)."""

from __future__ import annotations

import pytest

from gems.config import MOTO_AMI, Config
from gems.errors import UnavailableError


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({}, "GEMS_AMI_ID"),
        ({"GEMS_AMI_ID": "ami-0abc"}, "GEMS_API"),
        ({"GEMS_AMI_ID": "ami-0abc", "GEMS_API": "http://localhost:8000"}, "GEMS_API"),
    ],
)
def test_missing_stage_settings_are_a_503_naming_them(env, named):
    with pytest.raises(UnavailableError, match=named):
        Config.from_env(env).check_launch()


def test_a_configured_deployment_and_the_embedded_stack_may_launch():
    Config.from_env(
        {"GEMS_AMI_ID": "ami-0abc", "GEMS_API": "https://x.execute-api.us-east-1.amazonaws.com/dev"}
    ).check_launch()
    embedded = {"GEMS_AMI_ID": MOTO_AMI, "AWS_ENDPOINT_URL": "http://127.0.0.1:8001", "GEMS_EMBEDDED": "1"}
    Config.from_env(embedded).check_launch()
