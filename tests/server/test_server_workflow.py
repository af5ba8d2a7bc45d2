"""Status workflow with role checks, and the role-aware rule for concurrent edits."""

from __future__ import annotations

import pytest
from sync_factories import annotation_body, auth, new_op

from arinspect_server.errors import ForbiddenError, InvalidTransitionError
from arinspect_server.services.workflow import check_transition, decide


@pytest.fixture
def annotation(client, section, tokens):
    answer = client.post(
        f"/api/sections/{section}/annotations",
        json=annotation_body(),
        headers=auth(tokens["worker"]),
    )
    return answer.json()["data"]


def patch(client, section, annotation_id, token, base_version, **fields):
    body = {"op_id": new_op(), "base_version": base_version, **fields}
    return client.patch(
        f"/api/sections/{section}/annotations/{annotation_id}", json=body, headers=auth(token)
    )


def test_transition_table():
    check_transition("open", "in_progress", "worker")
    check_transition("resolved", "verified", "qa")
    check_transition("verified", "closed", "qa")
    check_transition("rejected", "in_progress", "worker")
    with pytest.raises(ForbiddenError, match="role worker may not set status verified"):
        check_transition("resolved", "verified", "worker")
    with pytest.raises(ForbiddenError, match="needs qa"):
        check_transition("open", "closed", "engineer")
    with pytest.raises(InvalidTransitionError, match="from verified to open"):
        check_transition("verified", "open", "qa")


def test_decide_applies_fresh_fields_and_ranks_concurrent_ones():
    qa_meta = {"version": 3, "by": "quinn", "role": "qa"}
    worker_meta = {"version": 3, "by": "wim", "role": "worker"}
    fresh = decide("title", "new", "old", {"version": 1, "role": "worker"}, 2, "worker", "open")
    assert (fresh.apply, fresh.conflict) == (True, False)
    same = decide("title", "x", "x", qa_meta, 1, "worker", "open")
    assert (same.apply, same.conflict) == (False, False)
    loses = decide("status", "in_progress", "verified", qa_meta, 2, "worker", "verified")
    assert (loses.apply, loses.conflict) == (False, True)
    wins = decide("title", "b", "a", worker_meta, 2, "qa", "open")
    assert (wins.apply, wins.conflict) == (True, True)
    peer = decide("title", "b", "a", worker_meta, 2, "worker", "open")
    assert (peer.apply, peer.conflict) == (True, True)


def test_full_workflow_with_roles(client, section, tokens, annotation):
    aid = annotation["id"]
    steps = [
        ("worker", "in_progress"),
        ("worker", "resolved"),
        ("qa", "rejected"),
        ("worker", "in_progress"),
        ("worker", "resolved"),
        ("qa", "verified"),
        ("qa", "closed"),
    ]
    version = 1
    for role, status in steps:
        answer = patch(client, section, aid, tokens[role], version, status=status)
        assert answer.status_code == 200, answer.text
        assert answer.json()["data"]["status"] == status
        assert answer.json()["conflicts"] == []
        version = answer.json()["data"]["version"]
    assert version == 8


def test_fresh_forbidden_or_invalid_status_changes_are_refused(client, section, tokens, annotation):
    aid = annotation["id"]
    assert patch(client, section, aid, tokens["worker"], 1, status="resolved").status_code == 200
    forbidden = patch(client, section, aid, tokens["worker"], 2, status="verified")
    assert forbidden.status_code == 403
    assert forbidden.json()["detail"] == (
        "role worker may not set status verified (from resolved); needs qa"
    )
    invalid = patch(client, section, aid, tokens["qa"], 2, status="closed")
    assert invalid.status_code == 422
    assert "status cannot go from resolved to closed" in invalid.json()["detail"]
    assert patch(client, section, aid, tokens["worker"], 2, status=None).status_code == 422
    newer = patch(client, section, aid, tokens["worker"], 9, title="x")
    assert newer.status_code == 422 and "newer than the stored version 2" in newer.json()["detail"]


def test_stale_worker_edit_never_overwrites_qa_verified(client, section, tokens, annotation):
    aid = annotation["id"]
    assert patch(client, section, aid, tokens["worker"], 1, status="resolved").status_code == 200
    assert patch(client, section, aid, tokens["qa"], 2, status="verified").status_code == 200
    # a headset that was offline since version 2 sends "in_progress" and a new title
    stale = patch(
        client,
        section,
        aid,
        tokens["worker2"],
        2,
        status="in_progress",
        title="collar plate missing, frame 1",
    )
    assert stale.status_code == 200
    data = stale.json()["data"]
    assert data["status"] == "verified"  # QA's value stays
    assert data["title"] == "collar plate missing, frame 1"  # nobody else changed the title
    assert data["version"] == 4
    [conflict] = stale.json()["conflicts"]
    assert conflict["field"] == "status" and conflict["winner"] == "stored"
    assert (conflict["stored_value"], conflict["incoming_value"]) == ("verified", "in_progress")
    assert (conflict["stored_by"], conflict["stored_role"]) == ("quinn", "qa")
    assert (conflict["incoming_by"], conflict["incoming_device"]) == ("wanda", "hl2-08")
    listed = client.get(f"/api/sections/{section}/conflicts", headers=auth(tokens["worker"]))
    assert listed.json() == [conflict]
    events = client.get(
        f"/api/sections/{section}/events", params={"since": 3}, headers=auth(tokens["qa"])
    ).json()["events"]
    assert [(e["seq"], e["entity"]) for e in events] == [(4, "annotation"), (5, "conflict")]
    assert events[1]["data"] == conflict


def test_stale_qa_edit_wins_over_worker_and_leaves_a_record(client, section, tokens, annotation):
    aid = annotation["id"]
    assert patch(client, section, aid, tokens["worker"], 1, assignee="wim").status_code == 200
    stale = patch(client, section, aid, tokens["qa"], 1, assignee="wanda")
    data = stale.json()["data"]
    assert data["assignee"] == "wanda"
    [conflict] = stale.json()["conflicts"]
    assert conflict["winner"] == "incoming" and conflict["stored_value"] == "wim"


def test_stale_worker_edit_loses_every_field_to_qa_and_changes_nothing(
    client, section, tokens, annotation
):
    aid = annotation["id"]
    assert (
        patch(client, section, aid, tokens["qa"], 1, status="closed", labels=["dup"]).status_code
        == 200
    )
    stale = patch(client, section, aid, tokens["worker"], 1, status="in_progress", labels=["x"])
    assert stale.status_code == 200
    assert stale.json()["data"]["version"] == 2
    assert sorted(c["field"] for c in stale.json()["conflicts"]) == ["labels", "status"]
    assert {c["winner"] for c in stale.json()["conflicts"]} == {"stored"}
    assert stale.json()["seqs"] == [3, 4]  # two conflict events, no annotation update


def test_assignee_can_be_cleared_and_viewpoint_replaced(client, section, tokens, annotation):
    aid = annotation["id"]
    assert patch(client, section, aid, tokens["worker"], 1, assignee="wim").status_code == 200
    cleared = patch(client, section, aid, tokens["worker"], 2, assignee=None)
    assert cleared.json()["data"]["assignee"] is None
