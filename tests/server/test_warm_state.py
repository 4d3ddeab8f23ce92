"""Warm Azure state through a real server: the real SDK against the Key Vault test server.

A render whose credential settings are the server's makes no token request and no challenge
round trip once the server is warm; a render with other settings fetches its own token; no
token ever appears in the server's log, its status or a render's --verbose output.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.kvserver import KeyVaultServer
from tests.server.harness import ServerProcess, base_env, eventually, generate, running_server

pytestmark = pytest.mark.keyvault

MANIFEST = (
    b"apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\n"
    b"stringData:\n  a: <path:vault1#first>\n  b: <path:vault1#second>\n"
)


def sidecar_env(kv: KeyVaultServer, **extra: str) -> dict[str, str]:
    """The sidecar's environment: the server's and, in Argo CD, every render's too."""
    return base_env(
        **kv.client_env("managed"),
        AVP_TYPE="azurekeyvault",
        AVP_AZURE_CREDENTIAL="managed",
        **extra,
    )


@pytest.fixture
def vault(kv: KeyVaultServer) -> KeyVaultServer:
    kv.set_secret("vault1", "first", "first-value-3c1d")
    kv.set_secret("vault1", "second", "second-value-8e2b")
    return kv


@pytest.fixture
def warm_server(vault: KeyVaultServer) -> Iterator[ServerProcess]:
    with running_server(sidecar_env(vault)) as server:
        first = render(server, sidecar_env(vault))  # learns the challenge; asks for a token
        assert first.returncode == 0, first.stderr
        eventually(lambda: server.status()["warm_tokens"] == 1)
        yield server


def render(server: ServerProcess, env: dict[str, str]) -> object:
    return generate(
        ["generate", "--verbose", "-"], server.client_env(env), stdin=MANIFEST, cwd=Path("/")
    )


def test_a_warm_render_makes_no_token_request_and_no_challenge(
    warm_server: ServerProcess, vault: KeyVaultServer
) -> None:
    vault.reset_counters()
    done = generate(["generate", "-"], warm_server.client_env(sidecar_env(vault)), stdin=MANIFEST)
    assert done.returncode == 0, done.stderr
    assert b"a: first-value-3c1d" in done.stdout
    assert vault.token_requests() == 0
    assert vault.counts("vault1", "challenge") == 0
    assert vault.counts("vault1", "get") == 2
    status = warm_server.status()
    assert status["token_refreshes"] == 1 and status["warm_vaults"] == 1


def test_a_render_with_other_credential_settings_fetches_its_own(
    warm_server: ServerProcess, vault: KeyVaultServer
) -> None:
    vault.reset_counters()
    other = {**sidecar_env(vault), **vault.client_env("managed", client_id="another-identity")}
    done = generate(["generate", "-"], warm_server.client_env(other), stdin=MANIFEST)
    assert done.returncode == 0, done.stderr
    assert vault.token_requests("managed") == 1
    assert {token.client_id for token in vault.tokens()} >= {"another-identity"}


def test_no_token_in_the_log_the_status_or_verbose_output(
    warm_server: ServerProcess, vault: KeyVaultServer
) -> None:
    done = generate(
        ["generate", "--verbose", "-"], warm_server.client_env(sidecar_env(vault)), stdin=MANIFEST
    )
    status = generate(["serve", "--status"], warm_server.client_env(base_env()))
    tokens = [token.token for token in vault.tokens()]
    assert len(tokens) >= 2  # the first render's own, and the server's
    for text in (warm_server.log(), done.stderr.decode(), status.stdout.decode()):
        assert not any(token in text for token in tokens)
        assert not any(part in text for token in tokens for part in token.split(".")[1:])
    assert "first-value-3c1d" not in warm_server.log()


def test_a_token_too_close_to_expiry_is_not_handed_out(vault: KeyVaultServer) -> None:
    vault.faults.token_ttl = 200  # less than the SDK's 300 s refresh margin plus a render
    with running_server(sidecar_env(vault)) as server:
        assert render_ok(server, vault)
        eventually(lambda: server.status()["token_refreshes"] == 1)
        vault.reset_counters()
        assert render_ok(server, vault, "--no-server")
        in_process = vault.token_requests()
        vault.reset_counters()
        assert render_ok(server, vault)
        # Its own tokens, as many as in-process: the warm one would expire mid-render.
        assert vault.token_requests() == in_process >= 1
        assert vault.counts("vault1", "challenge") == 0  # the challenge is still warm


def render_ok(server: ServerProcess, vault: KeyVaultServer, *flags: str) -> bool:
    env = server.client_env(sidecar_env(vault))
    done = generate(["generate", *flags, "-"], env, stdin=MANIFEST)
    return done.returncode == 0 and b"b: second-value-8e2b" in done.stdout
