"""Property: offline clients replaying random interleavings converge and lose nothing.

Each example runs several `SyncClient`s (one QA desk, the rest worker headsets) against
one server. They queue creates, edits (with the base version their replica knows) and
comments while offline, and flush through a flaky link that drops requests before they
arrive and answers after they were applied (so ops are retried). At the end every op is
acknowledged or refused with a reason, the sequence numbers are gap-free with exactly
the events of the acknowledged ops, and every replica equals the server's state.
"""

from __future__ import annotations

import random
import tempfile
import uuid
from pathlib import Path

import httpx
from hypothesis import HealthCheck, Phase, event, given, settings
from hypothesis import strategies as st
from sync_factories import anchor, auth

from arinspect.client import SyncClient

STATUSES = ["open", "in_progress", "resolved", "verified", "rejected", "closed"]


class FlakyLink:
    """Wraps the test client: loses requests (offline) and answers (after applying)."""

    def __init__(self, inner, rng: random.Random, p_lost: float, p_ack_lost: float) -> None:
        self.inner, self.rng = inner, rng
        self.p_lost, self.p_ack_lost = p_lost, p_ack_lost
        self.online = True

    def request(self, method, url, **kwargs):
        if not self.online or self.rng.random() < self.p_lost:
            raise httpx.ConnectError("no Wi-Fi in the double bottom")
        answer = self.inner.request(method, url, **kwargs)
        if self.rng.random() < self.p_ack_lost:
            raise httpx.ReadTimeout("answer lost")
        return answer


step = st.tuples(
    st.integers(0, 3),  # which client
    st.sampled_from(
        [
            "create",
            "update",
            "update",
            "update",
            "comment",
            "flush",
            "flush",
            "pull",
            "pull",
            "toggle",
        ]
    ),
    st.integers(0, 10_000),  # free parameter
)


@settings(
    max_examples=15,
    deadline=None,
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    steps=st.lists(step, min_size=10, max_size=60),
    n_clients=st.integers(2, 3),
    seed=st.integers(0, 2**32 - 1),
    p_lost=st.sampled_from([0.0, 0.2, 0.5]),
    p_ack_lost=st.sampled_from([0.0, 0.2, 0.5]),
)
def test_offline_replay_converges_and_loses_nothing(
    client, tokens, steps, n_clients, seed, p_lost, p_ack_lost
):
    rng = random.Random(seed)
    section = f"prop-{uuid.uuid4().hex[:12]}"  # a fresh section per example
    made = client.post(
        "/api/sections", json={"id": section, "name": section}, headers=auth(tokens["engineer"])
    )
    assert made.status_code in (200, 201)
    roles = ["qa"] + ["worker", "worker2"] * 2
    with tempfile.TemporaryDirectory() as folder:
        links = [FlakyLink(client, rng, p_lost, p_ack_lost) for _ in range(n_clients)]
        clients = [
            SyncClient("http://testserver", tokens[roles[i]], Path(folder) / f"c{i}", http=links[i])
            for i in range(n_clients)
        ]
        created: list[str] = []
        own: list[set[str]] = [set() for _ in range(n_clients)]
        comments: list[str] = []
        queued_ops = 0
        # two annotations everybody knows before going offline (so that edits collide)
        for _ in range(2):
            created.append(
                clients[-1].create_annotation(
                    section,
                    part_id="SHARED",
                    kind="note",
                    title="shared",
                    anchor=anchor(),
                    flush=False,
                )
            )
            queued_ops += 1
        saved = [(link.p_lost, link.p_ack_lost) for link in links]
        for link in links:
            link.p_lost = link.p_ack_lost = 0.0
        clients[-1].flush()
        for me in clients:
            me.pull(section)
        for link, (lost, ack_lost) in zip(links, saved, strict=True):
            link.p_lost, link.p_ack_lost = lost, ack_lost
        for who, action, param in steps:
            who %= n_clients
            me, link = clients[who], links[who]
            known = sorted(set(me.replica(section).annotations) | own[who])
            if action == "create":
                created.append(
                    me.create_annotation(
                        section,
                        part_id=f"P{param % 5}",
                        kind="defect",
                        title=f"t{param}",
                        anchor=anchor(),
                        flush=False,
                    )
                )
                own[who].add(created[-1])
                queued_ops += 1
            elif action == "update" and known:
                target = known[param % len(known)]
                field = param % 3
                change = (
                    {"status": STATUSES[param % len(STATUSES)]}
                    if field == 0
                    else {"title": f"edit {param}"}
                    if field == 1
                    else {"labels": [f"l{param % 4}"]}
                )
                me.update_annotation(section, target, flush=False, **change)
                queued_ops += 1
            elif action == "comment" and known:
                comments.append(
                    me.add_comment(section, known[param % len(known)], f"c{param}", flush=False)
                )
                queued_ops += 1
            elif action == "flush":
                me.flush()
            elif action == "pull":
                try:
                    me.pull(section)
                except httpx.TransportError:
                    pass
            elif action == "toggle":
                link.online = not link.online

        for link in links:  # everybody back on good Wi-Fi
            link.online, link.p_lost, link.p_ack_lost = True, 0.0, 0.0
        for me in clients:
            report = me.flush()
            assert report.remaining == 0 and not report.offline
        for me in clients:
            me.pull(section)

        # nothing lost: every op acknowledged or refused with a reason
        rejected = [op for me in clients for op in me.queue.rejected()]
        assert all(op.result["status"] in (403, 422) and op.result["detail"] for op in rejected)
        assert all(op.method == "PATCH" for op in rejected)  # creates and comments all land
        server = {
            a["id"]: a
            for a in client.get(
                f"/api/sections/{section}/annotations", headers=auth(tokens["qa"])
            ).json()
        }
        assert sorted(server) == sorted(created)
        events = client.get(
            f"/api/sections/{section}/events", params={"limit": 10_000}, headers=auth(tokens["qa"])
        ).json()["events"]
        assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
        by_op: dict[str, int] = {}
        for e in events:
            by_op[e["op_id"]] = by_op.get(e["op_id"], 0) + 1
        server_comments = {e["id"] for e in events if e["entity"] == "comment"}
        assert server_comments == set(comments)
        assert sum(
            1 for e in events if e["action"] == "created" and e["entity"] == "annotation"
        ) == len(created)
        assert len(by_op) + len(rejected) <= queued_ops
        # convergence: every replica equals the server
        conflicts = {
            c["id"]: c
            for c in client.get(
                f"/api/sections/{section}/conflicts", headers=auth(tokens["qa"])
            ).json()
        }
        event(f"conflicts: {'some' if conflicts else 'none'}")
        event(f"refused ops: {'some' if rejected else 'none'}")
        for me in clients:
            replica = me.replica(section)
            assert replica.last_seq == len(events)
            assert replica.annotations == server
            assert replica.conflicts == conflicts
            assert set(replica.comments) == set(comments)
            assert me.queue.pending() == []
