"""The Dash app: sign-in, the page shell, the exports, and the gate in front of everything.

One process serves the app (waitress, threads) and holds the only connection to the DuckDB file.
Nothing answers without a signed-in user: not a page, not a callback, not a script bundle."""

from __future__ import annotations

import io
import re
import secrets
import tempfile
import time
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
    redirect,
    render_template_string,
    request,
    send_file,
    session,
)
from flask_session import Session

from dashboards import access
from dashboards.auth import Users
from dashboards.pages import PAGES
from dashboards.store import Store

ASSETS = Path(__file__).with_name("assets")
OPEN_PATHS = ("/login", "/assets/style.css", "/favicon.ico")
SESSION_HOURS = 8
IDLE_MINUTES = 30  # a shared workstation left signed in: the session ends after this long idle

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
) -> dash.Dash:
    """The app on one database. `secure_cookie` when it is served over HTTPS (e.g. behind a
    proxy that ends TLS): the session cookie is then never sent over plain HTTP, and browsers
    are told to use HTTPS only (HSTS). A session ends after `idle_minutes` without a request."""
    db = Path(db)
    server = Flask("stratify")
    server.config.update(
        SECRET_KEY=_secret_key(db),
        SESSION_TYPE="cachelib",
        SESSION_CACHELIB=FileSystemCache(str(db.with_name(db.name + ".sessions")), threshold=5000),
        SESSION_USE_SIGNER=True,
        SESSION_PERMANENT=True,
        SESSION_REFRESH_EACH_REQUEST=False,  # a session file is written at sign-in, not per request
        PERMANENT_SESSION_LIFETIME=timedelta(hours=SESSION_HOURS),
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Strict",
        SESSION_COOKIE_SECURE=secure_cookie,
        SESSION_COOKIE_NAME="stratify_session",
        MAX_CONTENT_LENGTH=256 * 1024,
        STRATIFY_IDLE_SECONDS=idle_minutes * 60,
    )
    Session(server)
    server.extensions["stratify_users"] = Users(users_file)
    server.extensions["stratify_store"] = Store(db)

    app = dash.Dash(
        "stratify",
        server=server,
        use_pages=True,
        pages_folder="",
        assets_folder=str(ASSETS),
        title="stratify",
        suppress_callback_exceptions=True,
        update_title=None,
    )
    for module in PAGES:
        dash.register_page(module.__name__, path=module.PATH, name=module.NAME, title=f"{module.NAME} - stratify",
                           layout=module.layout)  # fmt: skip
        module.register(app)
    app.layout = _shell
    _routes(server)
    server.before_request(_gate)
    server.after_request(_headers)
    app.enable_dev_tools(debug=debug, dev_tools_ui=debug, dev_tools_hot_reload=False)
    return app


def _shell():
    user = access.current_user()
    if user is None:  # the gate stops this first; kept so the layout can never render anonymously
        return html.Div("Please sign in.")
    allowed = [p for p in access.PAGE_ROLES if access.may_open(user, p)]
    from dashboards.components import header

    return html.Div([header(user.display_name, user.role, allowed), dash.page_container])


def _gate():
    """Refuse everything but the sign-in page to anyone not signed in."""
    if request.method == "POST" and not _same_origin():
        return Response("cross-site request refused\n", status=403, mimetype="text/plain")
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


def _same_origin() -> bool:
    """A POST must come from this site's own pages (no cross-site sign-in or callback)."""
    origin = request.headers.get("Origin")
    return origin is None or urlsplit(origin).netloc == request.host


def _headers(response: Response) -> Response:
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Referrer-Policy", "same-origin")
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


def _routes(server: Flask) -> None:
    @server.route("/login", methods=["GET", "POST"])
    def login():
        if request.method == "GET":
            return render_template_string(
                LOGIN_PAGE, error=None, next=_safe_next(request.args.get("next"))
            )
        username = request.form.get("username", "")[:40]
        password = request.form.get("password", "")[:200]
        user = access.users().authenticate(username, password)
        store = access.store()
        if user is None:
            store.log(username or "(blank)", "none", "login_failed", "/login")
            error = ("Too many failed attempts: try again in 15 minutes."
                     if access.users().locked(username) else "Username or password not recognised.")  # fmt: skip
            page = render_template_string(LOGIN_PAGE, error=error,
                                          next=_safe_next(request.form.get("next")))  # fmt: skip
            return page, 401
        session.clear()
        session["username"] = user.username
        session["stamp"] = access.users().stamp(user)
        session["seen"] = time.time()
        server.session_interface.regenerate(session)  # a new id at sign-in: no session fixation
        store.log(user.username, user.role, "login", "/login")
        return redirect(_safe_next(request.form.get("next")))

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


def serve(
    db: Path | str,
    users_file: Path | str,
    host: str,
    port: int,
    threads: int = 16,
    debug: bool = False,
    secure_cookie: bool = False,
    idle_minutes: float = IDLE_MINUTES,
) -> None:
    """Serve with waitress (a production WSGI server), one process, `threads` workers; in debug,
    Flask's development server with Dash's dev tools instead."""
    app = create_app(
        db, users_file, debug=debug, secure_cookie=secure_cookie, idle_minutes=idle_minutes
    )
    if debug:
        app.run(host=host, port=port, debug=True, use_reloader=False)
        return
    from waitress import serve as waitress_serve

    waitress_serve(app.server, host=host, port=port, threads=threads, ident="stratify")
