"""The server's warm state: imports done once, Azure tokens and challenges kept as data.

Everything a render would import is imported here at start, so a forked render imports
nothing (:func:`import_everything`). The Azure state (:class:`WarmAzure`) is plain data in the
server's memory; each render inherits a copy through ``fork``. The server never holds a
connection: a token is fetched by a short-lived child of the server (network in the child
only) that sends back the token over a pipe and exits (:meth:`Warmth.refresh_body`).
"""

from __future__ import annotations

import importlib
import json
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, NoReturn

from avp_py.backends.azurekeyvault import warm as azure_warm
from avp_py.backends.azurekeyvault.options import AzureOptions
from avp_py.errors import AvpError
from avp_py.settings import load_settings

# What renders import lazily; importing it in the server makes every render skip it. The
# command line itself is already imported: it started the server (avp_py.cli.serve).
WARM_IMPORTS = (
    "avp_py.render",
    "avp_py.rollout",
    "avp_py.jsonpath",
    "avp_py.certificates",
    "avp_py.backends.cache.files",
    "avp_py.backends.cache.store",
    "avp_py.settings.configfile",
    "avp_py.settings.kubesecret",
    "avp_py.backends.file",
    "avp_py.backends.cache.backend",
    "avp_py.backends.azurekeyvault.sdk",
    "avp_py.backends.azurekeyvault.metadata",
    "azure.identity._credentials.managed_identity",
    "azure.identity._credentials.workload_identity",
    "azure.identity._credentials.client_assertion",
    "azure.identity._credentials.app_service",
    "azure.identity._internal.msal_managed_identity_client",
    "azure.core.rest._requests_basic",
    "azure.core.rest._http_response_impl",
    "msal",
    "msal_extensions",
    "encodings.utf_8_sig",
    "requests.adapters",
    "urllib3.contrib",
    "concurrent.futures.thread",
    "email.parser",
    "http.client",
)
REFRESH_SECONDS = 30.0  # a token request's own deadline in the refresh child
REFRESH_LIMIT_SECONDS = 2 * REFRESH_SECONDS  # then the server kills the refresh child
RETRY_SECONDS = 60.0  # after a failed refresh, and at least between two of one token
WANTED_LIMIT = 16


def import_everything() -> list[str]:
    """Import :data:`WARM_IMPORTS`; the names that could not be imported (an SDK that moved a
    module only costs the renders that import)."""
    missing = []
    for name in WARM_IMPORTS:
        try:
            importlib.import_module(name)
        except ImportError:
            missing.append(name)
    return missing


@dataclass
class Refresh:
    """A running refresh child."""

    pid: int
    fd: int
    key: azure_warm.TokenKey
    started: float
    output: bytearray = field(default_factory=bytearray)


class Warmth:
    """The Azure state renders inherit, and the token refreshes that keep it warm."""

    def __init__(self, options: AzureOptions | None, identity: str | None) -> None:
        self.state = azure_warm.WarmAzure(identity=identity)
        self._options = options
        self.refresh: Refresh | None = None
        self._retry_at: dict[azure_warm.TokenKey, float] = {}
        self.refreshes = 0
        self.failures = 0

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> tuple[Warmth, str]:
        """From the server's own settings; the second item says whether tokens are kept."""
        try:
            settings = load_settings(environ)
            if settings.backend != "azurekeyvault":
                return cls(None, None), f"warm tokens off: AVP_TYPE is {settings.backend}"
            options = AzureOptions.from_options(settings.options)
        except AvpError as exc:
            return cls(None, None), f"warm tokens off: the server's settings: {exc}"
        identity = azure_warm.identity_key(options, environ)
        if identity is None:
            return cls(None, None), "warm tokens off: AVP_AZURE_CREDENTIAL=cli"
        return cls(options, identity), f"warm tokens on: AVP_AZURE_CREDENTIAL={options.credential}"

    # -- in a render child -----------------------------------------------------------------
    def install(self, environ: dict[str, str]) -> None:
        """Hand this render the warm state (its own copy: the process was forked)."""
        self.state.environ = environ
        azure_warm.install(self.state)

    def learned(self) -> dict[str, Any]:
        return self.state.learned()

    # -- in the server -----------------------------------------------------------------------
    def learn(self, learned: object) -> None:
        """Merge what a render reported (challenges; token scopes, for the server's identity)."""
        if not isinstance(learned, dict):
            return
        for item in learned.get("challenges") or []:
            if _strings(item, 2) and len(self.state.challenges) < azure_warm.CHALLENGE_LIMIT:
                self.state.challenges[item[0]] = item[1]
        if self.state.identity is None:
            return
        for item in learned.get("wanted") or []:
            if _strings(item, 2) and len(self.state.wanted) < WANTED_LIMIT:
                self.state.wanted.add((item[0], item[1]))

    def due(self, now: float) -> azure_warm.TokenKey | None:
        """A token to fetch now, if any (one refresh at a time)."""
        if self.refresh is not None or self._options is None:
            return None
        for key in azure_warm.tokens_due(self.state, time.time()):
            if self._retry_at.get(key, 0.0) <= now:
                return key
        return None

    def refresh_body(self, key: azure_warm.TokenKey, fd: int) -> NoReturn:
        """The refresh child: fetch the token with the server's own settings, send, exit."""
        assert self._options is not None
        code = 0
        try:
            token = azure_warm.fetch_token(self._options, key, REFRESH_SECONDS)
            message: dict[str, Any] = {
                "token": token.token,
                "expires_on": token.expires_on,
                "refresh_on": token.refresh_on,
            }
        except Exception as exc:  # noqa: BLE001 - reported by type only (messages may quote)
            message, code = {"error": type(exc).__name__}, 1
        try:
            os.write(fd, json.dumps(message).encode("utf-8"))
        finally:
            os._exit(code)

    def refreshed(self, now: float) -> str:
        """The refresh child ended: keep its token; a line for the server's log."""
        refresh, self.refresh = self.refresh, None
        assert refresh is not None
        answer = _json_object(bytes(refresh.output))
        try:
            token = azure_warm.WarmToken(
                refresh.key[0],
                refresh.key[1],
                str(answer["token"]),
                int(answer["expires_on"]),
                int(answer["refresh_on"]) if answer.get("refresh_on") else None,
            )
        except (ValueError, KeyError, TypeError):
            self.failures += 1
            self._retry_at[refresh.key] = now + RETRY_SECONDS
            reason = str(answer.get("error") or "no answer")
            return f"token refresh failed ({reason}); renders fetch their own meanwhile"
        self.state.tokens[refresh.key] = token
        self.refreshes += 1
        self._retry_at[refresh.key] = now + RETRY_SECONDS  # short-lived tokens: not in a loop
        left = token.expires_on - time.time()
        return f"token refreshed for {refresh.key[0]} (valid {left / 60:.0f} more minutes)"

    def usable_tokens(self) -> int:
        now = time.time()
        return sum(1 for token in self.state.tokens.values() if token.usable(now))


def _strings(item: object, count: int) -> bool:
    return isinstance(item, list) and len(item) == count and all(isinstance(v, str) for v in item)


def _json_object(data: bytes) -> dict[str, Any]:
    try:
        value = json.loads(data or b"{}")
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}
