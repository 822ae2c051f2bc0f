"""The Dash app: sign-in, the page shell, the exports, and the gate in front of everything.

One process serves the app (waitress, threads) and holds the only connection to the DuckDB file.
Nothing answers without a signed-in user: not a page, not a callback, not a script bundle."""

from __future__ import annotations

import errno
import io
import re
import secrets
import tempfile
import time
import traceback
from collections.abc import Callable, Iterable
from datetime import timedelta
from pathlib import Path
from urllib.parse import quote, urlsplit

import dash
from cachelib.file import FileSystemCache
from dash import html
from flask import (
    Flask,
    Response,
    current_app,
    g,
    redirect,
    render_template_string,
    request,
    send_file,
    session,
)
from flask_session import Session
from werkzeug.exceptions import InternalServerError

from dashboards import access
from dashboards.auth import Users
from dashboards.pages import PAGES
from dashboards.store import Store

ASSETS = Path(__file__).with_name("assets")
OPEN_PATHS = ("/login", "/assets/style.css", "/favicon.ico")
RENDERER_PATH = "/_stratify/renderer.js"
CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
       "font-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; "
       "form-action 'self'; frame-ancestors 'none'")  # fmt: skip
SESSION_HOURS = 8  # from sign-in, whatever the activity: then sign in again
IDLE_MINUTES = 30  # a shared workstation left signed in: the session ends after this long idle
LOCAL_HOSTS = ("localhost", "127.0.0.1", "::1")
WILDCARD_BINDS = ("0.0.0.0", "::", "")
STATE_CHANGING = frozenset({"POST", "PUT", "PATCH", "DELETE"})

LOGIN_PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sign in - stratify</title><link rel="stylesheet" href="/assets/style.css"></head>
<body><header class="nhs-header"><div class="brand">stratify</div></header>
<main class="page login"><h1>Sign in</h1>
<p class="lede">Integrated care: case conferences, enrolment and audit.</p>
{% if error %}<div class="notice notice-error" role="alert">{{ error }}</div>{% endif %}
<form method="post" action="/login">
<input type="hidden" name="next" value="{{ next }}">
<div class="field"><label class="field-label" for="username">Username</label>
<input id="username" name="username" autocomplete="username" maxlength="40" required></div>
<div class="field"><label class="field-label" for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password" maxlength="200" required></div>
<button type="submit" class="button" id="sign-in">Sign in</button></form></main></body></html>"""


def _secret_key(db: Path) -> str:
    """A random key kept beside the database (owner-only), so sessions survive a restart."""
    path = db.with_name(db.name + ".secret")
    if not path.exists():
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()


def create_app(
    db: Path | str,
    users_file: Path | str,
    debug: bool = False,
    secure_cookie: bool = False,
    idle_minutes: float = IDLE_MINUTES,
    session_hours: float = SESSION_HOURS,
    allowed_hosts: Iterable[str] = LOCAL_HOSTS,
) -> dash.Dash:
    """The app on one database. `secure_cookie` when it is served over HTTPS (e.g. behind a
    proxy that ends TLS): the session cookie is then never sent over plain HTTP, and browsers
    are told to use HTTPS only (HSTS). A session ends after `idle_minutes` without a request,
    and `session_hours` after sign-in however busy. Only requests whose Host header names one of
    `allowed_hosts` are answered (no DNS rebinding)."""
    db = Path(db)
    server = Flask("stratify")
    server.config.update(
        SECRET_KEY=_secret_key(db),
        SESSION_TYPE="cachelib",
        SESSION_CACHELIB=FileSystemCache(str(db.with_name(db.name + ".sessions")), threshold=5000),
        SESSION_USE_SIGNER=True,
        SESSION_PERMANENT=True,
        SESSION_REFRESH_EACH_REQUEST=False,  # a session file is written at sign-in, not per request
        PERMANENT_SESSION_LIFETIME=timedelta(hours=session_hours),
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Strict",
        SESSION_COOKIE_SECURE=secure_cookie,
        SESSION_COOKIE_NAME="stratify_session",
        MAX_CONTENT_LENGTH=256 * 1024,
        STRATIFY_IDLE_SECONDS=idle_minutes * 60,
        STRATIFY_SESSION_SECONDS=session_hours * 3600,
        STRATIFY_ALLOWED_HOSTS=frozenset(h.lower().strip("[]") for h in allowed_hosts),
    )
    Session(server)
    server.extensions["stratify_users"] = Users(users_file)
    store = server.extensions["stratify_store"] = Store(db)
    store.on_switch.append(_forget_derived)

    app = _App(
        "stratify",
        server=server,
        use_pages=True,
        pages_folder="",
        assets_folder=str(ASSETS),
        title="stratify",
        suppress_callback_exceptions=True,
        update_title=None,
        on_error=_callback_failed,
    )
    for module in PAGES:
        dash.register_page(module.__name__, path=module.PATH, name=module.NAME, title=f"{module.NAME} - stratify",
                           layout=module.layout)  # fmt: skip
        module.register(app)
    app.layout = _shell
    server.extensions["stratify_dash"] = app
    _routes(server)
    server.register_error_handler(InternalServerError, _request_failed)
    server.log_exception = lambda _exc_info: (
        None
    )  # _request_failed logs the kind; the text may quote values
    server.before_request(_enter)
    server.teardown_request(_leave)
    server.before_request(_gate)
    server.after_request(_headers)
    app.enable_dev_tools(debug=debug, dev_tools_ui=debug, dev_tools_hot_reload=False)
    return app


INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.S)
IE_COMMENT = re.compile(r"<!--\[if IE\]>.*?<!\[endif\]-->", re.S)


class _App(dash.Dash):
    """Dash with no inline script, so the Content-Security-Policy can forbid them: Dash's inline
    scripts (its clientside callbacks, e.g. the page title) and the line that starts its renderer
    are served as one script file (RENDERER_PATH), in the same place and order."""

    def interpolate_index(self, **kwargs) -> str:
        src = f"{self.config.requests_pathname_prefix}{RENDERER_PATH.lstrip('/')}"
        kwargs["scripts"] = INLINE_SCRIPT.sub("", kwargs["scripts"])
        kwargs["renderer"] = f'<script id="_dash-renderer" src="{src}"></script>'
        return IE_COMMENT.sub("", super().interpolate_index(**kwargs))  # an inline script there too

    def startup_script(self) -> str:
        """What the inline scripts would have run, in order (as Dash's own csp_hashes gathers them)."""
        self._inline_scripts.extend(dash._callback.GLOBAL_INLINE_SCRIPTS)
        dash._callback.GLOBAL_INLINE_SCRIPTS.clear()
        return "\n;\n".join([*self._inline_scripts, self.renderer])


def _failure_words(error: BaseException) -> str:
    """What to tell the user when the server could not finish: a full disk said as such."""
    full = (
        isinstance(error, OSError) and error.errno == errno.ENOSPC
    ) or "No space left on device" in str(error)
    if full:
        return ("The server's disk is full, so this was not saved. What was saved before is safe and you are "
                "still signed in: tell the administrator, then try again.")  # fmt: skip
    return ("Something failed on the server, so this may not have been saved. You are still signed in; the "
            "failure is logged for the administrator.")  # fmt: skip


def _where(error: BaseException) -> str:
    """Where it failed, as file:line in function frames (never the message or the locals)."""
    frames = traceback.extract_tb(error.__traceback__)[-6:]
    return " <- ".join(f"{Path(f.filename).name}:{f.lineno} in {f.name}" for f in reversed(frames))


def _log_failure(error: BaseException) -> None:
    """The kind of failure and where, never its text: an exception's text may quote the values
    being written."""
    code = getattr(error, "errno", None)
    current_app.logger.error("request %s failed: %s%s at %s", request.path, type(error).__name__,
                             f" (errno {code})" if code else "", _where(error))  # fmt: skip


def _callback_failed(error: Exception) -> None:
    """A callback that raised: its outputs stay as they were and the shell shows what failed."""
    _log_failure(error)
    dash.set_props("app-error", {"children": html.Div(_failure_words(error), className="notice notice-error",
                                                      role="alert")})  # fmt: skip


def _request_failed(error: InternalServerError) -> Response:
    cause = error.original_exception or error
    _log_failure(cause)
    return Response(_failure_words(cause) + "\n", status=500, mimetype="text/plain")


def _enter() -> None:
    """Every request holds the store's gate, so a switch to a new build falls between requests."""
    access.store().enter()
    g.stratify_entered = True


def _leave(_error: BaseException | None) -> None:
    if g.pop("stratify_entered", False):
        access.store().leave()


def _forget_derived() -> None:
    """After a switch: every page's cache of derived tables (built once per build)."""
    for module in PAGES:
        for value in vars(module).values():
            if callable(getattr(value, "cache_clear", None)):
                value.cache_clear()


def _shell():
    user = access.current_user()
    if user is None:  # the gate stops this first; kept so the layout can never render anonymously
        return html.Div("Please sign in.")
    allowed = [p for p in access.PAGE_ROLES if access.may_open(user, p)]
    from dashboards.components import header

    return html.Div(
        [
            header(user.display_name, user.role, allowed),
            html.Div(id="app-error"),
            dash.page_container,
        ]
    )


def _gate():
    """Refuse a foreign host name, a state-changing request from another site, and everything
    but the sign-in page to anyone not signed in."""
    if not _allowed_host():
        return Response("unknown host\n", status=400, mimetype="text/plain")
    if request.method in STATE_CHANGING and not _same_origin():
        return Response("cross-site request refused\n", status=403, mimetype="text/plain")
    if request.is_json and not _encodable(request.get_json(silent=True)):
        return Response("text with an invalid character (a lone UTF-16 surrogate) refused\n", status=400,
                        mimetype="text/plain")  # fmt: skip
    if request.path in OPEN_PATHS:
        return None
    if access.current_user() is None:
        session.clear()
        if request.method == "GET" and "text/html" in request.headers.get("Accept", ""):
            return redirect(
                "/login?next=" + quote(_safe_next(request.full_path.rstrip("?")), safe="/")
            )
        return Response("sign in first\n", status=401, mimetype="text/plain")
    return None


def _encodable(value: object) -> bool:
    """Every string in a JSON body can be stored as UTF-8 (JSON allows a lone surrogate, "\\ud800",
    that no database column can hold)."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return False
        return True
    if isinstance(value, dict):
        return all(_encodable(k) and _encodable(v) for k, v in value.items())
    if isinstance(value, list):
        return all(_encodable(v) for v in value)
    return True


def _allowed_host() -> bool:
    """The Host header names one of the configured host names (any port): a page on another
    name that resolves here (DNS rebinding) is not served."""
    try:
        name = urlsplit("//" + request.headers.get("Host", "")).hostname
    except ValueError:
        return False
    return name is not None and name in current_app.config["STRATIFY_ALLOWED_HOSTS"]


def _own_origin() -> str:
    scheme = "https" if current_app.config["SESSION_COOKIE_SECURE"] else request.scheme
    return f"{scheme}://{request.headers.get('Host', '').lower()}"


def _same_origin() -> bool:
    """A state-changing request must say it comes from this site's own pages: its Origin (or,
    without one, its Referer) matches this site's scheme, host and port. Neither is refused."""
    origin = request.headers.get("Origin")
    if origin is None or origin == "null":
        referer = request.headers.get("Referer")
        if not referer or origin == "null":
            return False
        try:
            parts = urlsplit(referer)
        except ValueError:
            return False
        origin = f"{parts.scheme}://{parts.netloc}"
    return _normal_origin(origin) == _normal_origin(_own_origin())


def _normal_origin(origin: str) -> tuple[str, str, int | None] | None:
    """(scheme, host, port) with the default port made explicit; None if it cannot be read."""
    try:
        parts = urlsplit(origin.strip().lower())
        port = parts.port or {"http": 80, "https": 443}.get(parts.scheme)
    except ValueError:
        return None
    return (parts.scheme, parts.hostname or "", port) if parts.scheme and parts.hostname else None


def _headers(response: Response) -> Response:
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault("Content-Security-Policy", CSP)
    if current_app.config["SESSION_COOKIE_SECURE"]:
        response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
    if not request.path.startswith(("/_dash-component-suites/", "/assets/")):
        response.headers["Cache-Control"] = "no-store"  # patient data never sits in a cache
    return response


SAFE_PATH = re.compile(r"/(?!/)[A-Za-z0-9_\-./?=&%]{0,299}")


def _safe_next(target: str | None) -> str:
    """Only a plain path on this site may follow sign-in: no scheme, no //host, no control
    characters or backslashes that a browser might read as another host."""
    if not target or not SAFE_PATH.fullmatch(target) or "//" in target.split("?")[0]:
        return "/"
    return target


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{max(1, round(seconds))} seconds"
    return f"{round(seconds / 60)} minutes"


def _routes(server: Flask) -> None:
    @server.route("/login", methods=["GET", "POST"])
    def login():
        if request.method == "GET":
            return render_template_string(
                LOGIN_PAGE, error=None, next=_safe_next(request.args.get("next"))
            )
        username = request.form.get("username", "")[:40]
        password = request.form.get("password", "")[:200]
        user = access.users().authenticate(username, password, request.remote_addr)
        store = access.store()
        if user is None:
            store.log(username or "(blank)", "none", "login_failed", "/login")
            wait = access.users().wait(username, request.remote_addr)
            error = (f"Too many failed attempts: try again in {_duration(wait)}."
                     if wait > 0 else "Username or password not recognised.")  # fmt: skip
            page = render_template_string(LOGIN_PAGE, error=error,
                                          next=_safe_next(request.form.get("next")))  # fmt: skip
            return page, 401
        session.clear()
        session["username"] = user.username
        session["stamp"] = access.users().stamp(user)
        session["seen"] = session["signed_in"] = time.time()
        server.session_interface.regenerate(session)  # a new id at sign-in: no session fixation
        store.log(user.username, user.role, "login", "/login")
        return redirect(_safe_next(request.form.get("next")))

    @server.route("/favicon.ico")
    def favicon():
        """No icon, and never the app's page (Dash would otherwise answer any path with it)."""
        return Response(status=204)

    @server.route(RENDERER_PATH)
    def renderer():
        app = current_app.extensions["stratify_dash"]
        return Response(app.startup_script(), mimetype="application/javascript")

    @server.route("/logout")
    def logout():
        user = access.current_user()
        if user:
            access.store().log(user.username, user.role, "logout", "/logout")
        session.clear()
        return redirect("/login")

    @server.route("/export/conference/<cluster>/<month>.<kind>")
    def export_conference(cluster: str, month: str, kind: str):
        from dashboards.pages import conference

        try:
            user = access.page_user("conference")
            cluster = access.cluster_in_scope(user, cluster, "export")
        except access.Refused as exc:
            return Response(str(exc) + "\n", status=403, mimetype="text/plain")
        if kind not in ("xlsx", "pdf"):
            return Response("pack is xlsx or pdf\n", status=404, mimetype="text/plain")
        name = f"conference_{cluster}_{month}.{kind}"
        with tempfile.TemporaryDirectory(prefix="stratify-pack-") as folder:  # never left on disk
            path = conference.write_pack(cluster, month, Path(folder) / name)
            data = path.read_bytes() if path is not None else None
        if data is None:
            return Response("no list for that month\n", status=404, mimetype="text/plain")
        access.store().log(user.username, user.role, "export", f"pack.{kind}", cluster, None, month)
        return send_file(io.BytesIO(data), as_attachment=True, download_name=name)


def default_hosts(bind: str) -> tuple[str, ...]:
    """The host names served when none are given: the bind address (unless it is every
    address) and this machine's own loopback names."""
    return LOCAL_HOSTS if bind in WILDCARD_BINDS else tuple(dict.fromkeys((bind, *LOCAL_HOSTS)))


def serve(
    db: Path | str,
    users_file: Path | str,
    host: str,
    port: int,
    threads: int = 16,
    debug: bool = False,
    secure_cookie: bool = False,
    idle_minutes: float = IDLE_MINUTES,
    session_hours: float = SESSION_HOURS,
    allowed_hosts: Iterable[str] = (),
    ready: Callable[[], None] | None = None,
) -> None:
    """Serve with waitress (a production WSGI server), one process, `threads` workers; in debug,
    Flask's development server with Dash's dev tools instead. `ready` is called once the
    database is open and the port bound, so "serving" is never said of a server that is not."""
    app = create_app(db, users_file, debug=debug, secure_cookie=secure_cookie, idle_minutes=idle_minutes,
                     session_hours=session_hours, allowed_hosts=tuple(allowed_hosts) or default_hosts(host))  # fmt: skip
    if debug:
        if ready:
            ready()
        app.run(host=host, port=port, debug=True, use_reloader=False)
        return
    from waitress import create_server

    server = create_server(app.server, host=host, port=port, threads=threads, ident="stratify")
    if ready:
        ready()
    server.run()
