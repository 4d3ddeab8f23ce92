"""``ArgoCdServer``: see the package docstring."""

from __future__ import annotations

import json
import secrets
import ssl
import tempfile
import threading
import time
import traceback
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from urllib.parse import parse_qs, unquote, urlsplit

from tests.kvserver.ca import CertificateAuthority

ARGOCD_NAMESPACE = "argocd"
PREFIX = "/api/v1/applications/"


@dataclass(frozen=True)
class Recorded:
    """One request as it arrived."""

    method: str
    path: str
    query: dict[str, list[str]]
    authorized: bool
    status: int  # what was answered (0: the connection was dropped)

    @property
    def application(self) -> tuple[str, str]:
        """``(namespace, name)`` the request addressed."""
        name = unquote(self.path[len(PREFIX) :]) if self.path.startswith(PREFIX) else ""
        namespace = self.query.get("appNamespace", [ARGOCD_NAMESPACE])[0] or ARGOCD_NAMESPACE
        return namespace, name

    @property
    def hard_refresh(self) -> bool:
        return self.query.get("refresh") == ["hard"]


@dataclass
class _App:
    project: str


@dataclass
class _State:
    token: str
    apps: dict[tuple[str, str], _App] = field(default_factory=dict)
    denied_projects: set[str] = field(default_factory=set)
    requests: list[Recorded] = field(default_factory=list)
    failures: list[int] = field(default_factory=list)
    latency: float = 0.0
    errors: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


class ArgoCdServer:
    """Argo CD's application API on ``https://127.0.0.1:PORT``; context manager."""

    def __init__(self, token: str | None = None) -> None:
        self.token = token or "argocd-token-" + secrets.token_urlsafe(24)
        self._state = _State(self.token)
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -----------------------------------------------------------------------------
    def start(self) -> ArgoCdServer:
        if self._tmp is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="argocdserver-")
            self._ca = CertificateAuthority(Path(self._tmp.name))
        httpd = ThreadingHTTPServer(("127.0.0.1", getattr(self, "_port", 0)), _Handler)
        httpd.daemon_threads = True
        httpd.state = self._state  # type: ignore[attr-defined]
        context = self._ca.context_for("127.0.0.1")
        httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
        self._port = int(httpd.server_address[1])
        self._httpd = httpd
        self._thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop listening (a client then gets "connection refused"); ``start()`` resumes."""
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def close(self) -> None:
        self.stop()
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    def __enter__(self) -> ArgoCdServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- addresses ---------------------------------------------------------------------------
    @property
    def address(self) -> str:
        """``127.0.0.1:PORT``, as ``ARGOCD_SERVER`` takes it."""
        return f"127.0.0.1:{self._port}"

    @property
    def ca_file(self) -> str:
        return str(self._ca.ca_file)

    def client_env(self) -> dict[str, str]:
        return {
            "ARGOCD_SERVER": self.address,
            "ARGOCD_AUTH_TOKEN": self.token,
            "AVP_WATCH_ARGOCD_CA_FILE": self.ca_file,
        }

    # -- data and faults -----------------------------------------------------------------------
    def add_app(self, name: str, project: str = "default", namespace: str = "") -> None:
        with self._state.lock:
            self._state.apps[(namespace or ARGOCD_NAMESPACE, name)] = _App(project)

    def delete_app(self, name: str, namespace: str = "") -> None:
        with self._state.lock:
            del self._state.apps[(namespace or ARGOCD_NAMESPACE, name)]

    def deny_project(self, project: str) -> None:
        """The account may not read Applications of ``project`` (403)."""
        with self._state.lock:
            self._state.denied_projects.add(project)

    def fail_next(self, n: int = 1, status: int = 500) -> None:
        with self._state.lock:
            self._state.failures.extend([status] * n)

    @property
    def latency(self) -> float:
        return self._state.latency

    @latency.setter
    def latency(self, seconds: float) -> None:
        self._state.latency = seconds

    # -- observation ---------------------------------------------------------------------------
    def requests(self) -> list[Recorded]:
        with self._state.lock:
            return list(self._state.requests)

    def hard_refreshes(self) -> list[tuple[str, str]]:
        """``(namespace, name)`` of every authorized hard-refresh request answered 200."""
        return [
            r.application
            for r in self.requests()
            if r.hard_refresh and r.authorized and r.status == 200
        ]

    @property
    def errors(self) -> list[str]:
        with self._state.lock:
            return list(self._state.errors)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: ThreadingHTTPServer

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - stdlib signature
        pass

    def do_GET(self) -> None:  # noqa: N802 - stdlib naming
        state: _State = self.server.state  # type: ignore[attr-defined]
        try:
            url = urlsplit(self.path)
            query = parse_qs(url.query, keep_blank_values=True)
            authorized = self.headers.get("Authorization") == f"Bearer {state.token}"
            if state.latency:
                time.sleep(state.latency)
            status, body = _answer(state, url.path, query, self.headers.get("Authorization"))
            with state.lock:
                state.requests.append(Recorded("GET", url.path, query, authorized, status))
            self._send(status, body)
        except Exception:  # noqa: BLE001 - reported through errors and a 500
            with state.lock:
                state.errors.append(traceback.format_exc())
            self._send(500, {"error": "argocdserver bug", "code": 13, "message": "bug"})

    def _send(self, status: int, body: dict[str, object]) -> None:
        data = json.dumps(body).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except (OSError, ssl.SSLError):
            self.close_connection = True  # the client gave up (a timeout test)


def _error(status: int, code: int, message: str) -> tuple[int, dict[str, object]]:
    return status, {"error": message, "code": code, "message": message}


def _answer(
    state: _State, path: str, query: dict[str, list[str]], authorization: str | None
) -> tuple[int, dict[str, object]]:
    if authorization is None:
        return _error(401, 16, "no session information")
    if authorization != f"Bearer {state.token}":
        return _error(401, 16, "invalid session: token signature is invalid")
    with state.lock:
        if state.failures:
            return _error(state.failures.pop(0), 13, "injected failure (argocdserver)")
    if not path.startswith(PREFIX) or "/" in path[len(PREFIX) :]:
        return _error(404, 5, "Not Found")
    return _get(state, unquote(path[len(PREFIX) :]), query)


def _get(state: _State, name: str, query: dict[str, list[str]]) -> tuple[int, dict[str, object]]:
    namespace = query.get("appNamespace", [""])[0] or ARGOCD_NAMESPACE
    projects = query.get("project", []) or query.get("projects", [])
    if len(projects) > 1:
        return _error(
            400,
            3,
            "multiple projects specified - the get endpoint accepts either zero or one project",
        )
    project = projects[0] if projects else ""
    not_found = _error(404, 5, f'applications.argoproj.io "{name}" not found')
    denied = _error(403, 7, "permission denied")
    with state.lock:
        app = state.apps.get((namespace, name))
        blocked = state.denied_projects
        if project and project in blocked:
            return denied
        if app is None:
            return not_found if project else denied
        if app.project in blocked:
            return not_found if project else denied
        if project and app.project != project:
            return not_found
    body = {
        "metadata": {"name": name, "namespace": namespace},
        "spec": {"project": app.project},
        "status": {"sync": {"status": "Synced"}},
    }
    return 200, body
