"""The Azure SDK's entry point: fetching one secret, and what the backend builds it with.

Imported only when the first secret is fetched, so that a run with nothing to fetch (or a run
served wholly from the cache) never pays for importing azure-identity and azure-core. The
modules below import the SDK too, and are imported only through this one, so the same holds
for them:

* ``pipeline``: the deadline-bound transport and retry policy, and ``build_client``;
* ``credentials``: ``build_credential``, one builder per ``AVP_AZURE_CREDENTIAL`` mode;
* ``failures``: ``translate``, Azure exceptions into the avp-py error tree;
* ``causes``: the exception-chain walk that ``pipeline`` and ``failures`` share;
* ``warm``: ``client_credential``, the warm tokens and challenges of a render server's child.
"""

from __future__ import annotations

import time

from azure.core.exceptions import AzureError
from azure.keyvault.secrets import SecretClient

from avp_py.backends.azurekeyvault.credentials import build_credential
from avp_py.backends.azurekeyvault.failures import translate
from avp_py.backends.azurekeyvault.options import AzureOptions
from avp_py.backends.azurekeyvault.pipeline import (
    DEADLINE_GRACE,
    ChallengeMismatch,
    DeadlineExceeded,
    build_client,
)
from avp_py.backends.azurekeyvault.warm import client_credential
from avp_py.errors import BackendUnavailableError, SecretNotFoundError
from avp_py.model import Deadline, MissingReason, SecretRef, SecretValue

__all__ = [
    "DEADLINE_GRACE",
    "FAILURES",
    "DeadlineExceeded",
    "build_client",
    "build_credential",
    "client_credential",
    "get_secret",
    "translate",
]

# What a call into the SDK raises that ``translate`` maps: azure-core's errors, the pipeline's
# refusals (deliberately not AzureErrors), the OSError of a credential reading a file, and the
# RecursionError of azure-core's json.loads on an answer nested too deeply ("[" * 100_000).
FAILURES = (AzureError, DeadlineExceeded, ChallengeMismatch, OSError, RecursionError)


def get_secret(
    client: SecretClient, ref: SecretRef, deadline: Deadline, options: AzureOptions
) -> SecretValue:
    """GET one secret (latest or a version); Azure errors become avp-py errors."""
    left = deadline.expires_at - time.monotonic() + DEADLINE_GRACE
    if left <= 0:
        raise BackendUnavailableError(
            f"the deadline (AVP_TIMEOUT_SECONDS) ran out before {ref.describe()} was fetched"
        )
    try:
        secret = client.get_secret(ref.key, ref.version or None, timeout=left)
    except FAILURES as exc:
        translate(exc, ref, options)
    if secret.value is None:
        raise SecretNotFoundError(ref, MissingReason.NO_VALUE)
    properties = secret.properties
    return SecretValue(secret.value, properties.version, properties.content_type)
