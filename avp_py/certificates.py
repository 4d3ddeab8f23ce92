"""Key Vault certificates as PEM, for the ``certificate``, ``privateKey`` and ``caChain``
modifiers (issue 15). Pure.

A Key Vault certificate can be read as the secret of the same name. Its value is, by the
secret's content type, a base64 PKCS#12 (PFX) file (``application/x-pkcs12``) or a PEM bundle
(``application/x-pem-file``: the private key first, then the certificates). Neither order of
certificates can be trusted: Key Vault keeps an imported chain in upload order, and lists the
chain of its own PFX files root first (secrets-store-csi-driver-provider-azure #156,
notation-azure-kv #136). So the chain is rebuilt from the certificates themselves: the leaf is
the certificate of the private key (without a key: the one certificate that issued none of the
others), then each certificate's issuer, found by name and checked by its signature.

Errors are :class:`~avp_py.errors.ModifierError` with a reason that never holds the value, a
piece of it, or cryptography's own message (which may quote its input).
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes
from cryptography.hazmat.primitives.serialization import pkcs12

from avp_py.errors import ModifierError

PKCS12 = "application/x-pkcs12"
PEM_FILE = "application/x-pem-file"
_ENCRYPTED = (
    "cannot be opened without a password (it is password-protected, or encrypted with an"
    " algorithm that is not supported); Key Vault stores certificates without one"
)
_KEY_LABELS = ("PRIVATE KEY", "RSA PRIVATE KEY", "EC PRIVATE KEY")
_SHOWN_CONTENT_TYPE = 80
_SHA256 = hashes.SHA256()


@dataclass(frozen=True)
class Bundle:
    """A certificate's private key (if any) and its chain: the leaf first, then each issuer
    as far as the bundle goes."""

    key: PrivateKeyTypes | None = field(repr=False)
    chain: tuple[x509.Certificate, ...]


def load(value: str, content_type: str | None) -> Bundle:
    """The bundle a certificate-backed secret holds; ModifierError if it holds none."""
    kind = _kind(content_type)
    key, certificates = _from_pkcs12(value) if kind == PKCS12 else _from_pem(value)
    unique = list({cert.fingerprint(_SHA256): cert for cert in certificates}.values())
    if not unique:
        raise ModifierError("the certificate secret holds no certificate")
    return Bundle(key, _chain(_leaf(key, unique), unique))


def certificate_pem(bundle: Bundle) -> str:
    """The leaf and its intermediates, PEM (a self-signed root is left out, as TLS servers
    send it; a self-signed leaf alone is kept)."""
    chain = bundle.chain
    if len(chain) > 1 and _self_signed(chain[-1]):
        chain = chain[:-1]
    return _pem(chain)


def ca_chain_pem(bundle: Bundle) -> str:
    """Every certificate above the leaf, PEM (intermediates, then the root if present)."""
    if len(bundle.chain) < 2:
        raise ModifierError(
            "the certificate secret holds no CA certificate (only the leaf, without its issuers)"
        )
    return _pem(bundle.chain[1:])


def private_key_pem(bundle: Bundle) -> str:
    """The private key, unencrypted PKCS#8 PEM."""
    if bundle.key is None:
        raise ModifierError(
            "the certificate secret holds no private key (a certificate whose key is not"
            " exportable has none in Key Vault)"
        )
    data = bundle.key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return data.decode("ascii")


CONVERSIONS: Mapping[str, Callable[[Bundle], str]] = {
    "certificate": certificate_pem,
    "privateKey": private_key_pem,
    "caChain": ca_chain_pem,
}


def convert(name: str, value: str, content_type: str | None) -> str:
    """The PEM text modifier ``name`` makes of a certificate-backed secret."""
    return CONVERSIONS[name](load(value, content_type))


# ------------------------------------------------------------------------------ reading


def _kind(content_type: str | None) -> str:
    wanted = (content_type or "").split(";")[0].strip().lower()
    if wanted in (PKCS12, PEM_FILE):
        return wanted
    expected = f"{PKCS12} or {PEM_FILE}, as Key Vault sets on a certificate's secret"
    if not wanted:
        raise ModifierError(f"the secret has no content type (expected {expected})")
    shown = (content_type or "")[:_SHOWN_CONTENT_TYPE]
    raise ModifierError(f"the secret's content type is {shown!r}, not {expected}")


def _from_pkcs12(value: str) -> tuple[PrivateKeyTypes | None, list[x509.Certificate]]:
    try:
        data = base64.b64decode("".join(value.split()), validate=True)
    except (binascii.Error, ValueError):
        raise ModifierError(f"the value is not base64 (content type {PKCS12})") from None
    for password in (None, b""):  # "no password" is either, depending on the tool
        try:
            loaded = pkcs12.load_pkcs12(data, password)
        except (ValueError, TypeError):
            continue
        except UnsupportedAlgorithm:
            break
        certificates = [loaded.cert.certificate] if loaded.cert is not None else []
        certificates += [extra.certificate for extra in loaded.additional_certs]
        return loaded.key, [_readable(cert, "PKCS#12 (PFX) file") for cert in certificates]
    if _looks_like_pkcs12(data):
        raise ModifierError(f"the PKCS#12 (PFX) file {_ENCRYPTED}")
    raise ModifierError(f"the value is not a PKCS#12 (PFX) file (content type {PKCS12})")


def _looks_like_pkcs12(data: bytes) -> bool:
    """PFX ::= SEQUENCE { version INTEGER (3), authSafe ContentInfo, ... } (RFC 7292): the
    DER structure, without decrypting anything, to tell a password from garbage."""
    outer = _der(data, 0, 0x30)
    if outer is None:
        return False
    start, _ = outer
    version = _der(data, start, 0x02)
    return version is not None and data[version[0] : version[1]] == b"\x03"


def _der(data: bytes, at: int, tag: int) -> tuple[int, int] | None:
    """``(content start, content end)`` of the DER element at ``at`` if it has ``tag``."""
    if len(data) < at + 2 or data[at] != tag:
        return None
    length, start = data[at + 1], at + 2
    if length & 0x80:
        size = length & 0x7F
        if size == 0 or size > 4 or len(data) < start + size:
            return None
        length, start = int.from_bytes(data[start : start + size], "big"), start + size
    end = start + length
    return (start, end) if end <= len(data) else None


def _from_pem(value: str) -> tuple[PrivateKeyTypes | None, list[x509.Certificate]]:
    keys: list[PrivateKeyTypes] = []
    certificates: list[x509.Certificate] = []
    for label, block in _pem_blocks(value):
        if label == "CERTIFICATE":
            certificates.append(_pem_certificate(block))
        elif label in _KEY_LABELS:
            keys.append(_pem_key(block))
        elif label == "ENCRYPTED PRIVATE KEY":
            raise ModifierError(f"the private key of the PEM bundle {_ENCRYPTED}")
        else:
            # The label is part of the value: never shown.
            raise ModifierError("the PEM bundle holds a block that is not a key or certificate")
    if len(keys) > 1:
        raise ModifierError(f"the PEM bundle holds {len(keys)} private keys, not one")
    return (keys[0] if keys else None), certificates


def _pem_blocks(text: str) -> list[tuple[str, bytes]]:
    """Every ``-----BEGIN X-----`` ... ``-----END X-----`` block, in order (linear scan)."""
    blocks: list[tuple[str, bytes]] = []
    position = text.find("-----BEGIN ")
    while position != -1:
        label_end = text.find("-----", position + 11)
        if label_end == -1:
            break
        label = text[position + 11 : label_end]
        closing = f"-----END {label}-----"
        end = text.find(closing, label_end + 5)
        if end == -1 or "\n-----BEGIN " in text[position + 1 : end]:
            raise ModifierError("the PEM bundle has a block without its END line")
        end += len(closing)
        blocks.append((label, text[position:end].encode("ascii", "replace")))
        position = text.find("-----BEGIN ", end)
    if not blocks:
        raise ModifierError(f"the value is not a PEM bundle (content type {PEM_FILE})")
    return blocks


def _pem_certificate(block: bytes) -> x509.Certificate:
    try:
        cert = x509.load_pem_x509_certificate(block)
    except (ValueError, x509.InvalidVersion):  # InvalidVersion is no ValueError
        raise ModifierError("a certificate of the PEM bundle cannot be read") from None
    return _readable(cert, "PEM bundle")


def _readable(cert: x509.Certificate, holder: str) -> x509.Certificate:
    """``cert``, once its names parse: cryptography parses the issuer and subject only when
    they are read, so a damaged name would otherwise be a ValueError deep in the chain
    building (an internal error) instead of this message."""
    try:
        _ = (cert.issuer, cert.subject)
    except ValueError:
        raise ModifierError(f"a certificate of the {holder} cannot be read") from None
    return cert


def _pem_key(block: bytes) -> PrivateKeyTypes:
    if b"ENCRYPTED" in block.split(b"\n\n", 1)[0]:  # "Proc-Type: 4,ENCRYPTED" (OpenSSL)
        raise ModifierError(f"the private key of the PEM bundle {_ENCRYPTED}")
    try:
        return serialization.load_pem_private_key(block, None)
    except TypeError:
        raise ModifierError(f"the private key of the PEM bundle {_ENCRYPTED}") from None
    except (ValueError, UnsupportedAlgorithm):
        raise ModifierError("the private key of the PEM bundle cannot be read") from None


# ------------------------------------------------------------------------------ the chain


def _leaf(
    key: PrivateKeyTypes | None, certificates: Sequence[x509.Certificate]
) -> x509.Certificate:
    if key is not None:
        wanted = _public(key.public_key())
        for cert in certificates:
            if _certificate_key(cert) == wanted:
                return cert
        raise ModifierError("the private key matches none of the certificates of the secret")
    leaves = [c for c in certificates if not any(_issued(o, c) for o in certificates if o is not c)]
    if len(leaves) == 1:
        return leaves[0]
    raise ModifierError(
        f"the secret holds {len(leaves)} unrelated certificates and no private key: the leaf"
        " cannot be told"
    )


def _chain(
    leaf: x509.Certificate, certificates: Sequence[x509.Certificate]
) -> tuple[x509.Certificate, ...]:
    chain = [leaf]
    rest = [cert for cert in certificates if cert is not leaf]
    while not _self_signed(chain[-1]):
        issuer = next((cert for cert in rest if _issued(chain[-1], cert)), None)
        if issuer is None:
            break
        chain.append(issuer)
        rest.remove(issuer)
    return tuple(chain)


def _issued(child: x509.Certificate, parent: x509.Certificate) -> bool:
    """``parent`` signed ``child`` (name and signature)."""
    if child.issuer != parent.subject:
        return False
    try:
        child.verify_directly_issued_by(parent)
    except (InvalidSignature, UnsupportedAlgorithm, ValueError, TypeError):
        return False
    return True


def _self_signed(cert: x509.Certificate) -> bool:
    return cert.issuer == cert.subject


def _certificate_key(cert: x509.Certificate) -> bytes | None:
    """The certificate's public key, DER; None if cryptography cannot read it (a damaged or
    unsupported key matches no private key, it is not an internal error)."""
    try:
        return _public(cert.public_key())
    except (ValueError, UnsupportedAlgorithm):
        return None


def _public(key: object) -> bytes:
    return key.public_bytes(  # type: ignore[attr-defined, no-any-return]
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def _pem(chain: Sequence[x509.Certificate]) -> str:
    return "".join(cert.public_bytes(serialization.Encoding.PEM).decode("ascii") for cert in chain)
