"""The environment variables a test must not pass on from the machine it runs on.

They would choose avp-py's backend or settings, the Azure identity, a proxy or a CA bundle, and
so change what a test measures. Test code and the benchmark build child environments and
monkeypatch the process environment with these, in one place.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping

PREFIXES = ("AVP_", "ARGOCD_", "PARAM_", "AZURE_", "IDENTITY_", "MSI_", "IMDS_", "KUBERNETES_")
NAMES = frozenset(
    {
        "HTTPS_PROXY",
        "HTTP_PROXY",
        "ALL_PROXY",
        "NO_PROXY",
        "REQUESTS_CA_BUNDLE",
        "CURL_CA_BUNDLE",
        "SSL_CERT_FILE",
        "SSL_CERT_DIR",
    }
)


def is_inherited_setting(name: str, extra_prefixes: Iterable[str] = ()) -> bool:
    """True for a variable a test must not inherit (any letter case)."""
    upper = name.upper()
    return upper in NAMES or upper.startswith((*PREFIXES, *extra_prefixes))


# A child's `avp-py generate` renders in its own process, even if an `avp-py serve` of this uid
# listens at the default socket: tests that want a server start their own (tests/server).
NO_SERVER = {"AVP_SERVER_SOCKET": ""}


def clean_environment(
    environ: Mapping[str, str] | None = None, extra_prefixes: Iterable[str] = ()
) -> dict[str, str]:
    """``environ`` (default: this process's) without the variables a test must not inherit,
    and with the render server turned off (:data:`NO_SERVER`)."""
    source = os.environ if environ is None else environ
    extra = tuple(extra_prefixes)
    return {**{k: v for k, v in source.items() if not is_inherited_setting(k, extra)}, **NO_SERVER}
