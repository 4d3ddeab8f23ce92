"""Ask Argo CD for a hard refresh through its API: the least privilege way (issue 14, item 3).

``GET /api/v1/applications/{name}?refresh=hard`` is what ``argocd app get NAME --hard-refresh``
sends; Argo CD checks ``applications, get`` for it (``server/application/application.go``),
so the watcher's account needs read access only. The query names the Application's project
(``project=``: with it, Argo CD answers 404 for an Application that no longer exists instead
of its uninformative 403) and, for an Application outside Argo CD's namespace, its namespace
(``appNamespace=``, from the ``NAMESPACE_`` part of ``ARGOCD_APP_NAME``; never
``ARGOCD_APP_NAMESPACE``, which is the destination namespace).

Argo CD sets the refresh annotation first and then waits for the controller to finish the
refresh before it answers, which can take as long as the render. A request that was sent but
not answered within ``AVP_WATCH_ARGOCD_TIMEOUT_SECONDS`` (60 s) therefore counts as asked
(:attr:`Outcome.SENT`); one that could not be sent (connection refused, TLS, DNS) is not, and
is asked again next cycle. TLS is verified with the system CAs or the configured bundle; the
token travels only in the ``Authorization`` header and is never part of a message.
"""

from __future__ import annotations

import enum
import http.client
import json
import socket
import ssl
import urllib.parse
import urllib.request
from dataclasses import dataclass

from avp_py.errors import ConfigError
from avp_py.settings.watch import ArgoCdServer

CONNECT_TIMEOUT = 10.0
_MAX_BODY = 64 << 20  # an Application with its status can be large; it is read and dropped
_MESSAGE_MAX = 200


class Outcome(enum.Enum):
    """How a refresh request ended."""

    REFRESHED = "refreshed"  # 200: Argo CD refreshed it
    SENT = "sent"  # sent, not answered in time: Argo CD acts on it anyway
    GONE = "gone"  # 404: no such Application (in that project)
    DENIED = "denied"  # 403: the account may not get it
    UNAUTHORIZED = "unauthorized"  # 401: the token is missing, wrong or expired
    FAILED = "failed"  # not sent, or any other answer: ask again next cycle


@dataclass(frozen=True)
class Answer:
    outcome: Outcome
    detail: str = ""

    @property
    def asked(self) -> bool:
        """Argo CD has the request: remember it, do not ask again for the same versions."""
        return self.outcome in (Outcome.REFRESHED, Outcome.SENT)


def split_application(app_name: str) -> tuple[str, str]:
    """``(namespace, name)`` of ``ARGOCD_APP_NAME``: ``NAMESPACE_NAME`` for an Application
    outside Argo CD's namespace (Kubernetes names cannot contain ``_``), else ``("", NAME)``."""
    namespace, separator, name = app_name.partition("_")
    return (namespace, name) if separator else ("", app_name)


def refresh_path(app_name: str, project: str) -> str:
    """The request path and query of a hard refresh of ``app_name``."""
    namespace, name = split_application(app_name)
    query = [("refresh", "hard")]
    if project:
        query.append(("project", project))
    if namespace:
        query.append(("appNamespace", namespace))
    quoted = urllib.parse.quote(name, safe="")
    return f"/api/v1/applications/{quoted}?{urllib.parse.urlencode(query)}"


class ArgoCdClient:
    """Hard refreshes through one Argo CD API server; safe to use from several threads."""

    def __init__(self, server: ArgoCdServer) -> None:
        self._server = server
        self._context = None if server.plaintext else _tls_context(server.ca_file)
        # The proxy variables, read as urllib reads them (HTTPS_PROXY, NO_PROXY).
        proxies = urllib.request.getproxies_environment()
        bypass = urllib.request.proxy_bypass_environment(  # type: ignore[attr-defined]
            server.host, proxies
        )
        url = None if bypass or server.plaintext else proxies.get("https")
        self._proxy = None if url is None else _proxy_address(url)

    @property
    def address(self) -> str:
        return self._server.address

    @property
    def _connect_timeout(self) -> float:
        return min(CONNECT_TIMEOUT, self._server.timeout_seconds)

    def hard_refresh(self, app_name: str, project: str) -> Answer:
        """Ask for a hard refresh of ``app_name``; never raises for network or HTTP failures."""
        connection = self._connection()
        try:
            try:
                connection.connect()
            except (OSError, http.client.HTTPException) as exc:
                return Answer(
                    Outcome.FAILED, f"cannot reach Argo CD at {self.address}: {_why(exc)}"
                )
            return self._exchange(connection, refresh_path(app_name, project))
        finally:
            connection.close()

    def _connection(self) -> http.client.HTTPConnection:
        host, port = self._server.host, self._server.port
        if self._context is None:
            return http.client.HTTPConnection(host, port, timeout=self._connect_timeout)
        if self._proxy is None:
            return http.client.HTTPSConnection(
                host, port, timeout=self._connect_timeout, context=self._context
            )
        proxy_host, proxy_port = self._proxy
        connection = http.client.HTTPSConnection(
            proxy_host,
            proxy_port,
            timeout=self._connect_timeout,
            context=self._context,
        )
        connection.set_tunnel(host, port)
        return connection

    def _exchange(self, connection: http.client.HTTPConnection, path: str) -> Answer:
        headers = {"Authorization": f"Bearer {self._server.token}", "Accept": "application/json"}
        try:
            if connection.sock is not None:
                connection.sock.settimeout(self._server.timeout_seconds)
            connection.request("GET", path, headers=headers)
            response = connection.getresponse()
            body = response.read(_MAX_BODY)
        except TimeoutError:
            wait = self._server.timeout_seconds
            return Answer(Outcome.SENT, f"no answer within {wait:g} s")
        except (OSError, http.client.HTTPException) as exc:
            return Answer(Outcome.FAILED, f"Argo CD at {self.address}: {_why(exc)}")
        return _answer(response.status, body)


def _proxy_address(url: str) -> tuple[str, int]:
    """``(host, port)`` of HTTPS_PROXY; ConfigError (never quoting it: it may hold a password)
    for one no connection can use, which would otherwise fail every cycle as an internal error.
    A URL without a scheme (``proxy:3128``) is read as urllib reads it, as ``http://``."""
    parts = urllib.parse.urlsplit(url if "://" in url else f"http://{url}")
    try:
        port = parts.port or 80
        host = parts.hostname or ""
        host.encode("idna")  # what connecting does; a label over 63 characters fails there
    except (ValueError, UnicodeError):
        host = ""
    if not host:
        raise ConfigError(
            "HTTPS_PROXY is not a proxy URL http://host[:port] (port 1-65535): Argo CD cannot"
            " be reached through it; fix it or add ARGOCD_SERVER's host to NO_PROXY"
        )
    return host, port


def _answer(status: int, body: bytes) -> Answer:
    if status == 200:
        return Answer(Outcome.REFRESHED)
    message = _message(body)
    if status == 404:
        return Answer(Outcome.GONE, message or "not found")
    if status == 403:
        return Answer(Outcome.DENIED, message or "permission denied")
    if status == 401:
        return Answer(Outcome.UNAUTHORIZED, message or "unauthorized")
    return Answer(Outcome.FAILED, f"HTTP {status}" + (f": {message}" if message else ""))


def _message(body: bytes) -> str:
    """Argo CD's error message (gRPC-gateway JSON), short and printable; never a header."""
    try:
        document = json.loads(body)
    except (ValueError, RecursionError):  # RecursionError: "[" * 100_000 from a proxy or server
        return ""
    text = document.get("message") or document.get("error") if isinstance(document, dict) else ""
    cleaned = "".join(ch for ch in str(text or "") if ch.isprintable())
    return cleaned[:_MESSAGE_MAX]


def _why(exc: BaseException) -> str:
    if isinstance(exc, ssl.SSLCertVerificationError):
        return (
            f"TLS certificate verification failed ({exc.verify_message or 'not trusted'});"
            " set AVP_WATCH_ARGOCD_CA_FILE to the CA of Argo CD's certificate"
        )
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, TimeoutError):
        return "timed out"
    if isinstance(exc, socket.gaierror):
        return "the host name does not resolve"
    if isinstance(exc, ssl.SSLError):
        return "TLS handshake failed"
    return exc.strerror if isinstance(exc, OSError) and exc.strerror else type(exc).__name__


def _tls_context(ca_file: str) -> ssl.SSLContext:
    """Verification on: the system CAs, or only the configured bundle."""
    try:
        return ssl.create_default_context(cafile=ca_file or None)
    except (OSError, ssl.SSLError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else "not a PEM bundle"
        raise ConfigError(f"AVP_WATCH_ARGOCD_CA_FILE: cannot load {ca_file}: {reason}") from exc
