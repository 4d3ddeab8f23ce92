"""Which secret references a run may use: path validation and the operator's tenant policy.

``AVP_PATH_VALIDATION`` is AVP's regular expression, searched (not anchored) in every path.
AVP compiles it with Go's RE2, so Perl-only syntax (look-arounds, back-references) is refused
here too rather than silently meaning something else.

The tenant policy (``AVP_ALLOWED_VAULTS``, ``AVP_SECRET_NAME_PATTERN``) is the operator's
answer to "whoever can edit an Application can read every secret the sidecar can": a
reference outside it is an error before any request is made. Its placeholders ``{app}``,
``{project}`` and ``{namespace}`` come from Argo CD's own ``ARGOCD_APP_*`` variables, which
an Application cannot forge.
"""

from __future__ import annotations

import fnmatch
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass

from avp_py.errors import ConfigError
from avp_py.model import AppContext, SecretRef
from avp_py.settings import overlap

log = logging.getLogger(__name__)

# Perl constructs RE2 rejects: look-ahead/behind, back-references, named back-references.
_PERL_ONLY = re.compile(r"\(\?<?[=!]|\\[1-9]|\(\?P=|\\g<|\(\?>|[*+?}][+]")
_FIELDS = overlap.FIELDS


@dataclass(frozen=True, slots=True)
class TenantPolicy:
    """Allowed vaults (globs) and the secret-name pattern; empty means unrestricted."""

    allowed_vaults: tuple[str, ...] = ()
    secret_name_pattern: re.Pattern[str] | None = None
    pattern_source: str = ""

    def problem(self, ref: SecretRef) -> str | None:
        """Why ``ref`` violates the policy, or None."""
        if self.allowed_vaults and not any(
            fnmatch.fnmatchcase(ref.path, glob) for glob in self.allowed_vaults
        ):
            allowed = ", ".join(self.allowed_vaults)
            return f"vault {ref.path} is not in AVP_ALLOWED_VAULTS ({allowed})"
        pattern = self.secret_name_pattern
        if pattern is not None and ref.key and pattern.search(ref.key) is None:
            rule = self.pattern_source
            return f"secret name {ref.key} does not match AVP_SECRET_NAME_PATTERN {rule}"
        return None


def compile_path_validation(source: str) -> re.Pattern[str] | None:
    """AVP_PATH_VALIDATION as a compiled pattern (None when unset); RE2 syntax only."""
    if not source:
        return None
    return _compile_re2(source, "")


def _compile_re2(source: str, shown: str) -> re.Pattern[str]:
    label = shown or source
    perl = _PERL_ONLY.search(source)
    if perl:
        raise ConfigError(
            f"{label} is not a valid regular expression: error parsing regexp: "
            f"invalid or unsupported Perl syntax: `{perl.group(0)}`"
        )
    try:
        return re.compile(source)
    except re.error as exc:
        raise ConfigError(f"{label} is not a valid regular expression: {exc}") from None
    # Python's parser raises these, not re.error, for what RE2 refuses as well: a repeat count
    # past the C limit (a{99999999999}) and nesting deeper than the interpreter's stack.
    except OverflowError:
        reason = "error parsing regexp: invalid repeat count"
        raise ConfigError(f"{label} is not a valid regular expression: {reason}") from None
    except RecursionError:
        reason = "error parsing regexp: expression nests too deeply"
        raise ConfigError(f"{label} is not a valid regular expression: {reason}") from None


def load_policy(values: Mapping[str, str], app: AppContext) -> TenantPolicy:
    """Build the policy from operator settings (never from an Application)."""
    vaults = tuple(v.strip() for v in values.get("AVP_ALLOWED_VAULTS", "").split(",") if v.strip())
    source = values.get("AVP_SECRET_NAME_PATTERN", "").strip()
    if not source:
        return TenantPolicy(vaults)
    fields = {"app": app.name, "project": app.project, "namespace": app.namespace}
    expanded = _expand(source, fields)
    compiled = _compile_re2(expanded, f"AVP_SECRET_NAME_PATTERN {source}")
    collision = overlap.warning(source)
    if collision:
        log.warning("%s", collision)
    return TenantPolicy(vaults, compiled, source)


def _expand(source: str, fields: Mapping[str, str]) -> str:
    """Replace ``{app}`` etc. by the regex-escaped value; refuse an unset one (fail closed)."""
    result = source
    for name in _FIELDS:
        token = "{" + name + "}"
        if token not in result:
            continue
        if not fields[name]:
            variable = {"app": "ARGOCD_APP_NAME", "project": "ARGOCD_APP_PROJECT_NAME"}.get(
                name, "ARGOCD_APP_NAMESPACE"
            )
            raise ConfigError(f"AVP_SECRET_NAME_PATTERN uses {token} but {variable} is not set")
        result = result.replace(token, re.escape(fields[name]))
    return result


@dataclass(frozen=True, slots=True)
class ReferenceRules:
    """Path validation plus tenant policy: the planner's :class:`~avp_py.planner.ReferenceRules`."""

    path_validation: re.Pattern[str] | None
    policy: TenantPolicy

    def path_problem(self, path: str) -> str | None:
        """AVP's path-validation message, or None."""
        pattern = self.path_validation
        if pattern is not None and pattern.search(path) is None:
            return f"the path {path} is disallowed by AVP_PATH_VALIDATION restriction"
        return None

    def ref_problem(self, ref: SecretRef) -> str | None:
        """Path validation first (AVP's order), then the tenant policy."""
        return self.path_problem(ref.path) or self.policy.problem(ref)
