"""Path validation (AVP_PATH_VALIDATION) and the tenant policy."""

from __future__ import annotations

import pytest

from avp_py.errors import ConfigError
from avp_py.model import AppContext, SecretRef
from avp_py.settings.policy import (
    ReferenceRules,
    TenantPolicy,
    compile_path_validation,
    load_policy,
)

APP = AppContext(name="vouch.proxy", namespace="auth", project="platform")


def test_path_validation_is_an_unanchored_search() -> None:
    rules = ReferenceRules(compile_path_validation("[a-z]+/web"), TenantPolicy())
    assert rules.path_problem("team/web") is None
    assert rules.path_problem("x-team/web-2") is None
    assert rules.path_problem("TEAM/WEB") == (
        "the path TEAM/WEB is disallowed by AVP_PATH_VALIDATION restriction"
    )


@pytest.mark.parametrize("pattern", ["(?=a)", "(?!a)", "(?<=a)b", "(?<!a)b", r"(a)\1", "(?P=n)"])
def test_perl_only_syntax_is_refused_like_re2(pattern: str) -> None:
    with pytest.raises(ConfigError, match="invalid or unsupported Perl syntax"):
        compile_path_validation(pattern)


@pytest.mark.parametrize(
    ("pattern", "reason"),
    [
        ("a{99999999999}", "invalid repeat count"),
        ("(" * 5000 + ")" * 5000, "expression nests too deeply"),
    ],
    ids=["repeat-count-overflow", "deep-nesting"],
)
def test_what_python_s_parser_cannot_take_is_a_config_error(pattern: str, reason: str) -> None:
    # Once OverflowError and RecursionError: an internal error for an operator's setting.
    with pytest.raises(ConfigError, match=f"is not a valid regular expression: .*{reason}"):
        compile_path_validation(pattern)
    with pytest.raises(ConfigError, match=f"AVP_SECRET_NAME_PATTERN .*{reason}"):
        load_policy({"AVP_SECRET_NAME_PATTERN": "^{app}-" + pattern}, APP)


def test_allowed_vaults_are_globs() -> None:
    policy = load_policy({"AVP_ALLOWED_VAULTS": "kv-platform-*, kv-shared"}, APP)
    assert policy.problem(SecretRef("kv-platform-prod", "x")) is None
    assert policy.problem(SecretRef("kv-shared", "x")) is None
    assert policy.problem(SecretRef("kv-other", "x")) == (
        "vault kv-other is not in AVP_ALLOWED_VAULTS (kv-platform-*, kv-shared)"
    )


def test_name_pattern_expands_escaped_app_fields() -> None:
    policy = load_policy({"AVP_SECRET_NAME_PATTERN": "^{app}-"}, APP)
    assert policy.problem(SecretRef("kv", "vouch.proxy-cookie")) is None
    # The '.' of the app name is escaped, so it does not match any character.
    assert policy.problem(SecretRef("kv", "vouchXproxy-cookie")) is not None
    assert "does not match AVP_SECRET_NAME_PATTERN ^{app}-" in str(
        policy.problem(SecretRef("kv", "other-cookie"))
    )


def test_name_pattern_with_project_and_namespace() -> None:
    policy = load_policy({"AVP_SECRET_NAME_PATTERN": "^({project}|{namespace})-"}, APP)
    assert policy.problem(SecretRef("kv", "platform-a")) is None
    assert policy.problem(SecretRef("kv", "auth-b")) is None
    assert policy.problem(SecretRef("kv", "web-c")) is not None


def test_name_pattern_needs_the_variable() -> None:
    with pytest.raises(ConfigError, match="uses {app} but ARGOCD_APP_NAME is not set"):
        load_policy({"AVP_SECRET_NAME_PATTERN": "^{app}-"}, AppContext())


def test_rules_check_path_then_policy() -> None:
    rules = ReferenceRules(
        compile_path_validation("^kv-"), load_policy({"AVP_ALLOWED_VAULTS": "kv-a"}, APP)
    )
    assert "AVP_PATH_VALIDATION" in str(rules.ref_problem(SecretRef("other", "x")))
    assert "AVP_ALLOWED_VAULTS" in str(rules.ref_problem(SecretRef("kv-b", "x")))
    assert rules.ref_problem(SecretRef("kv-a", "x")) is None


# ---------------------------------------------------------------- issue 11, item 7


def _allowed(pattern: str, app: str, name: str) -> bool:
    policy = load_policy({"AVP_SECRET_NAME_PATTERN": pattern}, AppContext(name=app))
    return policy.problem(SecretRef("kv", name)) is None


def test_the_prefix_pattern_collides_and_the_one_word_suffix_does_not() -> None:
    # ^{app}-: app vouch may read vouch-proxy-key, which app vouch-proxy owns.
    assert _allowed("^{app}-", "vouch", "vouch-proxy-key")
    safe = "^{app}-[A-Za-z0-9]+$"
    assert _allowed(safe, "vouch-proxy", "vouch-proxy-key")
    assert _allowed(safe, "vouch-proxy", "vouch-proxy-oauthClientSecret")
    assert not _allowed(safe, "vouch", "vouch-proxy-key")
    assert _allowed(safe, "vouch", "vouch-key")
    # Each name has one owner: the name without its last -word.
    owners = {"vouch", "vouch-proxy", "vouch-proxy-key"}
    for name in ("vouch-proxy", "vouch-proxy-key", "vouch-proxy-key-2"):
        assert [app for app in owners if _allowed(safe, app, name)] == [name.rsplit("-", 1)[0]]


@pytest.mark.parametrize(
    ("pattern", "warned"),
    [
        ("^{app}-", True),
        ("{app}-[A-Za-z0-9]+$", True),  # no start anchor: x-vouch-key
        ("^{app}-.*$", True),
        ("^{app}", True),
        ("^{namespace}-[A-Za-z0-9-]+$", True),
        ("^{project}-{app}-[A-Za-z0-9]+$", True),  # p + a-x and p-a + x
        ("^{app}-[A-Za-z0-9]+$", False),
        ("^{namespace}-[A-Za-z0-9]+$", False),
        ("^{app}$", False),
        ("^shared-[a-z]+$", False),  # no placeholder: nothing to collide
    ],
)
def test_a_pattern_that_can_collide_is_a_warning_not_a_refusal(
    pattern: str, warned: bool, caplog: pytest.LogCaptureFixture
) -> None:
    app = AppContext(name="web", namespace="team", project="platform")
    policy = load_policy({"AVP_SECRET_NAME_PATTERN": pattern}, app)
    assert policy.secret_name_pattern is not None  # never refused
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert bool(warnings) is warned, warnings
    if warned:
        assert warnings[0].startswith(f"AVP_SECRET_NAME_PATTERN {pattern} lets one Application")
        assert "e.g. ^{app}-[A-Za-z0-9]+$" in warnings[0]
