"""The config Secret of ``generate -s [NAMESPACE:]NAME``, read from the in-cluster API.

Like AVP: the pod's service account, ``GET /api/v1/namespaces/NS/secrets/NAME``, the decoded
``data`` used as configuration keys; namespace ``argocd`` unless given as ``NS:NAME``. This is
the operator's configuration (the Secret lives beside Argo CD), so it may hold credentials.
"""

from __future__ import annotations

import base64
import binascii
import json
import ssl
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from pathlib import Path

from avp_py.errors import ConfigError

SERVICE_ACCOUNT_DIR = Path("/var/run/secrets/kubernetes.io/serviceaccount")
TIMEOUT_SECONDS = 10.0


def parse_name(spec: str) -> tuple[str, str]:
    """``ns:name`` → (ns, name); anything else → ("argocd", first part), as AVP does."""
    parts = spec.split(":")
    if len(parts) == 2:
        return parts[0], parts[1]
    return "argocd", parts[0]


def read(
    spec: str, environ: Mapping[str, str], account_dir: Path = SERVICE_ACCOUNT_DIR
) -> dict[str, str]:
    """The Secret's data, decoded; ConfigError naming the Secret on any failure."""
    namespace, name = parse_name(spec)
    host = environ.get("KUBERNETES_SERVICE_HOST", "")
    port = environ.get("KUBERNETES_SERVICE_PORT", "")
    try:
        token = (account_dir / "token").read_text().strip()
        context = ssl.create_default_context(cafile=str(account_dir / "ca.crt"))
    except (OSError, ssl.SSLError) as exc:
        raise _connect_error(f"no service account credentials in {account_dir}") from exc
    if not host or not port:
        raise _connect_error("KUBERNETES_SERVICE_HOST/PORT are not set (not running in a pod)")
    url = (
        f"https://{_bracket(host)}:{port}/api/v1/namespaces/"
        f"{urllib.parse.quote(namespace, safe='')}/secrets/{urllib.parse.quote(name, safe='')}"
    )
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
    return _decode(name, _fetch(request, context, name))


def _fetch(request: urllib.request.Request, context: ssl.SSLContext, name: str) -> object:
    try:
        with urllib.request.urlopen(request, context=context, timeout=TIMEOUT_SECONDS) as response:
            return json.loads(response.read(8 << 20))
    except urllib.error.HTTPError as exc:
        reason = {404: "not found", 403: "is forbidden: check the sidecar's RBAC (get secrets)"}
        raise ConfigError(f'secrets "{name}" {reason.get(exc.code, f"HTTP {exc.code}")}') from exc
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise _connect_error(str(getattr(exc, "reason", exc))) from exc
    except RecursionError:  # an answer of "[" * 100_000: no Kubernetes API server's
        raise _connect_error("the answer is JSON nested too deeply") from None


def _decode(name: str, payload: object) -> dict[str, str]:
    data = payload.get("data") if isinstance(payload, dict) else None
    if not isinstance(data, dict):
        return {}
    try:
        return {str(k): base64.b64decode(str(v)).decode("utf-8") for k, v in data.items()}
    except (binascii.Error, UnicodeDecodeError) as exc:
        raise ConfigError(f'secrets "{name}": a data value is not base64-encoded UTF-8') from exc


def _bracket(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def _connect_error(reason: str) -> ConfigError:
    return ConfigError(f"could not connect to local Kubernetes cluster to read Secret: {reason}")
