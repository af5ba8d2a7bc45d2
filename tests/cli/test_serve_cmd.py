"""``arinspect token`` and ``arinspect serve`` as a user runs them."""

from __future__ import annotations

import subprocess
import sys

import httpx
import pytest

from arinspect.cli import main


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "arinspect", *args], capture_output=True, text=True, timeout=120
    )


def test_token_create_revoke_list(tmp_path, capsys):
    db = f"sqlite:///{tmp_path / 'a.db'}"
    assert (
        main(
            [
                "token",
                "create",
                "--db",
                db,
                "--user",
                "wim",
                "--role",
                "worker",
                "--device",
                "hl2-07",
            ]
        )
        == 0
    )
    token = capsys.readouterr().out.strip().splitlines()[-1]
    assert token.startswith("ari_") and len(token) > 40
    assert main(["token", "list", "--db", db]) == 0
    assert capsys.readouterr().out.split("\t")[1:4] == ["wim", "worker", "hl2-07"]
    assert main(["token", "revoke", "--db", db, "--token", token]) == 0
    assert "revoked 1 token(s)" in capsys.readouterr().out
    assert main(["token", "revoke", "--db", db, "--user", "wim"]) == 1
    assert "no active token matched" in capsys.readouterr().err


def test_token_errors_are_one_line(tmp_path):
    db = str(tmp_path / "b.db")  # a plain path means a SQLite file
    assert run("token", "create", "--db", db, "--user", "q", "--role", "qa").returncode == 0
    clash = run("token", "create", "--db", db, "--user", "q", "--role", "worker")
    assert clash.returncode == 1
    assert clash.stderr.strip() == (
        "arinspect token: error: user 'q' exists with role qa, not worker"
    )
    bad_role = run("token", "create", "--db", db, "--user", "q", "--role", "boss")
    assert bad_role.returncode == 2 and "invalid choice" in bad_role.stderr
    bad_name = run("token", "create", "--db", db, "--user", "a/b", "--role", "qa")
    assert bad_name.returncode == 1 and "user must be" in bad_name.stderr


def test_serve_help_names_the_options():
    result = run("serve", "--help")
    assert result.returncode == 0
    for option in ("--db", "--host", "--port"):
        assert option in result.stdout


def test_serve_refuses_an_unknown_backend():
    result = run("serve", "--db", "mysql://x/y")
    assert result.returncode == 1
    assert "db_url must be sqlite" in result.stderr


@pytest.mark.slow
def test_serve_answers_with_a_token_from_the_cli(tmp_path):
    sys.path.insert(0, str(__import__("pathlib").Path(__file__).parents[1] / "server"))
    from live_server import ServerProcess

    db = f"sqlite:///{tmp_path / 'c.db'}"
    created = run("token", "create", "--db", db, "--user", "eve", "--role", "engineer")
    token = created.stdout.strip().splitlines()[-1]
    with ServerProcess(db) as server:
        answer = httpx.get(server.url + "/api/me", headers={"Authorization": f"Bearer {token}"})
        assert answer.json() == {"user": "eve", "role": "engineer", "device": "default"}
        assert httpx.get(server.url + "/openapi.json").json()["info"]["title"] == (
            "arinspect sync server"
        )
