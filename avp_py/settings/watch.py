"""The settings of ``avp-py watch`` (issue 14), built once from the resolved settings and the
process environment.

``AVP_WATCH_*`` are avp-py settings (environment, config file or Secret, as any ``AVP_*``).
Argo CD's address and token keep the names the argocd CLI reads, ``ARGOCD_SERVER`` (a host,
optionally with a port, without ``https://``) and ``ARGOCD_AUTH_TOKEN``, and come from the
watcher's environment only (the token from a Kubernetes Secret): never from a config file,
and never from an Application. TLS is always verified, against the system CAs or
``AVP_WATCH_ARGOCD_CA_FILE``; the argocd CLI's ``--insecure`` has no equivalent here.
``AVP_WATCH_ARGOCD_PLAINTEXT=true`` is its ``--plaintext`` (plain HTTP, for an argocd-server
run with ``server.insecure`` inside the cluster); ``--grpc-web`` is not needed: the watcher
uses the REST API over HTTP/1.1.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from avp_py.errors import ConfigError
from avp_py.settings import knobs
from avp_py.settings.load import Settings, parse_boolean


@dataclass(frozen=True)
class ArgoCdServer:
    """Where the Argo CD API is, and how to authenticate to it."""

    host: str
    port: int
    token: str = field(repr=False)
    plaintext: bool = False
    ca_file: str = ""
    timeout_seconds: float = knobs.WATCH_ARGOCD_TIMEOUT.default

    @property
    def address(self) -> str:
        """``host:port`` for messages (IPv6 hosts in brackets)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"


@dataclass(frozen=True)
class WatchSettings:
    """Everything ``avp-py watch`` needs besides the backend's settings."""

    state_dir: str
    argocd: ArgoCdServer
    interval_seconds: float = knobs.WATCH_INTERVAL.default
    record_max_age_seconds: float = knobs.WATCH_RECORD_MAX_AGE.default


def load_watch_settings(settings: Settings, environ: Mapping[str, str]) -> WatchSettings:
    """The watcher's settings; ConfigError names the first missing or invalid one."""
    if not settings.watch_state_dir:
        raise ConfigError(
            "AVP_WATCH_STATE_DIR must be set: the directory where the renders record the"
            " versions they were served (the same directory as the sidecars')"
        )
    values = settings.options
    return WatchSettings(
        state_dir=settings.watch_state_dir,
        argocd=_argocd(values, environ),
        interval_seconds=knobs.WATCH_INTERVAL.read(values),
        record_max_age_seconds=knobs.WATCH_RECORD_MAX_AGE.read(values),
    )


def _argocd(values: Mapping[str, str], environ: Mapping[str, str]) -> ArgoCdServer:
    plaintext = parse_boolean(values, "AVP_WATCH_ARGOCD_PLAINTEXT")
    host, port = parse_server(environ.get("ARGOCD_SERVER", ""), plaintext)
    token = environ.get("ARGOCD_AUTH_TOKEN", "").strip()
    if not token:
        raise ConfigError(
            "ARGOCD_AUTH_TOKEN must be set: the API token of an Argo CD account allowed to get"
            " the Applications (see docs/argocd.md, 'Rotation without a Hard Refresh')"
        )
    if not token.isprintable() or not token.isascii():
        raise ConfigError("ARGOCD_AUTH_TOKEN holds characters an HTTP header cannot carry")
    ca_file = values.get("AVP_WATCH_ARGOCD_CA_FILE", "").strip()
    timeout = knobs.WATCH_ARGOCD_TIMEOUT.read(values)
    return ArgoCdServer(host, port, token, plaintext, ca_file, timeout)


def parse_server(server: str, plaintext: bool) -> tuple[str, int]:
    """``host[:port]`` as the argocd CLI takes it (an ``https://`` prefix is tolerated)."""
    text = server.strip()
    if not text:
        raise ConfigError(
            "ARGOCD_SERVER must be set: the Argo CD API server as host[:port], e.g."
            " argocd-server.argocd.svc (as for the argocd CLI)"
        )
    lowered = text.lower()
    if lowered.startswith("http://"):
        raise ConfigError(
            "ARGOCD_SERVER takes host[:port]; for plain HTTP set AVP_WATCH_ARGOCD_PLAINTEXT=true"
        )
    if lowered.startswith("https://"):
        text = text[len("https://") :]
    try:
        parts = urlsplit("//" + text)
        port = parts.port
    except ValueError:
        raise ConfigError(f"ARGOCD_SERVER is not host[:port]: {server!r}") from None
    if not parts.hostname or parts.path.strip("/") or parts.query or "@" in parts.netloc:
        raise ConfigError(f"ARGOCD_SERVER is not host[:port]: {server!r}")
    try:
        parts.hostname.encode("idna")  # what connecting does, as a UnicodeError every cycle
    except UnicodeError:
        raise ConfigError(
            f"ARGOCD_SERVER is not host[:port]: {server!r} (a host name label is empty or"
            " longer than 63 characters)"
        ) from None
    return parts.hostname, port or (80 if plaintext else 443)
