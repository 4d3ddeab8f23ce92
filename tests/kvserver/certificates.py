"""Test certificates, made with cryptography at test time: root → intermediate → leaf.

The forms are the ones Key Vault serves as a certificate's secret (issue 15):

* ``pfx()``: base64 PKCS#12, content type ``application/x-pkcs12``; the leaf with its key, and
  the chain root first, as in the PFX files Key Vault makes (notation-azure-kv #136);
  optionally password-protected or without the key;
* ``pem_bundle()``: content type ``application/x-pem-file``; the private key first (PKCS#8),
  then the certificates leaf to root, as Key Vault lays it out.

Keys are EC P-256 (fast to make); ``rsa=True`` gives the leaf an RSA 2048 key, Key Vault's
default. Test tooling only: nothing here is product code.
"""

from __future__ import annotations

import base64
import datetime
import functools
from dataclasses import dataclass, field

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.types import CertificateIssuerPrivateKeyTypes
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID

PKCS12 = "application/x-pkcs12"
PEM_FILE = "application/x-pem-file"
NOT_BEFORE = datetime.datetime(2020, 1, 1, tzinfo=datetime.timezone.utc)
NOT_AFTER = datetime.datetime(2120, 1, 1, tzinfo=datetime.timezone.utc)


@dataclass(frozen=True)
class CertificateChain:
    """A leaf certificate, its intermediate and root, and their keys."""

    root: x509.Certificate
    intermediate: x509.Certificate
    leaf: x509.Certificate
    leaf_key: CertificateIssuerPrivateKeyTypes = field(repr=False)

    def pem(self, cert: x509.Certificate) -> str:
        return cert.public_bytes(serialization.Encoding.PEM).decode("ascii")

    @property
    def key_pem(self) -> str:
        """The leaf's key, unencrypted PKCS#8 PEM."""
        data = self.leaf_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        return data.decode("ascii")

    @property
    def key_body_lines(self) -> list[str]:
        """The base64 lines of the key's PEM: what must never appear outside stdout."""
        return [line for line in self.key_pem.splitlines() if "-----" not in line]

    def pfx(self, password: bytes | None = None, *, with_key: bool = True) -> str:
        """Base64 PKCS#12 of the leaf (and its key), the chain root first."""
        encryption: serialization.KeySerializationEncryption = (
            serialization.BestAvailableEncryption(password)
            if password
            else serialization.NoEncryption()
        )
        data = pkcs12.serialize_key_and_certificates(
            b"leaf",
            self.leaf_key if with_key else None,
            self.leaf,
            [self.root, self.intermediate],
            encryption,
        )
        return base64.b64encode(data).decode("ascii")

    def pem_bundle(self, *, with_root: bool = True) -> str:
        """Key Vault's PEM layout: the private key, then the certificates leaf to root."""
        chain = [self.leaf, self.intermediate, *([self.root] if with_root else [])]
        return self.key_pem + "".join(self.pem(cert) for cert in chain)


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _certificate(
    subject: str,
    key: CertificateIssuerPrivateKeyTypes,
    issuer: str,
    issuer_key: CertificateIssuerPrivateKeyTypes,
    ca: bool,
) -> x509.Certificate:
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(subject))
        .issuer_name(_name(issuer))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOT_BEFORE)
        .not_valid_after(NOT_AFTER)
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if not ca:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.DNSName(subject)]), critical=False
        )
    return builder.sign(issuer_key, hashes.SHA256())


def make_chain(leaf_name: str = "app.example.test", *, rsa_leaf: bool = False) -> CertificateChain:
    """A fresh root → intermediate → leaf chain."""
    root_key = ec.generate_private_key(ec.SECP256R1())
    intermediate_key = ec.generate_private_key(ec.SECP256R1())
    leaf_key: CertificateIssuerPrivateKeyTypes = (
        rsa.generate_private_key(65537, 2048)
        if rsa_leaf
        else ec.generate_private_key(ec.SECP256R1())
    )
    root = _certificate("Test Root CA", root_key, "Test Root CA", root_key, True)
    intermediate = _certificate(
        "Test Intermediate CA", intermediate_key, "Test Root CA", root_key, True
    )
    leaf = _certificate(leaf_name, leaf_key, "Test Intermediate CA", intermediate_key, False)
    return CertificateChain(root, intermediate, leaf, leaf_key)


@functools.lru_cache(maxsize=4)
def shared_chain(leaf_name: str = "app.example.test", rsa_leaf: bool = False) -> CertificateChain:
    """One chain per name for the whole test session (key generation is the slow part)."""
    return make_chain(leaf_name, rsa_leaf=rsa_leaf)
