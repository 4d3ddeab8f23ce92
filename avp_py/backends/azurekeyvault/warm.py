"""Warm Azure state a render server hands to its renders (issue 13): tokens and challenges.

A render forked from ``avp-py serve`` starts with what earlier renders and the server learned:

* **Key Vault's authentication challenge per vault** (seeded into the SDK's process-wide
  challenge cache, ``azure.keyvault.secrets._shared.http_challenge_cache``), so the first
  request to a known vault carries a token at once instead of first eliciting a 401;
* **access tokens of the server's own identity**, fetched by the server (in a short-lived
  child, from the sidecar's own settings) ahead of their expiry. A render's credential hands
  one out only if the render's effective credential settings are the server's
  (:func:`identity_key`); a render with other settings builds and uses its own, as in-process.

What a render reports back is data only: the challenges it saw (public: a vault's tenant and
resource) and which (scope, tenant) it asked tokens for. Tokens never travel from a render to
the server, and nothing here logs or prints one.

The state is installed only in a server's render child (:func:`install`); in-process runs
never touch this module.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from azure.core.credentials import AccessToken, AccessTokenInfo, TokenCredential

from avp_py.backends.azurekeyvault import pipeline
from avp_py.backends.azurekeyvault.options import AzureOptions

# ChallengeAuthPolicy asks for a new token when fewer than 300 s are left (or at refresh_on);
# a warm token is handed out only with a margin beyond that for the render's own duration.
HAND_OUT_MARGIN = 300 + 60
REFRESH_AHEAD = 600  # the server refreshes a token when fewer seconds than this are left
IDENTITY_PREFIXES = ("AZURE_", "IDENTITY_", "MSI_", "IMDS_")  # what azure-identity reads
CHALLENGE_LIMIT = 256

TokenKey = tuple[str, str]  # (scope, tenant id or "")


@dataclass(frozen=True)
class WarmToken:
    """An access token of the server's identity (never printed: ``repr`` hides it)."""

    scope: str
    tenant: str
    token: str = field(repr=False)
    expires_on: int
    refresh_on: int | None = None

    def usable(self, now: float) -> bool:
        """Good for a render starting now (the SDK will not ask for a new one meanwhile)."""
        if self.refresh_on is not None and self.refresh_on - now <= 60:
            return False
        return self.expires_on - now > HAND_OUT_MARGIN

    def due(self, now: float) -> bool:
        """Time for the server to fetch a new one (before any render would stop using it)."""
        if self.refresh_on is not None and self.refresh_on - now <= 120:
            return True
        return self.expires_on - now <= REFRESH_AHEAD


@dataclass
class WarmAzure:
    """What a render starts with, and what it learns for the server."""

    identity: str | None = None
    tokens: dict[TokenKey, WarmToken] = field(default_factory=dict)
    challenges: dict[str, str] = field(default_factory=dict)  # vault root URL -> header
    seen: dict[str, str] = field(default_factory=dict)  # challenges this render received
    wanted: set[TokenKey] = field(default_factory=set)  # tokens this render asked for
    environ: Mapping[str, str] = field(default_factory=dict, repr=False)
    tokens_handed_out: int = 0

    def learned(self) -> dict[str, Any]:
        """Data for the server (no token): challenges seen, token scopes wanted."""
        return {
            "challenges": sorted([url, header] for url, header in self.seen.items()),
            "wanted": sorted([scope, tenant] for scope, tenant in self.wanted),
        }


_STATE: WarmAzure | None = None  # set by install(), in a render server's child only


def identity_key(options: AzureOptions, environ: Mapping[str, str]) -> str | None:
    """A digest of everything that decides which identity a credential authenticates as:
    the credential settings and the variables azure-identity reads from the environment.
    None for the Azure CLI credential (its login lives outside any setting)."""
    if options.credential == "cli":
        return None
    names = {name for name in environ if name.startswith(IDENTITY_PREFIXES)}
    if options.credential == "default":  # the chain ends with the Azure CLI login
        names |= {"PATH", "HOME", "AZURE_CONFIG_DIR"}
    variables = sorted((name, environ.get(name, "")) for name in names)
    blob = json.dumps([dataclasses.asdict(options), variables], sort_keys=True)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def install(state: WarmAzure) -> None:
    """Use ``state`` in this process (a render child): seed the SDK's challenge cache and
    watch the challenges and token requests of this render."""
    global _STATE
    _STATE = state
    pipeline.CHALLENGE_OBSERVER = _observe_challenge
    cache, challenge = _challenge_cache()
    if cache is None:
        return
    for url, header in state.challenges.items():
        try:
            cache.set_challenge_for_url(url, challenge(url, header))
        except ValueError:
            continue  # not a challenge this SDK accepts: the render elicits its own


def _challenge_cache() -> tuple[Any, Any]:
    """The SDK's challenge cache and challenge type; (None, None) if this SDK version moved
    them (warm challenges are then off: renders answer the challenge themselves)."""
    try:
        from azure.keyvault.secrets._shared import HttpChallenge, http_challenge_cache
    except ImportError:
        return None, None
    return http_challenge_cache, HttpChallenge


def _observe_challenge(url: str, header: str) -> None:
    """Keep a vault's Bearer challenge (not a claims challenge: that one is per token)."""
    state = _STATE
    if state is None or not header.lower().startswith("bearer ") or "claims=" in header:
        return
    if len(state.seen) < CHALLENGE_LIMIT:
        state.seen[_vault_root(url)] = header


def _vault_root(url: str) -> str:
    scheme, _, rest = url.partition("://")
    return f"{scheme}://{rest.split('/', 1)[0]}/"


def client_credential(credential: TokenCredential, options: AzureOptions) -> TokenCredential:
    """The credential one vault's client uses: the render's own, in front of it the server's
    warm tokens when the render authenticates as the server does."""
    state = _STATE
    if state is None or state.identity is None:
        return credential
    if identity_key(options, state.environ) != state.identity:
        return credential
    return WarmCredential(credential, state)


class WarmCredential:
    """Hands the server's warm token to one client once per scope; every further request
    (a refused token, a claims challenge, another tenant) goes to the render's credential."""

    def __init__(self, inner: TokenCredential, state: WarmAzure) -> None:
        self._inner = inner
        self._state = state
        self._used: set[TokenKey] = set()

    def get_token(
        self,
        *scopes: str,
        claims: str | None = None,
        tenant_id: str | None = None,
        enable_cae: bool = False,
        **kwargs: Any,
    ) -> AccessToken:
        warm = self._take(scopes, tenant_id, claims, enable_cae)
        if warm is not None:
            return AccessToken(warm.token, warm.expires_on)
        return self._inner.get_token(
            *scopes, claims=claims, tenant_id=tenant_id, enable_cae=enable_cae, **kwargs
        )

    def get_token_info(self, *scopes: str, options: Any = None) -> AccessTokenInfo:
        wanted = dict(options or {})
        warm = self._take(
            scopes, wanted.get("tenant_id"), wanted.get("claims"), bool(wanted.get("enable_cae"))
        )
        if warm is not None:
            return AccessTokenInfo(warm.token, warm.expires_on, refresh_on=warm.refresh_on)
        if hasattr(self._inner, "get_token_info"):
            return self._inner.get_token_info(*scopes, options=options)  # type: ignore[no-any-return]
        token = self._inner.get_token(*scopes, **wanted)
        return AccessTokenInfo(token.token, token.expires_on)

    def close(self) -> None:
        """The render's credential belongs to its backend, which closes it."""

    def _take(
        self, scopes: tuple[str, ...], tenant: str | None, claims: str | None, cae: bool
    ) -> WarmToken | None:
        if len(scopes) != 1 or claims or not cae:  # the server fetches what the SDK asks for
            return None
        key = (scopes[0], tenant or "")
        self._state.wanted.add(key)
        warm = self._state.tokens.get(key)
        if key in self._used or warm is None or not warm.usable(time.time()):
            return None
        self._used.add(key)
        self._state.tokens_handed_out += 1
        return warm


def fetch_token(options: AzureOptions, key: TokenKey, seconds: float) -> WarmToken:
    """A new token of ``options``' identity for ``key``, as the SDK's challenge policy would
    ask for it (CAE enabled). Network: the server runs this in a short-lived child."""
    from avp_py.backends.azurekeyvault.credentials import build_credential
    from avp_py.model import Deadline

    scope, tenant = key
    deadline = Deadline(seconds, time.monotonic() + seconds)
    credential = build_credential(options, deadline)
    request: dict[str, Any] = {"enable_cae": True, **({"tenant_id": tenant} if tenant else {})}
    try:
        info = credential.get_token_info(scope, options=request)  # type: ignore[attr-defined]
    finally:
        close = getattr(credential, "close", None)
        if close is not None:
            close()
    return WarmToken(scope, tenant, info.token, int(info.expires_on), info.refresh_on)


def tokens_due(state: WarmAzure, now: float) -> Iterator[TokenKey]:
    """The wanted tokens the server should fetch now (missing or due)."""
    for key in sorted(state.wanted):
        token = state.tokens.get(key)
        if token is None or token.due(now):
            yield key
