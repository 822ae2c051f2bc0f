"""Users and roles: hashed passwords only, roles that fit their scope, a disabled user out at once,
and repeated wrong passwords lock the name."""

from __future__ import annotations

import os

import pytest

from dashboards import auth
from dashboards.auth import User, UserError, Users, create_users_file


@pytest.fixture
def users(tmp_path) -> Users:
    book = create_users_file(tmp_path / "users.yaml", "admin", "correct horse battery")
    book.save(User("clin", "Dr Clin", "clinician", ("U1",)), "clinician password")
    return Users(tmp_path / "users.yaml")


def test_the_file_keeps_only_salted_hashes_and_is_owner_only(users):
    text = users.path.read_text()
    assert "clinician password" not in text and "correct horse battery" not in text
    assert text.count("scrypt:") == 2
    assert oct(os.stat(users.path).st_mode & 0o777) == "0o600"


def test_the_right_password_signs_in_and_a_wrong_one_does_not(users):
    assert users.authenticate("clin", "clinician password").role == "clinician"
    assert users.authenticate("clin", "clinician passworD") is None
    assert users.authenticate("nobody", "clinician password") is None


def test_a_disabled_user_is_out_as_soon_as_the_file_changes(users):
    assert users.get("clin") is not None
    other = Users(users.path)  # e.g. the admin page or the CLI in another process
    other.save(User("clin", "Dr Clin", "clinician", ("U1",), active=False))
    assert users.get("clin") is None
    assert users.authenticate("clin", "clinician password") is None


@pytest.mark.parametrize(
    "user, message",
    [
        (User("clin2", "x", "clinician", ()), "needs at least one practice cluster"),
        (User("comm", "x", "commissioner", ("U1",)), "has no cluster"),
        (User("boss", "x", "superuser", ()), "role must be one of"),
        (User("Bad Name", "x", "admin", ()), "username"),
    ],
)
def test_a_user_whose_role_does_not_fit_is_refused(users, user, message):
    with pytest.raises(UserError, match=message):
        users.save(user, "long enough password")


def test_a_short_password_is_refused(users):
    with pytest.raises(UserError, match="at least 12"):
        users.save(User("comm", "x", "commissioner", ()), "short")


def test_repeated_wrong_passwords_lock_the_name_even_against_the_right_one(users, monkeypatch):
    for _ in range(auth.LOCKOUT_FAILURES):
        assert users.authenticate("clin", "guess") is None
    assert users.locked("clin")
    assert users.authenticate("clin", "clinician password") is None
    later = auth.time.time() + auth.LOCKOUT_SECONDS + 1
    monkeypatch.setattr(auth.time, "time", lambda: later)
    assert users.authenticate("clin", "clinician password") is not None


def test_an_audit_lead_sees_patients_only_as_a_cluster_member():
    assert not User("a", "a", "audit_lead", ()).sees_patients
    assert User("a", "a", "audit_lead", ("U1",)).may_see_cluster("U1")
    assert not User("a", "a", "audit_lead", ("U1",)).may_see_cluster("U2")
    assert not User("c", "c", "commissioner", ()).may_see_cluster("U1")
