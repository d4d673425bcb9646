"""Items 3 and 4: a job is its owner's (and admins'); TES FULL views never show logs to anyone else."""

from __future__ import annotations

import pytest
from security_helpers import LAB, bearer

from gems import statekeys

TES = "/ga4gh/tes/v1"
OWNER_ONLY = [
    ("get", "/job/{k}/logs"),
    ("get", "/job/{k}/results"),
    ("get", "/job/{k}/reports"),
    ("get", "/job/{k}/samples/S1/mutations"),
    ("post", "/job/{k}/retry"),
    ("post", "/job/{k}/stop"),
    ("post", TES + "/tasks/{k}:cancel"),
    ("get", TES + "/tasks/{k}?view=FULL"),
]


@pytest.fixture
def job(client):
    resp = client.post(
        "/job", json={"bucket": LAB, "prefix": "run1/", "hla_class": 1}, headers=bearer("alice")
    )
    assert resp.status_code == 201
    return resp.json["session_key"]


@pytest.mark.parametrize(("method", "path"), OWNER_ONLY)
def test_another_users_key_gets_the_404_of_an_unknown_job(client, services, job, method, path):
    call = getattr(client, method)
    theirs = call(path.format(k=job), headers=bearer("bob"))
    unknown = call(path.format(k="0" * 32), headers=bearer("bob"))
    assert theirs.status_code == unknown.status_code == 404
    assert theirs.json["error"] == unknown.json["error"] and theirs.json["field"] == "session_key"
    assert theirs.json["message"].replace(job, "0" * 32) == unknown.json["message"]
    assert services.jobs.get(job)["overall_status"] != "STOPPED"  # bob's stop and cancel did nothing
    for user in ("alice", "carol"):  # the owner, and an admin key
        answer = call(path.format(k=job), headers=bearer(user))
        assert answer.status_code != 404 or answer.json.get("field") != "session_key", (user, answer.json)


def test_without_a_key_owner_routes_are_401(client, job):
    for method, path in OWNER_ONLY:
        assert getattr(client, method)(path.format(k=job)).status_code == 401, path


def test_tes_full_views_show_logs_and_results_to_the_owner_only(client, services, job):
    cfg = services.config
    assert client.post(f"/job/{job}/stop", headers=bearer("alice")).status_code == 200
    services.clients.s3.put_object(
        Bucket=cfg.state_bucket, Key=statekeys.log_key(job, 0), Body=b"SECRET-LOG-LINE"
    )
    results = statekeys.results_prefix("run1/", job, "S1")
    services.clients.s3.put_object(Bucket=LAB, Key=results + "report.json", Body=b"{}")

    assert client.get(f"{TES}/tasks/{job}?view=FULL").status_code == 401
    assert client.get(f"{TES}/tasks?view=FULL").status_code == 401
    for user in ("bob",):
        listed = client.get(f"{TES}/tasks?view=FULL", headers=bearer(user))
        assert listed.status_code == 200
        text = listed.get_data(as_text=True)
        assert "SECRET-LOG-LINE" not in text and "report.json" not in text and '"stdout"' not in text
        assert [t["id"] for t in listed.json["tasks"]] == [job]  # listed, at BASIC detail
    for user in ("alice", "carol"):
        full = client.get(f"{TES}/tasks/{job}?view=FULL", headers=bearer(user)).get_data(as_text=True)
        assert "SECRET-LOG-LINE" in full and "report.json" in full
        listed = client.get(f"{TES}/tasks?view=FULL", headers=bearer(user)).get_data(as_text=True)
        assert "SECRET-LOG-LINE" in listed
    # BASIC and MINIMAL views stay as open as GET /job
    assert client.get(f"{TES}/tasks/{job}?view=BASIC").status_code == 200


def test_lake_rows_naming_samples_are_for_admin_keys(client):
    for path in ("/lake/carriers?gene=TP53", "/lake/qc-fails"):
        assert client.get(path).status_code == 401
        resp = client.get(path, headers=bearer("alice"))
        assert resp.status_code == 403 and resp.json["field"] == "Authorization"


def test_keys_made_by_the_cli_functions_act_as_their_user(services):
    from gems import auth

    secrets = services.keys.secrets
    key = auth.create_key(secrets, "dave", admin=True)
    assert services.keys.check_api_key(key) == auth.Caller("dave", admin=True)
    assert {"user": "dave", "admin": True, "scopes": []} in auth.list_keys(secrets)
    auth.revoke_key(secrets, "dave")
    assert services.keys.check_api_key(key) is None
    with pytest.raises(Exception, match="user name"):
        auth.create_key(secrets, "../evil")
