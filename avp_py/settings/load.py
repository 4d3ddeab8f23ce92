"""Settings: one frozen object, built in one place from every source, validated once.

Sources and precedence (AVP §2.1, with decision D5):

* avp-py's own keys (``AVP_*``): command-line flag > ``ARGOCD_ENV_AVP_*`` (only the keys in
  :data:`PER_APP_KEYS`) > process environment > config file (``-c``) or config Secret (``-s``;
  a config file replaces the Secret wholly, as in AVP) > default.
* backend keys (the prefixes the backend registry owns, :func:`avp_py.backends.key_prefixes`,
  e.g. ``AZURE_*``): config file/Secret > process environment. They are passed to the backend
  as arguments; nothing is written to ``os.environ``.

An Application controls ``ARGOCD_ENV_*``, so it may tune harmless knobs but never choose the
backend, an endpoint, a credential or a security limit: such a key is an error, unless it
merely repeats the sidecar's value; a secret setting (:data:`SECRET_KEYS`) is an error even
then, so that repeating it cannot confirm a guess.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from avp_py import backends, gocompat, yamlcodec
from avp_py.backends.cache import CacheSettings
from avp_py.budget import Budget
from avp_py.errors import ConfigError
from avp_py.model import AppContext, Deadline
from avp_py.settings import knobs
from avp_py.settings.policy import (
    ReferenceRules,
    TenantPolicy,
    compile_path_validation,
    load_policy,
)

ARGOCD_ENV = "ARGOCD_ENV_"
# Setting names the backends own outside AVP_* (their registry entries say which).
_BACKEND_KEYS = backends.key_prefixes()
PER_APP_KEYS = frozenset(
    {"AVP_KV_VERSION", "AVP_MAX_CONCURRENCY", "AVP_TIMEOUT_SECONDS", "AVP_ALLOW_EMPTY"}
)
# Secret settings: refused from ARGOCD_ENV_ whatever the value, with one message, so that an
# Application cannot confirm a guess by repeating the sidecar's value (issue 11, item 8).
# avp-py's cache key, and AVP's own credentials (an operator migrating from AVP may still set
# them). A new secret setting is marked by adding it here, or by a name ending in one of
# SECRET_SUFFIXES, which marks it without being listed.
SECRET_KEYS = frozenset(
    {
        "AVP_CACHE_KEY",
        # AVP's (pkg/types/constants.go): Vault AppRole, GitHub, IBM, Yandex Cloud credentials
        "AVP_ROLE_ID",
        "AVP_SECRET_ID",
        "AVP_GITHUB_TOKEN",
        "AVP_IBM_API_KEY",
        "AVP_YCL_KEY_ID",
        "AVP_YCL_PRIVATE_KEY",
    }
)
SECRET_SUFFIXES = ("_KEY", "_TOKEN", "_PASSWORD", "_PASSPHRASE", "_SECRET", "_SECRET_ID")


class Options(Mapping[str, str]):
    """A read-only mapping of resolved keys; its ``repr`` never shows a value (credentials)."""

    def __init__(self, values: Mapping[str, str]) -> None:
        self._values = MappingProxyType(dict(values))

    def __getitem__(self, key: str) -> str:
        return self._values[key]

    def __iter__(self):  # type: ignore[no-untyped-def]  # Mapping's own signature
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __repr__(self) -> str:
        return f"Options(keys={sorted(self._values)})"


@dataclass(frozen=True)
class Settings:
    """Everything a run needs to know. Built only by :func:`load_settings`."""

    backend: str
    options: Options = field(repr=False)
    path_validation: re.Pattern[str] | None = None
    max_concurrency: int = knobs.MAX_CONCURRENCY.default
    timeout_seconds: float = knobs.TIMEOUT.default
    allow_empty: bool = False
    max_input_bytes: int = knobs.MAX_INPUT_BYTES.default
    max_nodes: int = knobs.MAX_NODES.default
    max_depth: int = knobs.MAX_DEPTH.default
    max_output_bytes: int = knobs.MAX_OUTPUT_BYTES.default
    policy: TenantPolicy = field(default_factory=TenantPolicy)
    app: AppContext = field(default_factory=AppContext)
    cache: CacheSettings | None = None
    watch_state_dir: str = ""  # AVP_WATCH_STATE_DIR: where renders record what they served

    @property
    def limits(self) -> yamlcodec.Limits:
        """The safety limits every parsed document is checked against."""
        return yamlcodec.Limits(max_nodes=self.max_nodes, max_depth=self.max_depth)

    def budget(self, deadline: Deadline | None) -> Budget:
        """A run's budget: ``deadline`` and the settings' bounds on its work (issue 11)."""
        return Budget(deadline, max_output_bytes=self.max_output_bytes)

    @property
    def reference_rules(self) -> ReferenceRules:
        """Which references a run may use: path validation, then the tenant policy."""
        return ReferenceRules(self.path_validation, self.policy)


def load_settings(
    environ: Mapping[str, str],
    config: Mapping[str, object] | None = None,
    flags: Mapping[str, str] | None = None,
    *,
    backend_required: bool = True,
    select_identity: bool = True,
) -> Settings:
    """Resolve and validate every setting; ConfigError names the first bad key.

    ``backend_required=False`` is for runs that never build a backend (``check --list``): an
    empty ``AVP_TYPE`` is then accepted (``backend`` is ``""``) and no identity is chosen; a
    wrong ``AVP_TYPE`` is still refused. ``select_identity=False`` leaves the choice of the
    backend's identity by AppProject (``AVP_AZURE_IDENTITIES``) to the caller, which serves
    several projects (``watch``: :func:`for_project`).
    """
    values = _resolve(environ, _normalise_config(config or {}), dict(flags or {}))
    backend = values.get("AVP_TYPE", "").strip()
    if (backend or backend_required) and not backends.is_available(backend):
        raise ConfigError(backends.unknown_backend_message(backend))
    app = AppContext(
        environ.get("ARGOCD_APP_NAME", ""),
        environ.get("ARGOCD_APP_NAMESPACE", ""),
        environ.get("ARGOCD_APP_PROJECT_NAME", ""),
    )
    if backend and backend_required and select_identity:
        values = backends.entry(backend).select_options(values, app.project)
    return Settings(
        backend=backend,
        options=Options(values),
        path_validation=compile_path_validation(values.get("AVP_PATH_VALIDATION", "")),
        max_concurrency=knobs.MAX_CONCURRENCY.read(values),
        timeout_seconds=knobs.TIMEOUT.read(values),
        allow_empty=_boolean(values, "AVP_ALLOW_EMPTY"),
        max_input_bytes=knobs.MAX_INPUT_BYTES.read(values),
        max_nodes=knobs.MAX_NODES.read(values),
        max_depth=knobs.MAX_DEPTH.read(values),
        max_output_bytes=_max_output_bytes(values),
        policy=load_policy(values, app),
        app=app,
        cache=_cache(values),
        watch_state_dir=values.get("AVP_WATCH_STATE_DIR", "").strip(),
    )


def for_project(settings: Settings, project: str) -> Settings:
    """``settings`` (built with ``select_identity=False``) for a render of ``project``: the
    backend's options as that project's renders have them (ConfigError if it refuses it)."""
    options = backends.entry(settings.backend).select_options(settings.options, project)
    app = AppContext(settings.app.name, settings.app.namespace, project)
    return dataclasses.replace(settings, options=Options(options), app=app)


def _normalise_config(config: Mapping[str, object]) -> dict[str, str]:
    """Config keys are case-insensitive (viper); values must be scalars."""
    result: dict[str, str] = {}
    for key, value in config.items():
        if isinstance(value, bool):
            text = "true" if value else "false"
        elif isinstance(value, (str, int, float)):
            text = str(value)
        else:
            raise ConfigError(f"config key {key} must be a string, number or boolean")
        result[str(key).upper()] = text
    return result


def _resolve(
    environ: Mapping[str, str], config: dict[str, str], flags: dict[str, str]
) -> dict[str, str]:
    # AVP keys: environment over config; backend keys: config over environment (AVP §2.1).
    operator = {**config, **{k: v for k, v in environ.items() if k.startswith("AVP_")}}
    for key in _backend_keys(environ):
        operator.setdefault(key, environ[key])
    per_app = _per_app(environ, operator)
    _only_lowered(per_app, operator)
    return {**operator, **per_app, **flags}


# Knobs an Application may only turn down: a shared, throttled vault is everyone's.
_LOWER_ONLY = {knob.key: float(knob.default) for knob in (knobs.MAX_CONCURRENCY, knobs.TIMEOUT)}


def _only_lowered(per_app: Mapping[str, str], operator: Mapping[str, str]) -> None:
    for key, default in _LOWER_ONLY.items():
        if key not in per_app:
            continue
        try:
            wanted, ceiling = float(per_app[key]), float(operator.get(key, "") or default)
        except ValueError:
            continue  # reported with the key's own validation
        if wanted > ceiling:
            raise ConfigError(
                f"{ARGOCD_ENV}{key}: an Application may only lower {key}"
                f" (the sidecar allows {ceiling:g})"
            )


def is_secret_key(key: str) -> bool:
    """A credential-like setting (:data:`SECRET_KEYS`, or a name with a secret suffix)."""
    return key in SECRET_KEYS or (key.startswith("AVP_") and key.endswith(SECRET_SUFFIXES))


def _backend_keys(environ: Mapping[str, str]) -> set[str]:
    return {key for key in environ if key.startswith(_BACKEND_KEYS)}


def _per_app(environ: Mapping[str, str], operator: Mapping[str, str]) -> dict[str, str]:
    accepted: dict[str, str] = {}
    for name, value in environ.items():
        if not name.startswith(ARGOCD_ENV) or value == "":
            continue
        key = name[len(ARGOCD_ENV) :].upper()
        if key in PER_APP_KEYS:
            accepted[key] = value
        elif key.startswith(_BACKEND_KEYS):
            raise ConfigError(
                f"{name}: an Application may not set backend credentials or endpoints;"
                " configure them on the avp-py sidecar"
            )
        elif is_secret_key(key):
            raise ConfigError(
                f"{name}: an Application may not set {key}, a secret setting of the avp-py"
                " sidecar; remove it from the Application's plugin env"
            )
        elif key.startswith("AVP_") and operator.get(key, "").strip() != value.strip():
            raise ConfigError(
                f"{name}: an Application may not change {key}; set it on the avp-py sidecar"
                f" (per-application settings: {', '.join(sorted(PER_APP_KEYS))})"
            )
    return accepted


def _cache(values: Mapping[str, str]) -> CacheSettings | None:
    directory = values.get("AVP_CACHE_DIR", "").strip()
    if not directory:
        return None
    return CacheSettings(
        directory=directory,
        key=values.get("AVP_CACHE_KEY", ""),
        ttl_seconds=knobs.CACHE_TTL.read(values),
        max_entries=knobs.CACHE_MAX_ENTRIES.read(values),
        pinned_ttl_seconds=knobs.CACHE_PINNED_TTL.read(values),
    )


def _max_output_bytes(values: Mapping[str, str]) -> int:
    """``AVP_MAX_OUTPUT_BYTES``, by default twice the input limit in force."""
    if values.get(knobs.MAX_OUTPUT_BYTES.key, "").strip():
        return knobs.MAX_OUTPUT_BYTES.read(values)
    return 2 * knobs.MAX_INPUT_BYTES.read(values)


def _boolean(values: Mapping[str, str], key: str) -> bool:
    raw = values.get(key, "").strip()
    parsed = gocompat.parse_bool(raw) if raw else False
    if parsed is None:
        raise ConfigError(f"{key} must be true or false, not {raw!r}")
    return parsed


# For the settings of other commands built in this package (settings.watch).
parse_boolean = _boolean
