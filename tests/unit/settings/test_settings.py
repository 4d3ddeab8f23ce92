"""Settings: sources, precedence, per-application restrictions (D5), validation."""

from __future__ import annotations

import pytest

from avp_py import yamlcodec
from avp_py.backends.cache import CacheSettings
from avp_py.errors import ConfigError
from avp_py.settings import Options, Settings, knobs, load_settings
from avp_py.settings.load import PER_APP_KEYS, SECRET_KEYS, is_secret_key

BASE = {"AVP_TYPE": "file"}


def test_defaults() -> None:
    settings = load_settings(BASE)
    assert settings.backend == "file"
    assert (settings.max_concurrency, settings.timeout_seconds) == (16, 45.0)
    assert not settings.allow_empty
    assert settings.path_validation is None


def test_type_is_trimmed_like_avp() -> None:
    assert load_settings({"AVP_TYPE": "file\n"}).backend == "file"


@pytest.mark.parametrize("value", ["", "nope"])
def test_unknown_backend_lists_the_available_ones(value: str) -> None:
    with pytest.raises(
        ConfigError, match=f"Must provide a supported Vault Type, received {value} "
    ):
        load_settings({"AVP_TYPE": value})


def test_environment_beats_config_for_avp_keys() -> None:
    settings = load_settings({**BASE, "AVP_MAX_CONCURRENCY": "3"}, {"avp_max_concurrency": 7})
    assert settings.max_concurrency == 3


def test_config_keys_are_case_insensitive_and_typed() -> None:
    settings = load_settings(
        {}, {"avp_type": "file", "AVP_ALLOW_EMPTY": True, "avp_timeout_seconds": 5}
    )
    assert settings.allow_empty
    assert settings.timeout_seconds == 5.0


def test_config_beats_environment_for_backend_keys() -> None:
    settings = load_settings(
        {**BASE, "AZURE_CLIENT_ID": "from-env", "AZURE_TENANT_ID": "t"}, {"azure_client_id": "cfg"}
    )
    assert settings.options["AZURE_CLIENT_ID"] == "cfg"
    assert settings.options["AZURE_TENANT_ID"] == "t"


def test_flags_beat_everything() -> None:
    settings = load_settings(
        {**BASE, "AVP_ALLOW_EMPTY": "false"}, None, {"AVP_ALLOW_EMPTY": "true"}
    )
    assert settings.allow_empty


@pytest.mark.parametrize("key", sorted(PER_APP_KEYS))
def test_per_app_keys_are_accepted(key: str) -> None:
    value = {"AVP_ALLOW_EMPTY": "true"}.get(key, "7")  # 7 is below the sidecar defaults
    settings = load_settings({**BASE, f"ARGOCD_ENV_{key}": value})
    assert settings.options[key] == value


@pytest.mark.parametrize(
    "key",
    [
        "AVP_TYPE",
        "AVP_FILE_PATH",
        "AVP_PATH_VALIDATION",
        "AVP_ALLOWED_VAULTS",
        "AVP_SECRET_NAME_PATTERN",
        "AVP_MAX_INPUT_BYTES",
        "AVP_MAX_OUTPUT_BYTES",
    ],
)
def test_per_app_security_keys_are_refused(key: str) -> None:
    with pytest.raises(ConfigError, match=f"may not change {key}"):
        load_settings({**BASE, f"ARGOCD_ENV_{key}": "something-else"})


def test_per_app_may_repeat_the_sidecar_value() -> None:
    assert load_settings({**BASE, "ARGOCD_ENV_AVP_TYPE": "file"}).backend == "file"


@pytest.mark.parametrize("key", ["AZURE_CLIENT_ID", "AZURE_AUTHORITY_HOST", "VAULT_ADDR"])
def test_per_app_credentials_are_refused(key: str) -> None:
    with pytest.raises(ConfigError, match="may not set backend credentials"):
        load_settings({**BASE, f"ARGOCD_ENV_{key}": "x"})


def test_empty_per_app_values_are_ignored() -> None:
    assert load_settings({**BASE, "ARGOCD_ENV_AZURE_CLIENT_ID": ""}).backend == "file"


def test_unrelated_app_env_is_ignored() -> None:
    assert load_settings({**BASE, "ARGOCD_ENV_HELM_ARGS": "-f x"}).backend == "file"


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("AVP_MAX_CONCURRENCY", "0", "between 1 and 256"),
        ("AVP_MAX_CONCURRENCY", "many", "must be an integer"),
        ("AVP_TIMEOUT_SECONDS", "-1", "between 0.001 and 3600"),
        ("AVP_ALLOW_EMPTY", "maybe", "true or false"),
        ("AVP_PATH_VALIDATION", "(?!x)", "invalid or unsupported Perl syntax"),
        ("AVP_PATH_VALIDATION", "[", "is not a valid regular expression"),
    ],
)
def test_invalid_values(key: str, value: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_settings({**BASE, key: value})


def test_options_repr_hides_values() -> None:
    settings = load_settings({**BASE, "AZURE_CLIENT_SECRET": "s3cr3t-value"})
    assert "s3cr3t-value" not in repr(settings)
    assert "AZURE_CLIENT_SECRET" in repr(settings.options)


def test_config_values_must_be_scalars() -> None:
    with pytest.raises(ConfigError, match="must be a string"):
        load_settings(BASE, {"AVP_TYPE": ["file"]})


def test_app_context_comes_from_argocd_variables() -> None:
    settings = load_settings(
        {
            **BASE,
            "ARGOCD_APP_NAME": "web",
            "ARGOCD_APP_NAMESPACE": "ns",
            "ARGOCD_APP_PROJECT_NAME": "p",
        }
    )
    assert (settings.app.name, settings.app.namespace, settings.app.project) == ("web", "ns", "p")


def test_cache_settings_only_with_a_directory() -> None:
    assert load_settings({**BASE, "AVP_CACHE_TTL_SECONDS": "-1"}).cache is None
    with pytest.raises(ConfigError, match="between 0 and"):
        load_settings({**BASE, "AVP_CACHE_DIR": "/tmp/c", "AVP_CACHE_TTL_SECONDS": "-1"})
    cache = load_settings({**BASE, "AVP_CACHE_DIR": "/tmp/c", "AVP_CACHE_KEY": "s3cr3t" * 8}).cache
    assert cache is not None and cache.ttl_seconds == 60.0
    assert cache.pinned_ttl_seconds == 600.0  # pinned versions expire too (issue 11, item 9)
    assert "s3cr3t" not in repr(cache)
    env = {**BASE, "AVP_CACHE_DIR": "/tmp/c", "AVP_CACHE_PINNED_TTL_SECONDS": "86400"}
    assert load_settings(env).cache == CacheSettings("/tmp/c", "", 60.0, 10_000, 86_400.0)
    with pytest.raises(ConfigError, match="AVP_CACHE_PINNED_TTL_SECONDS must be between 0 and"):
        load_settings({**env, "AVP_CACHE_PINNED_TTL_SECONDS": "-1"})


@pytest.mark.parametrize(
    ("key", "sidecar", "app", "ok"),
    [
        ("AVP_MAX_CONCURRENCY", None, "17", False),
        ("AVP_MAX_CONCURRENCY", None, "16", True),
        ("AVP_MAX_CONCURRENCY", "64", "32", True),
        ("AVP_TIMEOUT_SECONDS", None, "50", False),
        ("AVP_TIMEOUT_SECONDS", "20", "25", False),
        ("AVP_TIMEOUT_SECONDS", "20", "10", True),
    ],
)
def test_per_app_limits_may_only_be_lowered(
    key: str, sidecar: str | None, app: str, ok: bool
) -> None:
    environ = {**BASE, f"ARGOCD_ENV_{key}": app, **({key: sidecar} if sidecar else {})}
    if ok:
        assert load_settings(environ).options[key] == app
    else:
        with pytest.raises(ConfigError, match=f"may only lower {key}"):
            load_settings(environ)


SIDECAR_CACHE_KEY = "the-sidecar-cache-key-of-32-characters-or-more"


@pytest.mark.parametrize("key", sorted(SECRET_KEYS) + ["AVP_SOME_NEW_TOKEN", "AVP_X_PASSWORD"])
def test_secret_settings_are_refused_per_app_whatever_the_value(key: str) -> None:
    """Issue 11, item 8: repeating the sidecar's value was accepted, a wrong guess refused, so
    an Application could confirm guesses. The answer is now the same for both."""
    sidecar = {**BASE, key: SIDECAR_CACHE_KEY}
    messages = set()
    for guess in (SIDECAR_CACHE_KEY, "a-wrong-guess", SIDECAR_CACHE_KEY.upper()):
        with pytest.raises(ConfigError) as raised:
            load_settings({**sidecar, f"ARGOCD_ENV_{key}": guess})
        messages.add(str(raised.value))
        assert guess not in str(raised.value)
    assert messages == {
        f"ARGOCD_ENV_{key}: an Application may not set {key}, a secret setting of the avp-py"
        " sidecar; remove it from the Application's plugin env"
    }
    # Not set on the sidecar at all: the same answer, so nothing is learnt about it either.
    with pytest.raises(ConfigError, match=f"may not set {key}, a secret setting"):
        load_settings({**BASE, f"ARGOCD_ENV_{key}": "x"})


def test_non_secret_sidecar_keys_may_still_be_repeated_per_app() -> None:
    # AVP users copy AVP_TYPE and the like into plugin.env; repeating them stays harmless.
    env = {**BASE, "AVP_PATH_VALIDATION": "^kv", "ARGOCD_ENV_AVP_PATH_VALIDATION": "^kv"}
    assert load_settings({**env, "ARGOCD_ENV_AVP_TYPE": "file"}).backend == "file"
    with pytest.raises(ConfigError, match="may not change AVP_PATH_VALIDATION"):
        load_settings({**env, "ARGOCD_ENV_AVP_PATH_VALIDATION": ".*"})
    assert not is_secret_key("AVP_SECRET_NAME_PATTERN")  # a policy, not a credential


def test_defaults_live_in_one_place() -> None:
    settings = load_settings({"AVP_TYPE": "file"})
    for knob, value in [
        (knobs.MAX_CONCURRENCY, settings.max_concurrency),
        (knobs.TIMEOUT, settings.timeout_seconds),
        (knobs.MAX_INPUT_BYTES, settings.max_input_bytes),
        (knobs.MAX_NODES, settings.max_nodes),
        (knobs.MAX_DEPTH, settings.max_depth),
    ]:
        assert value == knob.default, knob.key
    assert settings.limits == yamlcodec.DEFAULT_LIMITS
    assert settings.max_output_bytes == knobs.MAX_OUTPUT_BYTES.default
    assert Settings("file", Options({})).max_concurrency == knobs.MAX_CONCURRENCY.default


def test_the_output_limit_follows_the_input_limit_unless_set() -> None:
    # Issue 11 item 3: twice AVP_MAX_INPUT_BYTES by default, whatever that is set to.
    assert load_settings({**BASE, "AVP_MAX_INPUT_BYTES": "1000"}).max_output_bytes == 2000
    both = {**BASE, "AVP_MAX_INPUT_BYTES": "1000", "AVP_MAX_OUTPUT_BYTES": "1500"}
    settings = load_settings(both)
    assert settings.max_output_bytes == 1500
    assert settings.budget(None).max_output_bytes == 1500
    with pytest.raises(ConfigError, match="AVP_MAX_OUTPUT_BYTES must be an integer"):
        load_settings({**BASE, "AVP_MAX_OUTPUT_BYTES": "1e9"})
