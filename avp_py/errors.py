"""The one error tree of avp-py, and the exit code each branch maps to.

Only :mod:`avp_py.cli` turns these into exit codes and stderr lines; every other module
raises. No message may contain a secret value: messages name references (vault, secret,
version), files, documents and fields, never what a backend returned.

    AvpError                         (base, never raised bare)
    ├── ConfigError                  exit 2  bad setting, unknown backend, bad flag
    ├── InputError                   exit 3  unreadable or invalid manifests
    │   ├── ManifestParseError               invalid YAML/JSON, limits exceeded
    │   └── PlaceholderError                 placeholder, modifier or annotation problems
    ├── ResolutionError              exit 4  placeholders that could not be filled
    │   ├── SecretNotFoundError              one reference has no (enabled) value
    │   ├── ModifierError                    a modifier failed on a real value
    │   └── UnresolvedPlaceholdersError      aggregate of every failure of the run
    ├── BackendError                 exit 5  the backend failed as a whole
    │   ├── BackendAuthError                 credential missing/invalid, 401/403
    │   └── BackendUnavailableError          network, throttling, deadline of the fetches
    └── DeadlineError                exit 5  AVP_TIMEOUT_SECONDS passed in any other stage
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import IntEnum

from avp_py.model import MissingReason, SecretRef

# Where "internal error ... please report it" sends people; equals [project.urls] Issues in
# pyproject.toml (tests/unit/test_errors.py checks it). A constant, so that printing it costs
# no importlib.metadata lookup.
ISSUES_URL = "https://github.com/your-org/avp-py/issues"


class ExitCode(IntEnum):
    """Process exit codes; documented in the README and ``avp-py generate --help``."""

    OK = 0
    INTERNAL = 1
    CONFIG = 2
    INPUT = 3
    UNRESOLVED = 4
    BACKEND = 5
    # ``check`` only: the check ran and found at least one error. Not 1, which is an internal
    # error (a bug), nor any code ``generate`` uses: a CI job tells "the change is wrong" (6)
    # from "the check could not run" (1, 2, 3, 5) by the code alone.
    FINDINGS = 6
    INTERRUPTED = 130


class AvpError(Exception):
    """Base of every error avp-py raises on purpose."""

    exit_code: ExitCode = ExitCode.INTERNAL

    def __init__(self, message: str, details: Sequence[str] = ()) -> None:
        super().__init__(message)
        self._details = tuple(details)

    def details(self) -> Sequence[str]:
        """Extra lines printed under the ``Error:`` line (one per failure)."""
        return self._details


class ConfigError(AvpError):
    """A setting, flag, config source or backend choice is invalid."""

    exit_code = ExitCode.CONFIG


class InputError(AvpError):
    """The manifests cannot be read or are invalid."""

    exit_code = ExitCode.INPUT


class ManifestParseError(InputError):
    """A file or document is not valid YAML/JSON, or exceeds a safety limit."""


class PlaceholderError(InputError):
    """A placeholder, modifier or ``avp.kubernetes.io`` annotation is malformed."""


class ResolutionError(AvpError):
    """One or more placeholders could not be filled."""

    exit_code = ExitCode.UNRESOLVED


class UnresolvedPlaceholdersError(ResolutionError):
    """Every placeholder failure of the run, reported at once."""

    def __init__(self, failures: Sequence[str]) -> None:
        count = len(failures)
        noun = "placeholder" if count == 1 else "placeholders"
        # Sorted, so that the report is the same whatever order the fetches finished in.
        super().__init__(f"could not replace {count} {noun}", sorted(failures))


class BackendError(AvpError):
    """The secrets backend failed in a way that affects the whole run."""

    exit_code = ExitCode.BACKEND


class BackendAuthError(BackendError):
    """The backend rejected or could not obtain credentials."""


class BackendUnavailableError(BackendError):
    """The backend could not be reached in time (network, throttling, deadline)."""


class DeadlineError(AvpError):
    """The run's deadline (``AVP_TIMEOUT_SECONDS``) passed while reading, parsing, planning,
    substituting or writing; the exit code is the deadline's (5), as when fetching."""

    exit_code = ExitCode.BACKEND


class SecretNotFoundError(ResolutionError):
    """A backend has no (enabled) value for one reference; raised by backends.

    The resolver records it per reference, so that ``remove-missing`` and the aggregated
    report work; it never aborts the run by itself.
    """

    def __init__(self, ref: SecretRef, reason: MissingReason = MissingReason.NOT_FOUND) -> None:
        self.ref = ref
        self.reason = reason
        super().__init__(f"{ref.describe()}: {reason.text(ref)}")

    @property
    def reference(self) -> str:
        """The reference as messages name it: ``path#key`` or ``path#key#version``."""
        return self.ref.describe()


class ModifierError(ResolutionError):
    """A modifier cannot be applied; the message is AVP's text and never contains the value."""


def unexpected(exc: BaseException) -> str:
    """An exception avp-py did not raise on purpose, by type and place only (``TypeError at
    FILE:LINE``): its message may quote a value."""
    frame = exc.__traceback__
    while frame is not None and frame.tb_next is not None:
        frame = frame.tb_next
    where = f" at {frame.tb_frame.f_code.co_filename}:{frame.tb_lineno}" if frame else ""
    return f"{type(exc).__name__}{where}"
