"""Start-up check of the token file workload identity reads. No SDK import, no network.

azure-identity reads the workload identity token file only when it asks for a token, in the
middle of the first Key Vault request, and lets the ``OSError`` through: an operator mistake
(webhook not applied, wrong mount path) would surface as an internal error. The file is
checked when the backend is built instead, so the error names the setting and the fix. (A
client certificate is read when its credential is built, before any request: see
``credentials``.)
"""

from __future__ import annotations

import errno
import os
import stat

from avp_py.backends.azurekeyvault.options import AzureOptions
from avp_py.errors import ConfigError

_TOKEN_FILE_FIX = (
    "AVP_AZURE_CREDENTIAL=workload reads the service account token from"
    " AZURE_FEDERATED_TOKEN_FILE; on AKS the workload identity webhook mounts it (and sets the"
    ' variable) when the pod is labelled azure.workload.identity/use: "true" and its service'
    " account is annotated with azure.workload.identity/client-id"
)


def check_credential_files(options: AzureOptions) -> None:
    """ConfigError if a file the chosen credential will read is missing or unusable."""
    if options.credential == "workload":
        check_file("AZURE_FEDERATED_TOKEN_FILE", options.federated_token_file, _TOKEN_FILE_FIX)


def check_file(setting: str, path: str, fix: str) -> None:
    """ConfigError unless ``path`` is a readable, non-empty regular file (symlinks followed,
    as Kubernetes projected volumes use them). Never reads more than one byte."""
    problem = _problem(path)
    if problem:
        raise ConfigError(f"{setting}={path} {problem}", [fix])


def _problem(path: str) -> str:
    try:
        info = os.stat(path)
    except OSError as exc:
        return "does not exist" if exc.errno == errno.ENOENT else f"cannot be read: {_why(exc)}"
    if stat.S_ISDIR(info.st_mode):
        return "is a directory, not a file"
    if not stat.S_ISREG(info.st_mode):
        return "is not a regular file"  # a FIFO would block the run
    try:
        with open(path, "rb") as handle:
            empty = not handle.read(1)
    except OSError as exc:
        return f"cannot be read: {_why(exc)}"
    return "is empty" if empty else ""


def _why(exc: OSError) -> str:
    return exc.strerror or type(exc).__name__
