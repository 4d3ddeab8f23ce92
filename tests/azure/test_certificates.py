"""Key Vault certificates as ``kubernetes.io/tls`` Secrets (issue 15), end to end: the console
script, the real SDK over HTTPS, the test server serving certificate secrets with Key Vault's
content types; certificates made at test time.
"""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
import yaml

from tests.kvserver import KeyVaultServer
from tests.kvserver.certificates import PEM_FILE, PKCS12, CertificateChain, shared_chain

from .conftest import Runner, secret_free

pytestmark = pytest.mark.keyvault

VAULT = "kv-certs"

TLS_SECRET = """\
apiVersion: v1
kind: Secret
metadata:
  name: ingress-tls
type: kubernetes.io/tls
data:
  tls.crt: <path:kv-certs#{name} | certificate | base64encode>
  tls.key: <path:kv-certs#{name} | privateKey | base64encode>
  ca.crt: <path:kv-certs#{name} | caChain | base64encode>
---
apiVersion: v1
kind: Secret
metadata:
  name: ingress-tls-text
type: kubernetes.io/tls
stringData:
  tls.crt: <path:kv-certs#{name} | certificate>
  tls.key: <path:kv-certs#{name} | privateKey>
"""


@pytest.fixture
def chain() -> CertificateChain:
    return shared_chain("ingress.example.test", rsa_leaf=True)


def _forbidden(chain: CertificateChain, kv: KeyVaultServer) -> list[str]:
    pieces = [line[i : i + 16] for line in chain.key_body_lines for i in range(0, 48, 16)]
    return [*pieces, chain.pfx()[100:140], chain.pfx(b"pw")[100:140]]


@pytest.mark.parametrize("form", [PKCS12, PEM_FILE])
def test_a_certificate_secret_becomes_a_tls_secret(
    kv: KeyVaultServer, avp: Runner, chain: CertificateChain, form: str, tmp_path: Path
) -> None:
    value = chain.pfx() if form == PKCS12 else chain.pem_bundle()
    kv.import_certificate(VAULT, "ingress", value, form)
    env = {"AVP_CACHE_DIR": str(tmp_path / "cache"), "AVP_CACHE_KEY": "k" * 40}
    outputs = []
    for _ in range(2):  # the second run is served by the cache: the content type is kept
        run = avp(TLS_SECRET.format(name="ingress"), env=env)
        assert run.code == 0, run.stderr
        outputs.append(run.stdout)
    assert outputs[0] == outputs[1]
    assert kv.counts(VAULT, "get") == 1
    encoded, text = [doc for doc in yaml.safe_load_all(outputs[0]) if doc is not None]
    leaf, intermediate, root = (chain.pem(c) for c in (chain.leaf, chain.intermediate, chain.root))
    data = {key: base64.b64decode(item).decode() for key, item in encoded["data"].items()}
    assert data == {
        "tls.crt": leaf + intermediate,
        "tls.key": chain.key_pem,
        "ca.crt": intermediate + root,
    }
    assert text["stringData"] == {"tls.crt": leaf + intermediate, "tls.key": chain.key_pem}


FAILURES = """\
apiVersion: v1
kind: Secret
metadata:
  name: broken
type: kubernetes.io/tls
stringData:
  wrong-type: <path:kv-certs#plain | certificate>
  password: <path:kv-certs#with-password | privateKey>
  no-key: <path:kv-certs#without-key | privateKey>
  garbage: <path:kv-certs#garbage | certificate>
"""


def test_bad_certificate_secrets_fail_closed_naming_the_placeholder(
    kv: KeyVaultServer, avp: Runner, chain: CertificateChain
) -> None:
    kv.set_secret(VAULT, "plain", chain.pem_bundle())  # no content type: not a certificate
    kv.import_certificate(VAULT, "with-password", chain.pfx(b"pw"), PKCS12)
    kv.import_certificate(VAULT, "without-key", chain.pfx(with_key=False), PKCS12)
    kv.import_certificate(VAULT, "garbage", base64.b64encode(b"\x30\x03junk").decode(), PKCS12)
    run = avp(FAILURES)
    assert run.code == 4, run.stderr
    assert run.stdout == ""
    lines = run.error_lines
    expected = {
        "path:kv-certs#plain": "certificate: the secret has no content type",
        "path:kv-certs#with-password": "privateKey: the PKCS#12 (PFX) file cannot be opened"
        " without a password",
        "path:kv-certs#without-key": "privateKey: the certificate secret holds no private key",
        "path:kv-certs#garbage": "certificate: the value is not a PKCS#12 (PFX) file",
    }
    for placeholder, says in expected.items():
        assert any(
            says in line and line.endswith(f"for placeholder {placeholder}") for line in lines
        ), (placeholder, lines)
    assert secret_free(run.stderr, kv, *_forbidden(chain, kv)), run.stderr


def test_a_certificate_modifier_after_another_is_refused_before_any_request(
    kv: KeyVaultServer, avp: Runner, chain: CertificateChain
) -> None:
    kv.import_certificate(VAULT, "ingress", chain.pfx(), PKCS12)
    manifest = TLS_SECRET.format(name="ingress").replace(
        "| certificate | base64encode", "| base64decode | certificate"
    )
    run = avp(manifest)
    assert run.code != 0 and run.stdout == ""
    assert "certificate: must be the first modifier" in run.stderr
    assert "for placeholder path:kv-certs#ingress" in run.stderr
    assert kv.counts(VAULT, "get") == 0 and kv.counts(VAULT, "challenge") == 0
