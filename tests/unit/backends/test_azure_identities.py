"""``AVP_AZURE_IDENTITIES``: parsing, first match wins, the default, errors naming the setting
or the project; and the settings that follow the chosen identity (cache namespace, refusal from
an Application)."""

from __future__ import annotations

import pytest

from avp_py import backends
from avp_py.backends.azurekeyvault.identities import Rule, choose, parse, select_options
from avp_py.errors import ConfigError
from avp_py.settings import load_settings
from avp_py.settings.load import for_project

A = "11111111-1111-1111-1111-111111111111"
B = "22222222-2222-2222-2222-222222222222"
C = "33333333-3333-3333-3333-333333333333"
MAPPING = f"team-a={A}, team-b-*={B},*={C}"


def test_parse_and_first_match_wins() -> None:
    rules = parse(MAPPING)
    assert rules == (Rule("team-a", A), Rule("team-b-*", B), Rule("*", C))
    assert choose(rules, "team-a") == A
    assert choose(rules, "team-b-payments") == B
    assert choose(rules, "team-b") == C  # team-b-* needs the dash
    assert choose(rules, "") == C
    assert choose(parse(f"*={C},team-a={A}"), "team-a") == C  # first match, not best
    assert choose(parse(f"team-a={A}"), "team-a2") is None
    assert choose(parse(f"Team-A={A}"), "team-a") is None  # case-sensitive, as project names


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        (f"team-a:{A}", "entry 1 ('team-a:"),
        (f"team-a={A},", "entry 2 ('')"),
        (f"={A}", "entry 1"),
        ("team-a=", "entry 1"),
        ("team-a=not-a-guid", "entry 1 (team-a=...): the client id must be a GUID"),
    ],
)
def test_malformed_mappings_name_the_setting(text: str, fragment: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse(text)
    assert str(caught.value).startswith("AVP_AZURE_IDENTITIES: ")
    assert fragment in str(caught.value)


def test_select_options() -> None:
    options = {"AVP_AZURE_IDENTITIES": f"team-a={A}", "AZURE_CLIENT_ID": C}
    assert select_options(options, "team-a")["AZURE_CLIENT_ID"] == A
    assert select_options({"AZURE_CLIENT_ID": C}, "team-a") == {"AZURE_CLIENT_ID": C}
    with pytest.raises(ConfigError, match="maps no identity to the AppProject 'team-z'"):
        select_options(options, "team-z")
    with pytest.raises(ConfigError, match="maps no identity to no AppProject"):
        select_options(options, "")


def _environ(project: str, **extra: str) -> dict[str, str]:
    return {
        "AVP_TYPE": "azurekeyvault",
        "AVP_AZURE_IDENTITIES": MAPPING,
        "AZURE_CLIENT_ID": "44444444-4444-4444-4444-444444444444",
        "ARGOCD_APP_PROJECT_NAME": project,
        **extra,
    }


def test_settings_carry_the_projects_identity_and_its_own_cache_namespace() -> None:
    a = load_settings(_environ("team-a"))
    b = load_settings(_environ("team-b-x"))
    assert a.options["AZURE_CLIENT_ID"] == A and b.options["AZURE_CLIENT_ID"] == B
    entry = backends.entry("azurekeyvault")
    assert entry.identity(a.options).namespace != entry.identity(b.options).namespace
    # Two projects with the same identity share it.
    also_c = [load_settings(_environ(p)).options for p in ("x", "y")]
    assert entry.identity(also_c[0]).namespace == entry.identity(also_c[1]).namespace


def test_watch_chooses_per_project() -> None:
    settings = load_settings(_environ(""), select_identity=False)
    assert settings.options["AZURE_CLIENT_ID"] == "44444444-4444-4444-4444-444444444444"
    assert for_project(settings, "team-a").options["AZURE_CLIENT_ID"] == A
    assert for_project(settings, "team-a").app.project == "team-a"


def test_refused_before_anything_when_no_identity_matches() -> None:
    environ = _environ("team-z", AVP_AZURE_IDENTITIES=f"team-a={A}")
    with pytest.raises(ConfigError, match="'team-z'"):
        load_settings(environ)
    # check --list builds no backend and so chooses no identity.
    assert load_settings(environ, backend_required=False).backend == "azurekeyvault"


def test_an_application_cannot_change_the_mapping() -> None:
    environ = _environ("team-a", ARGOCD_ENV_AVP_AZURE_IDENTITIES=f"*={A}")
    with pytest.raises(ConfigError, match="may not change AVP_AZURE_IDENTITIES"):
        load_settings(environ)


def test_the_render_servers_warm_tokens_only_for_its_own_identity() -> None:
    """The server's warm tokens are its own identity's (the mapping's default, as the server
    has no AppProject); a render whose project maps elsewhere has another identity key and
    gets none (warm.client_credential compares these keys)."""
    from avp_py.backends.azurekeyvault.options import AzureOptions
    from avp_py.backends.azurekeyvault.warm import identity_key

    environ = {"AZURE_TENANT_ID": "t", "AZURE_FEDERATED_TOKEN_FILE": "/var/run/token"}

    def key(project: str) -> str | None:
        options = load_settings({**_environ(project), **environ}).options
        return identity_key(AzureOptions.from_options(options), environ)

    server = key("")
    assert server == key("any-project-on-the-default")
    assert key("team-a") != server and key("team-b-x") != server
    assert key("team-a") != key("team-b-x")


def test_every_identity_the_mapping_can_choose() -> None:
    """What ``watch`` checks at start-up: one set of options per distinct client id."""
    entry = backends.entry("azurekeyvault")
    options = {"AVP_AZURE_IDENTITIES": f"team-a={A},team-b={B},*={A}", "AZURE_TENANT_ID": "t"}
    assert [o["AZURE_CLIENT_ID"] for o in entry.every_identity(options)] == [A, B]
    assert all(o["AZURE_TENANT_ID"] == "t" for o in entry.every_identity(options))
    assert entry.every_identity({"AZURE_CLIENT_ID": C}) == [{"AZURE_CLIENT_ID": C}]
    with pytest.raises(ConfigError, match="AVP_AZURE_IDENTITIES: entry 2"):
        entry.every_identity({"AVP_AZURE_IDENTITIES": f"team-a={A},team-b"})
    assert backends.entry("file").every_identity({"AVP_FILE_PATH": "x"}) == [{"AVP_FILE_PATH": "x"}]
