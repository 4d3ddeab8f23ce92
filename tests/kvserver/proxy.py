"""Sockets: threaded listeners on 127.0.0.1, the CONNECT proxy and TLS termination.

Three kinds of listener share one handler class:

* ``proxy`` — an HTTP proxy that only understands ``CONNECT host:port``. It never connects out:
  it answers ``200``, then terminates TLS itself with a certificate for ``host`` and serves the
  tunnelled requests (Key Vault hosts and login hosts).
* ``https`` — direct TLS; the certificate is picked by SNI (127.0.0.1 without SNI).
* ``identity`` — plain HTTP for the App Service managed identity endpoint.

Connections are tracked so :meth:`Listener.stop` can unblock keep-alive readers and join every
handler thread.
"""

from __future__ import annotations

import contextlib
import io
import socket
import socketserver
import ssl
import struct
import threading
import uuid
from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qsl, urlsplit

from .ca import CertificateAuthority
from .handlers import App, Request, Response

_HANDSHAKE_TIMEOUT = 10.0
_Socket = socket.socket


class _SocketWriter(io.BufferedIOBase):
    """A write-only file over a socket using ``sendall`` (no partial writes)."""

    def __init__(self, sock: _Socket) -> None:
        self._sock = sock

    def writable(self) -> bool:
        return True

    def write(self, b: bytes) -> int:  # type: ignore[override]
        self._sock.sendall(b)
        return len(b)


class Listener(socketserver.ThreadingMixIn, socketserver.TCPServer):
    daemon_threads = False
    block_on_close = True
    allow_reuse_address = False
    request_queue_size = 128

    def __init__(self, kind: str, app: App, ca: CertificateAuthority) -> None:
        self.kind = kind
        self.app = app
        self.ca = ca
        self._conns: set[_Socket] = set()
        self._conn_lock = threading.Lock()
        self._closing = False
        self._thread: threading.Thread | None = None
        super().__init__(("127.0.0.1", 0), Handler)

    def start(self) -> None:
        """Serve in a background thread."""
        thread = threading.Thread(
            target=self.serve_forever, args=(0.05,), name=f"kvserver-{self.kind}", daemon=True
        )
        thread.start()
        self._thread = thread

    @property
    def port(self) -> int:
        return int(self.server_address[1])

    def tls_context_for(self, host: str) -> ssl.SSLContext:
        return self.ca.context_for(self.app.state.faults.certificate_host(host))

    def sni_context(self) -> ssl.SSLContext:
        """A context for direct TLS: 127.0.0.1 unless the client names a host by SNI."""
        ctx = self.ca.context_for("127.0.0.1")
        if ctx.sni_callback is None:
            ctx.sni_callback = self._pick_by_sni
        return ctx

    def _pick_by_sni(self, sock: ssl.SSLObject, server_name: str | None, _: ssl.SSLContext) -> None:
        if server_name:
            sock.context = self.tls_context_for(server_name)

    # -- connection tracking --------------------------------------------------------------------
    def process_request(self, request: _Socket, client_address: object) -> None:  # type: ignore[override]
        with self._conn_lock:
            if self._closing:
                request.close()
                return
            self._conns.add(request)
        self.app.state.counters.incr("connections", self.kind)
        super().process_request(request, client_address)

    def shutdown_request(self, request: _Socket) -> None:  # type: ignore[override]
        with self._conn_lock:
            self._conns.discard(request)
        super().shutdown_request(request)

    def replace_connection(self, old: _Socket, new: _Socket) -> bool:
        """Track ``new`` instead of ``old``; False if the listener is closing."""
        with self._conn_lock:
            self._conns.discard(old)
            if self._closing:
                return False
            self._conns.add(new)
            return True

    def forget_connection(self, sock: _Socket) -> None:
        with self._conn_lock:
            self._conns.discard(sock)

    def handle_error(self, request: object, client_address: object) -> None:
        self.app.state.record_error()

    def stop(self) -> None:
        """Stop accepting, cut open connections, join every handler thread, close the port."""
        if self._thread is not None:
            self.shutdown()
            self._thread.join()
            self._thread = None
        with self._conn_lock:
            self._closing = True
            conns = list(self._conns)
        for sock in conns:
            # socket.socket's own shutdown: SSLSocket.shutdown would also drop the TLS object
            # under a thread that may be reading from it.
            with contextlib.suppress(OSError):
                socket.socket.shutdown(sock, socket.SHUT_RDWR)
        self.server_close()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    server: Listener
    _tls: ssl.SSLSocket | None = None
    _tunnel_host: str | None = None

    def handle(self) -> None:
        try:
            if self.server.kind == "https" and not self._start_tls(self.server.sni_context()):
                return
            super().handle()
        except OSError:  # client went away, TLS alert, reset...
            self.close_connection = True

    def finish(self) -> None:
        with contextlib.suppress(OSError):
            super().finish()
        if self._tls is not None:
            self.server.forget_connection(self._tls)
            self._tls.close()

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - stdlib signature
        pass

    # -- TLS ---------------------------------------------------------------------------------------
    def _start_tls(self, ctx: ssl.SSLContext) -> bool:
        raw = self.connection
        self.rfile.close()
        tls = ctx.wrap_socket(raw, server_side=True, do_handshake_on_connect=False)
        self._tls = tls
        if not self.server.replace_connection(raw, tls):
            return False
        try:
            tls.settimeout(_HANDSHAKE_TIMEOUT)
            tls.do_handshake()
            tls.settimeout(None)
        except OSError:
            self.server.app.state.counters.incr("tls_failed")
            self.close_connection = True
            return False
        self.connection = tls
        self.rfile = tls.makefile("rb")
        self.wfile = _SocketWriter(tls)
        return True

    def do_CONNECT(self) -> None:  # noqa: N802 - stdlib naming
        host, _, _port = self.path.rpartition(":")
        host = host.strip("[]").lower()
        state = self.server.app.state
        if self.server.kind != "proxy" or self._tls is not None or not state.serves_host(host):
            self._send(Response(502, b"kvserver: no route to host\n"))
            self.close_connection = True
            return
        state.counters.incr("tunnel", host)
        self.send_response(200, "Connection Established")
        self.end_headers()
        if self._start_tls(self.server.tls_context_for(host)):
            self._tunnel_host = host
            # http.client sends "CONNECT ... HTTP/1.0"; the tunnel itself is kept alive.
            self.close_connection = False

    # -- HTTP ----------------------------------------------------------------------------------
    def do_GET(self) -> None:  # noqa: N802
        self._dispatch()

    do_PUT = do_PATCH = do_POST = do_DELETE = do_HEAD = do_GET  # noqa: N815

    def _dispatch(self) -> None:
        if self.server.kind == "proxy" and self._tunnel_host is None:
            self._send(Response(405, b"kvserver proxy: only CONNECT is supported\n"))
            return
        body = self._read_body()
        if body is None:
            self._send(Response(400, b"bad request body\n"))
            self.close_connection = True
            return
        self._send(self.server.app.handle(self._request(body)))

    def _request(self, body: bytes) -> Request:
        authority = self.headers.get("Host", self._tunnel_host or "127.0.0.1")
        host = self._tunnel_host or urlsplit("//" + authority).hostname or ""
        url = urlsplit(self.path)
        query: dict[str, str] = {}
        for key, value in parse_qsl(url.query, keep_blank_values=True):
            query.setdefault(key.lower(), value)
        headers = {k.lower(): v for k, v in self.headers.items()}
        return Request(
            self.command, host.lower(), authority, url.path, query, headers, body, self.server.kind
        )

    def _read_body(self) -> bytes | None:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            return self._read_chunked()
        try:
            length = int(self.headers.get("Content-Length", "0"))
        except ValueError:
            return None
        return self.rfile.read(length) if length > 0 else b""

    def _read_chunked(self) -> bytes | None:
        chunks: list[bytes] = []
        while True:
            try:
                size = int(self.rfile.readline(65537).split(b";")[0].strip(), 16)
            except ValueError:
                return None
            if size == 0:
                while self.rfile.readline(65537).strip():
                    pass
                return b"".join(chunks)
            chunks.append(self.rfile.read(size))
            self.rfile.readline(3)

    def _send(self, response: Response) -> None:
        if response.drop is not None:
            self._drop(reset=response.drop == "reset")
            return
        self.send_response(response.status)
        for name, value in response.headers:
            self.send_header(name, value)
        for name, value in _COMMON_HEADERS:
            self.send_header(name, value)
        self.send_header("x-ms-request-id", str(uuid.uuid4()))
        client_request_id = self.headers.get("x-ms-client-request-id")
        if client_request_id:
            self.send_header("x-ms-client-request-id", client_request_id)
        self.send_header("Content-Length", str(len(response.body)))
        self.end_headers()
        if self.command != "HEAD" and response.body:
            self.wfile.write(response.body)

    def _drop(self, *, reset: bool) -> None:
        self.server.app.state.counters.incr("dropped")
        self.close_connection = True
        sock = self.connection
        if reset:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.rfile.close()
        sock.close()


_COMMON_HEADERS: list[tuple[str, str]] = [
    ("Cache-Control", "no-cache"),
    ("Pragma", "no-cache"),
    ("Expires", "-1"),
    ("x-ms-keyvault-region", "westus"),
    ("x-ms-keyvault-service-version", "1.9.0.0-kvserver"),
]
