"""The -s config Secret: read from a (local, HTTPS) Kubernetes API with a service account."""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from avp_py.errors import ConfigError
from avp_py.settings.kubesecret import parse_name, read
from tests.kvserver.ca import CertificateAuthority

TOKEN = "service-account-token"
SECRET = {"AVP_TYPE": "azurekeyvault", "AZURE_CLIENT_SECRET": "s3cr3t"}


class FakeApi(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        if self.headers.get("Authorization") != f"Bearer {TOKEN}":
            self._reply(401, {"kind": "Status"})
        elif self.path == "/api/v1/namespaces/argocd/secrets/avp-config":
            data = {k: base64.b64encode(v.encode()).decode() for k, v in SECRET.items()}
            self._reply(200, {"kind": "Secret", "data": data})
        elif self.path == "/api/v1/namespaces/other/secrets/forbidden":
            self._reply(403, {"kind": "Status"})
        elif self.path == "/api/v1/namespaces/argocd/secrets/deep":
            self._reply(200, "[" * 200_000, raw=True)
        else:
            self._reply(404, {"kind": "Status"})

    def _reply(self, status: int, body: object, raw: bool = False) -> None:
        payload = str(body).encode() if raw else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def api(tmp_path: Path) -> Iterator[tuple[dict[str, str], Path]]:
    ca = CertificateAuthority(tmp_path)
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeApi)
    server.socket = ca.context_for("127.0.0.1").wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    account = tmp_path / "sa"
    account.mkdir()
    (account / "token").write_text(TOKEN + "\n")
    (account / "ca.crt").write_bytes(ca.ca_pem)
    env = {
        "KUBERNETES_SERVICE_HOST": "127.0.0.1",
        "KUBERNETES_SERVICE_PORT": str(server.server_address[1]),
    }
    yield env, account
    server.shutdown()
    server.server_close()


def test_name_parsing_like_avp() -> None:
    assert parse_name("ns:name") == ("ns", "name")
    assert parse_name("name") == ("argocd", "name")
    assert parse_name("a:b:c") == ("argocd", "a")


def test_reads_and_decodes_the_secret(api: tuple[dict[str, str], Path]) -> None:
    env, account = api
    assert read("avp-config", env, account) == SECRET


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("missing", 'secrets "missing" not found'),
        ("other:forbidden", 'secrets "forbidden" is forbidden'),
        ("deep", "JSON nested too deeply"),  # once a RecursionError: an internal error
    ],
)
def test_api_errors(api: tuple[dict[str, str], Path], spec: str, message: str) -> None:
    env, account = api
    with pytest.raises(ConfigError, match=message):
        read(spec, env, account)


def test_outside_a_pod(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="could not connect to local Kubernetes cluster"):
        read("x", {}, tmp_path)
