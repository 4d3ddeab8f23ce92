"""The certificate modifiers (issue 15): Key Vault certificate secrets (PFX or PEM) into PEM.

Certificates are made at test time (tests/kvserver/certificates.py): root → intermediate →
leaf, in the layouts Key Vault serves.
"""

from __future__ import annotations

import base64
import traceback

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs12

from avp_py.errors import ModifierError
from avp_py.modifiers import apply, check_call
from tests.kvserver.certificates import PEM_FILE, PKCS12, CertificateChain, make_chain, shared_chain


@pytest.fixture(scope="module")
def chain() -> CertificateChain:
    return shared_chain()


def _forms(chain: CertificateChain) -> list[tuple[str, str]]:
    return [(PKCS12, chain.pfx()), (PEM_FILE, chain.pem_bundle())]


@pytest.mark.parametrize("form", [0, 1], ids=["pkcs12", "pem"])
def test_leaf_and_intermediates_key_and_chain(chain: CertificateChain, form: int) -> None:
    content_type, value = _forms(chain)[form]
    leaf, intermediate, root = (chain.pem(c) for c in (chain.leaf, chain.intermediate, chain.root))
    assert apply("certificate", (), value, content_type) == leaf + intermediate
    assert apply("caChain", (), value, content_type) == intermediate + root
    assert apply("privateKey", (), value, content_type) == chain.key_pem


def test_the_private_key_is_unencrypted_pkcs8_of_the_leaf(chain: CertificateChain) -> None:
    text = apply("privateKey", (), chain.pfx(), PKCS12)
    assert isinstance(text, str) and text.startswith("-----BEGIN PRIVATE KEY-----\n")
    key = serialization.load_pem_private_key(text.encode(), None)
    spki = serialization.PublicFormat.SubjectPublicKeyInfo
    der = serialization.Encoding.DER
    assert key.public_key().public_bytes(der, spki) == chain.leaf.public_key().public_bytes(
        der, spki
    )


def test_an_rsa_leaf_works_too() -> None:
    chain = shared_chain("rsa.example.test", rsa_leaf=True)
    assert apply("privateKey", (), chain.pem_bundle(), PEM_FILE) == chain.key_pem
    assert apply("certificate", (), chain.pfx(), PKCS12).startswith(chain.pem(chain.leaf))


def test_the_chain_is_rebuilt_whatever_the_order(chain: CertificateChain) -> None:
    """Imported bundles keep their upload order: root first, key last, duplicates."""
    shuffled = (
        chain.pem(chain.root)
        + chain.pem(chain.leaf)
        + chain.pem(chain.root)
        + chain.pem(chain.intermediate)
        + chain.key_pem
    )
    expected = chain.pem(chain.leaf) + chain.pem(chain.intermediate)
    assert apply("certificate", (), shuffled, PEM_FILE) == expected


def test_without_the_root_the_chain_ends_at_the_intermediate(chain: CertificateChain) -> None:
    value = chain.pem_bundle(with_root=False)
    assert apply("caChain", (), value, PEM_FILE) == chain.pem(chain.intermediate)
    expected = chain.pem(chain.leaf) + chain.pem(chain.intermediate)
    assert apply("certificate", (), value, PEM_FILE) == expected


def test_unrelated_certificates_are_left_out(chain: CertificateChain) -> None:
    other = make_chain("other.example.test")
    value = chain.pem_bundle() + other.pem(other.intermediate)
    assert apply("caChain", (), value, PEM_FILE) == chain.pem(chain.intermediate) + chain.pem(
        chain.root
    )


def test_a_self_signed_certificate_is_its_own_leaf(chain: CertificateChain) -> None:
    value = chain.pem(chain.root)
    assert apply("certificate", (), value, PEM_FILE) == value
    with pytest.raises(ModifierError, match="caChain: .*holds no CA certificate"):
        apply("caChain", (), value, PEM_FILE)


def test_a_pfx_without_its_key(chain: CertificateChain) -> None:
    value = chain.pfx(with_key=False)
    expected = chain.pem(chain.leaf) + chain.pem(chain.intermediate)
    assert apply("certificate", (), value, PKCS12) == expected
    with pytest.raises(ModifierError, match="privateKey: .*holds no private key"):
        apply("privateKey", (), value, PKCS12)


def test_traditional_openssl_keys_are_read(chain: CertificateChain) -> None:
    rsa_chain = shared_chain("rsa.example.test", rsa_leaf=True)
    traditional = rsa_chain.leaf_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    ).decode()
    assert "BEGIN RSA PRIVATE KEY" in traditional
    value = traditional + rsa_chain.pem(rsa_chain.leaf)
    assert apply("privateKey", (), value, PEM_FILE) == rsa_chain.key_pem


@pytest.mark.parametrize(
    "content_type", ["APPLICATION/X-PKCS12", " application/x-pkcs12 ", "application/x-pkcs12; x=1"]
)
def test_content_types_are_matched_loosely(chain: CertificateChain, content_type: str) -> None:
    assert apply("certificate", (), chain.pfx(), content_type)


def _encrypted_key(chain: CertificateChain) -> str:
    return chain.leaf_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"pw"),
    ).decode()


def _damaged(chain: CertificateChain, part: bytes, replacement: bytes) -> x509.Certificate:
    """The leaf with ``part`` of its DER replaced: cryptography loads it, as it parses names
    and keys only when they are read."""
    der = chain.leaf.public_bytes(serialization.Encoding.DER)
    assert der.count(part) >= 1
    return x509.load_der_x509_certificate(der.replace(part, replacement, 1))


def _damaged_pem(chain: CertificateChain, part: bytes, replacement: bytes) -> str:
    if part == _VERSION_3:  # cryptography refuses to load this one: write the PEM by hand
        der = chain.leaf.public_bytes(serialization.Encoding.DER).replace(part, replacement, 1)
        body = base64.encodebytes(der).decode()
        return f"-----BEGIN CERTIFICATE-----\n{body}-----END CERTIFICATE-----\n"
    return chain.pem(_damaged(chain, part, replacement))


def _damaged_pfx(chain: CertificateChain) -> str:
    cert = _damaged(chain, *_BAD_ISSUER)
    none = serialization.NoEncryption()
    data = pkcs12.serialize_key_and_certificates(b"leaf", chain.leaf_key, cert, None, none)
    return base64.b64encode(data).decode()


_VERSION_3 = b"\xa0\x03\x02\x01\x02"  # [0] EXPLICIT INTEGER 2 (v3)
_BAD_VERSION = (_VERSION_3, b"\xa0\x03\x02\x01\x6c")  # version 108
_BAD_ISSUER = (b"\x06\x03\x55\x04\x03\x0c", b"\x06\x03\x55\x04\x03\x30")  # CN: a SEQUENCE
_BAD_CURVE = (b"\x2a\x86\x48\xce\x3d\x03\x01\x07", b"\x2a\x86\x48\xce\x3d\x03\x01\x58")


def _failures(chain: CertificateChain) -> list[tuple[str, str, str | None, str]]:
    other = make_chain("other.example.test")
    leaf = chain.pem(chain.leaf)
    return [
        ("certificate", chain.pfx(b"pw"), PKCS12, "cannot be opened without a password"),
        ("privateKey", chain.pfx(b"pw"), PKCS12, "cannot be opened without a password"),
        ("certificate", "not base64!", PKCS12, "is not base64"),
        ("certificate", base64.b64encode(b"garbage").decode(), PKCS12, "not a PKCS#12"),
        ("certificate", chain.pfx(), "text/plain", "content type is 'text/plain', not"),
        ("certificate", chain.pfx(), None, "has no content type"),
        ("certificate", chain.pfx(), "", "has no content type"),
        ("certificate", chain.pem_bundle(), PKCS12, "not base64"),
        ("certificate", chain.pfx(), PEM_FILE, "not a PEM bundle"),
        ("certificate", "hello", PEM_FILE, "not a PEM bundle"),
        ("certificate", chain.key_pem, PEM_FILE, "holds no certificate"),
        ("privateKey", _encrypted_key(chain) + leaf, PEM_FILE, "without a password"),
        ("certificate", other.key_pem + leaf, PEM_FILE, "matches none of the certificates"),
        ("privateKey", chain.key_pem + chain.key_pem + leaf, PEM_FILE, "2 private keys"),
        ("certificate", leaf[:-26], PEM_FILE, "without its END line"),
        ("certificate", leaf.replace("MI", "!!", 1), PEM_FILE, "cannot be read"),
        ("certificate", "-----BEGIN S3CRET-----\nx\n-----END S3CRET-----\n", PEM_FILE, "not a key"),
        ("certificate", leaf + chain.pem(chain.root), PEM_FILE, "2 unrelated certificates"),
        # Damaged certificates: once internal errors (InvalidVersion, ValueError and
        # UnsupportedAlgorithm from cryptography's lazy parsing).
        ("certificate", _damaged_pem(chain, *_BAD_VERSION), PEM_FILE, "cannot be read"),
        ("caChain", _damaged_pem(chain, *_BAD_ISSUER), PEM_FILE, "PEM bundle cannot be read"),
        ("privateKey", _damaged_pfx(chain), PKCS12, "(PFX) file cannot be read"),
        (
            "privateKey",
            chain.key_pem + _damaged_pem(chain, *_BAD_CURVE),
            PEM_FILE,
            "matches none of the certificates",
        ),
    ]


def test_failures_are_clear_and_never_quote_the_value(chain: CertificateChain) -> None:
    forbidden = [line[i : i + 10] for line in chain.key_body_lines for i in range(0, 54, 9)]
    for name, value, content_type, says in _failures(chain):
        with pytest.raises(ModifierError) as caught:
            apply(name, (), value, content_type)
        message = str(caught.value)
        assert message.startswith(f"{name}: ") and says in message, (says, message)
        shown = "".join(traceback.format_exception(caught.value))  # causes and contexts too
        assert not [piece for piece in forbidden if piece in shown]
        assert "S3CRET" not in shown


def test_a_value_that_is_not_a_string(chain: CertificateChain) -> None:
    with pytest.raises(ModifierError, match="certificate: invalid datatype map"):
        apply("certificate", (), {"a": 1}, PKCS12)


@pytest.mark.parametrize("name", ["certificate", "privateKey", "caChain"])
def test_plan_time_checks(name: str) -> None:
    assert check_call(name, ()) is None
    assert check_call(name, ("x",)) == f"{name}: invalid parameters"
    assert check_call(name, (), first=False) == (
        f"{name}: must be the first modifier (it reads the certificate secret as Key Vault"
        " serves it)"
    )
    assert check_call("base64encode", (), first=False) is None
