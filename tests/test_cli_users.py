"""`stratify users`: a password is read only with --set-password; what is not given stays as it
was; cluster codes are checked against the registry; the last administrator stays one."""

from __future__ import annotations

import duckdb
import pytest
from werkzeug.security import check_password_hash

from dashboards.auth import Users
from stratify.cli import main

ADMIN_PASSWORD = "the admins own password"


@pytest.fixture
def book(built_registry, tmp_path, monkeypatch) -> tuple[str, str, list[str]]:
    """A users file with an administrator and a clinician; the registry's clusters."""
    db = str(built_registry[0])
    con = duckdb.connect(db, read_only=True)
    clusters = [
        r[0]
        for r in con.execute(
            "SELECT DISTINCT cluster_code FROM ref.practices ORDER BY 1"
        ).fetchall()
    ]
    con.close()
    users = str(tmp_path / "users.yaml")
    monkeypatch.setenv("STRATIFY_PASSWORD", ADMIN_PASSWORD)
    assert main(["users", "--db", db, "--users", users, "--username", "admin", "--role", "admin",
                 "--set-password"]) == 0  # fmt: skip
    monkeypatch.setenv("STRATIFY_PASSWORD", "the clinicians password")
    assert main(["users", "--db", db, "--users", users, "--username", "clin", "--name", "Dr Clin",
                 "--role", "clinician", "--clusters", clusters[0], "--set-password"]) == 0  # fmt: skip
    monkeypatch.setenv("STRATIFY_PASSWORD", ADMIN_PASSWORD)  # left in the administrator's shell
    return db, users, clusters


def _user(users: str, name: str):
    return Users(users).all()[name]


@pytest.mark.parametrize("change", [["--disable"], ["--name", "Dr C Lin"], []])
def test_a_change_without_set_password_keeps_the_password(book, change):
    db, users, _ = book
    assert (
        main(
            [
                "users",
                "--db",
                db,
                "--users",
                users,
                "--username",
                "clin",
                "--role",
                "clinician",
                *change,
            ]
        )
        == 0
    )
    hashed = _user(users, "clin").password_hash
    assert check_password_hash(hashed, "the clinicians password")
    assert not check_password_hash(hashed, ADMIN_PASSWORD)


def test_leaving_out_the_name_keeps_the_display_name(book):
    db, users, _ = book
    assert (
        main(
            [
                "users",
                "--db",
                db,
                "--users",
                users,
                "--username",
                "clin",
                "--role",
                "clinician",
                "--disable",
            ]
        )
        == 0
    )
    assert _user(users, "clin").display_name == "Dr Clin"
    assert not _user(users, "clin").active


def test_an_unknown_cluster_code_is_refused_with_the_known_ones(book, capsys):
    db, users, clusters = book
    assert main(["users", "--db", db, "--users", users, "--username", "clin2", "--role", "clinician",
                 "--clusters", "NOPE1", "--set-password"]) == 1  # fmt: skip
    err = capsys.readouterr().err
    assert "unknown practice cluster(s) NOPE1" in err and all(c in err for c in clusters)
    assert "clin2" not in Users(users).all()


@pytest.mark.parametrize(
    "change", [["--role", "clinician", "--clusters", "{cluster}"], ["--role", "admin", "--disable"]]
)
def test_the_last_administrator_cannot_be_demoted_or_disabled(book, change, capsys):
    db, users, clusters = book
    args = [a.format(cluster=clusters[0]) for a in change]
    assert main(["users", "--db", db, "--users", users, "--username", "admin", *args]) == 1
    assert "last active administrator" in capsys.readouterr().err
    assert _user(users, "admin").role == "admin" and _user(users, "admin").active


def test_an_administrator_can_step_down_once_there_is_another(book):
    db, users, _ = book
    assert (
        main(
            [
                "users",
                "--db",
                db,
                "--users",
                users,
                "--username",
                "admin2",
                "--role",
                "admin",
                "--set-password",
            ]
        )
        == 0
    )
    assert (
        main(
            [
                "users",
                "--db",
                db,
                "--users",
                users,
                "--username",
                "admin",
                "--role",
                "admin",
                "--disable",
            ]
        )
        == 0
    )
    assert not _user(users, "admin").active


def test_a_new_user_needs_set_password(book, capsys):
    db, users, _ = book
    assert (
        main(
            ["users", "--db", db, "--users", users, "--username", "comm", "--role", "commissioner"]
        )
        == 1
    )
    assert "--set-password" in capsys.readouterr().err
