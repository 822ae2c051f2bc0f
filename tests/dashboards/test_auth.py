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


class Clock:
    """The time the throttle sees, moved on by the test instead of waited for."""

    def __init__(self, monkeypatch):
        self.now = 1_000_000.0
        monkeypatch.setattr(auth.time, "time", lambda: self.now)

    def wait_out(self, users: Users, username: str, address: str | None = None) -> None:
        self.now += users.wait(username, address) + 0.01


@pytest.fixture
def clock(monkeypatch) -> Clock:
    return Clock(monkeypatch)


def _fail(
    users: Users, clock: Clock, times: int, username: str = "clin", address: str | None = None
):
    for _ in range(times):
        clock.wait_out(users, username, address)
        assert users.authenticate(username, "guess", address) is None


def test_repeated_wrong_passwords_lock_the_name_even_against_the_right_one(users, clock):
    _fail(users, clock, auth.LOCKOUT_FAILURES)
    assert users.locked("clin")
    assert users.authenticate("clin", "clinician password") is None
    clock.now += auth.LOCKOUT_SECONDS + 1
    assert users.authenticate("clin", "clinician password") is not None


def test_the_delays_before_a_lockout_grow(users, clock):
    _fail(users, clock, 2)
    assert users.wait("clin") == 0  # two slips cost nothing
    _fail(users, clock, 1)
    first = users.wait("clin")
    _fail(users, clock, 1)
    assert 0 < first < users.wait("clin") < auth.LOCKOUT_SECONDS


def test_one_more_wrong_password_after_the_lockout_does_not_lock_the_name_again(users, clock):
    _fail(users, clock, auth.LOCKOUT_FAILURES)
    clock.now += auth.LOCKOUT_SECONDS + 1
    assert users.authenticate("clin", "guess") is None
    assert not users.locked("clin") and users.wait("clin") == 0
    assert users.authenticate("clin", "clinician password") is not None


def test_a_name_is_never_locked_for_longer_than_the_window(users, clock):
    _fail(users, clock, auth.LOCKOUT_FAILURES)
    locked_at = clock.now
    for _ in range(50):  # hammering a locked name neither counts nor extends the lock
        clock.now += auth.LOCKOUT_SECONDS / 60
        users.authenticate("clin", "guess")
    clock.now = locked_at + auth.LOCKOUT_SECONDS + 1
    assert users.wait("clin") == 0
    assert users.authenticate("clin", "clinician password") is not None


def test_a_guessing_address_is_slowed_for_every_name_but_others_are_not(users, clock):
    for i in range(auth.ADDRESS_FREE + 1):  # a different name each time: no name is locked
        _fail(users, clock, 1, username=f"name{i}", address="203.0.113.9")
    assert users.wait("clin", "203.0.113.9") > 0
    assert users.authenticate("clin", "clinician password", "203.0.113.9") is None
    assert users.authenticate("clin", "clinician password", "198.51.100.7") is not None


def test_a_persistent_guessing_address_stays_at_one_try_per_window(users, clock):
    address = "203.0.113.9"
    for i in range(40):
        _fail(users, clock, 1, username=f"name{i}", address=address)
    assert users.wait("x", address) == pytest.approx(auth.LOCKOUT_SECONDS, abs=1)


def test_a_password_longer_than_sign_in_accepts_is_refused_when_set(users):
    with pytest.raises(UserError, match="at most 200"):
        users.save(User("comm", "x", "commissioner", ()), "p" * 201)
    users.save(User("comm", "x", "commissioner", ()), "p" * 200)
    assert users.authenticate("comm", "p" * 200) is not None


def test_an_audit_lead_sees_patients_only_as_a_cluster_member():
    assert not User("a", "a", "audit_lead", ()).sees_patients
    assert User("a", "a", "audit_lead", ("U1",)).may_see_cluster("U1")
    assert not User("a", "a", "audit_lead", ("U1",)).may_see_cluster("U2")
    assert not User("c", "c", "commissioner", ()).may_see_cluster("U1")
