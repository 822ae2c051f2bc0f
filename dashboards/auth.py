"""Who may use the app and what each may see: users and roles from a YAML file, passwords kept
only as salted scrypt hashes (werkzeug), and the scope every data callback works within.

The scope is always derived from the server-side session (the username stored there at login),
never from anything the browser sends; a browser can only choose among what its scope allows."""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from werkzeug.security import check_password_hash, generate_password_hash

ROLES = {
    "clinician": "Clinician of a practice cluster: identifiable data of the cluster's practices",
    "commissioner": "Commissioner: aggregates only, with small-number suppression",
    "audit_lead": "Audit lead: practice-level aggregates for every practice",
    "admin": "Administrator: manages users",
}
LOCKOUT_FAILURES = 5  # wrong passwords in a row before a username is locked for the window
LOCKOUT_SECONDS = 15 * 60  # the window: no name is ever locked for longer
ADDRESS_FREE = 10  # wrong passwords from one client address before its delays start
USERNAME = re.compile(r"[a-z][a-z0-9_.-]{1,39}")
MIN_PASSWORD = 12
MAX_PASSWORD = 200  # what the sign-in form accepts; a longer one could never be typed in


class UserError(ValueError):
    """A user record that cannot be accepted, with the reason."""


@dataclass(frozen=True)
class User:
    username: str
    display_name: str
    role: str
    clusters: tuple[str, ...] = ()
    active: bool = True
    password_hash: str = field(default="", repr=False)
    epoch: int = 0  # raised whenever the password or active changes: older sessions end

    @property
    def sees_patients(self) -> bool:
        """Patient-level data only for a cluster member (a clinician, or an audit lead who is one)."""
        return self.role in ("clinician", "audit_lead") and bool(self.clusters)

    @property
    def sees_practice_aggregates(self) -> bool:
        return self.role in ("audit_lead", "admin")

    def may_see_cluster(self, cluster: object) -> bool:
        return self.sees_patients and isinstance(cluster, str) and cluster in self.clusters


def _user(raw: dict) -> User:
    username = str(raw.get("username", ""))
    if not USERNAME.fullmatch(username):
        raise UserError(f"username {username!r} must be 2-40 lower-case letters, digits, _ . -")
    role = raw.get("role")
    if role not in ROLES:
        raise UserError(f"user {username}: role must be one of {', '.join(ROLES)}")
    clusters = tuple(str(c) for c in raw.get("clusters") or ())
    if role == "clinician" and not clusters:
        raise UserError(f"user {username}: a clinician needs at least one practice cluster")
    if role in ("commissioner", "admin") and clusters:
        raise UserError(f"user {username}: a {role} sees no patient-level data, so has no cluster")
    if not str(raw.get("password_hash", "")).startswith(("scrypt:", "pbkdf2:")):
        raise UserError(f"user {username}: password_hash must be a werkzeug scrypt or pbkdf2 hash")
    return User(
        username=username,
        display_name=str(raw.get("display_name") or username),
        role=role,
        clusters=clusters,
        active=bool(raw.get("active", True)),
        password_hash=str(raw["password_hash"]),
        epoch=int(raw.get("epoch", 0)),
    )


@dataclass
class _Failures:
    count: int = 0
    last: float = 0.0
    until: float = 0.0


class Throttle:
    """Failed sign-ins per key (a username, or a client address). The first `free` failures
    cost nothing; each later one shuts the key for a delay doubling from `base` seconds, and the
    `lock_at`-th (or any delay that reaches it) for the whole `window`, never longer. While shut,
    attempts are refused unchecked and not counted. `reset_at_end`: the count starts again when
    a full-window lock ends (names: one more wrong password then does not lock the name again);
    otherwise it is forgotten only after `forget` seconds without a failure (addresses: a
    persistent guesser stays at one try per window)."""

    def __init__(self, free: int, base: float, lock_at: int, window: float, reset_at_end: bool,
                 forget: float) -> None:  # fmt: skip
        self.free, self.base, self.lock_at, self.window = free, base, lock_at, window
        self.reset_at_end, self.forget = reset_at_end, forget
        self._keys: dict[str, _Failures] = {}

    def _entry(self, key: str, now: float) -> _Failures | None:
        entry = self._keys.get(key)
        if entry is None:
            return None
        ended_full = entry.count >= self.lock_at and entry.until <= now
        if (self.reset_at_end and ended_full) or now - entry.last > self.forget:
            del self._keys[key]
            return None
        return entry

    def wait(self, key: str, now: float) -> float:
        """Seconds until the key may try again (0: now)."""
        entry = self._entry(key, now)
        return max(0.0, entry.until - now) if entry else 0.0

    def locked(self, key: str, now: float) -> bool:
        """Shut for the whole window (not merely delayed)."""
        entry = self._entry(key, now)
        return bool(entry and entry.count >= self.lock_at and entry.until > now)

    def fail(self, key: str, now: float) -> None:
        entry = self._entry(key, now) or self._keys.setdefault(key, _Failures())
        entry.count += 1
        entry.last = now
        if entry.count >= self.lock_at:
            delay = self.window
        elif entry.count > self.free:
            delay = min(self.base * 2 ** (entry.count - self.free - 1), self.window)
        else:
            delay = 0.0
        entry.until = now + delay
        if len(self._keys) > 10_000:  # forget stale keys rather than grow without end
            self._keys = {k: v for k, v in self._keys.items() if now - v.last <= self.forget}

    def clear(self, key: str) -> None:
        self._keys.pop(key, None)


class Users:
    """The users file, re-read when it changes on disk so a disabled user is out at once."""

    def __init__(self, path: Path | str):
        self.path = Path(path)
        self._lock = threading.Lock()
        self._stamp: tuple[float, int] | None = None
        self._users: dict[str, User] = {}
        self._names = Throttle(free=2, base=2.0, lock_at=LOCKOUT_FAILURES, window=LOCKOUT_SECONDS,
                               reset_at_end=True, forget=LOCKOUT_SECONDS)  # fmt: skip
        self._addresses = Throttle(free=ADDRESS_FREE, base=2.0, lock_at=10**9, window=LOCKOUT_SECONDS,
                                   reset_at_end=False, forget=2 * LOCKOUT_SECONDS)  # fmt: skip
        if not self.path.exists():
            raise UserError(
                f"no users file {self.path}; create an administrator with "
                f"`stratify users add --users {self.path} --username admin --role admin`"
            )
        self.all()

    def all(self) -> dict[str, User]:
        with self._lock:
            stat = self.path.stat()
            stamp = (stat.st_mtime, stat.st_size)
            if stamp != self._stamp:
                raw = yaml.safe_load(self.path.read_text()) or {}
                users = [_user(u) for u in raw.get("users") or []]
                self._users = {u.username: u for u in users}
                self._stamp = stamp
            return dict(self._users)

    def get(self, username: object) -> User | None:
        if not isinstance(username, str):
            return None
        user = self.all().get(username)
        return user if user and user.active else None

    @staticmethod
    def stamp(user: User) -> str:
        """What a session must still match: changes with the password and with every enable or
        disable (the hash itself never goes into the session)."""
        return hashlib.sha256(f"{user.epoch}:{user.password_hash}".encode()).hexdigest()[:32]

    def locked(self, username: str) -> bool:
        """Whether the name is locked for the whole window (not merely delayed)."""
        return self._names.locked(username, time.time())

    def wait(self, username: str, address: str | None = None) -> float:
        """Seconds before this name may try again from this address (0: now)."""
        now = time.time()
        by_address = self._addresses.wait(address, now) if address else 0.0
        return max(self._names.wait(username, now), by_address)

    def authenticate(self, username: str, password: str, address: str | None = None) -> User | None:
        """The user, if the password is theirs and neither the name nor the client address is
        shut after repeated failures (then the password is not even checked)."""
        with self._lock:
            if self.wait(username, address) > 0:
                return None
        user = self.get(username)
        # Check a hash even for unknown users so timing does not reveal who exists.
        hashed = user.password_hash if user else _DUMMY_HASH
        ok = check_password_hash(hashed, password or "")
        with self._lock:
            now = time.time()
            if ok and user:
                self._names.clear(username)
                return user
            self._names.fail(username, now)
            if address:
                self._addresses.fail(address, now)
            return None

    def save(self, user: User, password: str | None = None) -> User:
        """Add or change one user (a password is required for a new one); atomic on disk."""
        with self._lock:
            raw = yaml.safe_load(self.path.read_text()) or {}
            everyone = raw.get("users") or []
            rows = [u for u in everyone if u.get("username") != user.username]
            # The record on disk now, not this process's copy: another process may have changed it.
            mine = [u for u in everyone if u.get("username") == user.username]
            existing = _user(mine[0]) if mine else None
            if password is not None:
                hashed = hash_password(password)
            elif existing:
                hashed = existing.password_hash
            else:
                raise UserError(f"a new user ({user.username}) needs a password")
            if (
                existing
                and existing.role == "admin"
                and existing.active
                and not (user.role == "admin" and user.active)
            ):
                others = [u for u in rows if u.get("role") == "admin" and u.get("active", True)]
                if not others:
                    raise UserError(f"{user.username} is the last active administrator: make "
                                    "another administrator before demoting or disabling them")  # fmt: skip
            epoch = existing.epoch if existing else 0
            if existing and (password is not None or existing.active != user.active):
                epoch += 1
            record = {
                "username": user.username,
                "display_name": user.display_name,
                "role": user.role,
                "clusters": list(user.clusters),
                "active": user.active,
                "password_hash": hashed,
                "epoch": epoch,
            }
            checked = _user(record)
            rows.append(record)
            _write(self.path, {"users": sorted(rows, key=lambda u: u["username"])})
            self._stamp = None
        return checked


def hash_password(password: str) -> str:
    if not isinstance(password, str) or len(password) < MIN_PASSWORD:
        raise UserError(f"a password needs at least {MIN_PASSWORD} characters")
    if len(password) > MAX_PASSWORD:
        raise UserError(
            f"a password may have at most {MAX_PASSWORD} characters (what sign-in accepts)"
        )
    return generate_password_hash(password, method="scrypt")


def create_users_file(path: Path | str, admin: str, password: str) -> Users:
    """Start a users file with one administrator."""
    path = Path(path)
    if path.exists():
        raise UserError(f"{path} already exists")
    record = {"username": admin, "display_name": admin, "role": "admin", "clusters": [],
              "active": True, "password_hash": hash_password(password)}  # fmt: skip
    _user(record)
    _write(path, {"users": [record]})
    return Users(path)


def _write(path: Path, data: dict) -> None:
    handle, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    with os.fdopen(handle, "w") as f:
        yaml.safe_dump(data, f, sort_keys=False)
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)


_DUMMY_HASH = generate_password_hash("not a password of anyone", method="scrypt")
