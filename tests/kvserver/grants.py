"""Client assertions at the token endpoint: a federated token, or a certificate's own JWT.

Both arrive as ``client_assertion`` (``jwt-bearer``). A certificate credential (MSAL, through
azure-identity's ``CertificateCredential``) signs its own assertion, ``iss`` and ``sub`` being
its client id, with the certificate's thumbprint in the header (``x5t#S256``, or ``x5t`` for
SHA-1) and PS256 or RS256; a federated token comes from another issuer (the cluster's OIDC
issuer). A certificate assertion is accepted when it is signed by the key of a certificate
registered for the client id, as Entra ID checks the certificates of an app registration.
"""

from __future__ import annotations

import base64
import binascii
import json

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

JSON = dict[str, object]


def _decode(part: str) -> JSON | None:
    try:
        data = json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
    except (ValueError, binascii.Error):
        return None
    return data if isinstance(data, dict) else None


def is_certificate_assertion(assertion: str, client_id: str) -> bool:
    """The client's own JWT (``iss`` is its client id), not a federated token."""
    parts = assertion.strip().split(".")
    claims = _decode(parts[1]) if len(parts) == 3 else None
    return claims is not None and claims.get("iss") == client_id


def thumbprint(certificate: x509.Certificate, algorithm: hashes.HashAlgorithm) -> str:
    """The base64url thumbprint a JWT header carries (``x5t``: SHA-1, ``x5t#S256``: SHA-256)."""
    digest = certificate.fingerprint(algorithm)
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def signed_by(assertion: str, certificates: list[x509.Certificate]) -> bool:
    """Whether one of ``certificates`` (the header's thumbprint names it) signed ``assertion``."""
    parts = assertion.strip().split(".")
    header = _decode(parts[0]) if len(parts) == 3 else None
    if header is None:
        return False
    named = {str(header.get(name, "")).rstrip("=") for name in ("x5t#S256", "x5t")}
    for certificate in certificates:
        # x5t is SHA-1 by definition (RFC 7515 4.1.7); MSAL pads it, Entra ID does not mind
        prints = {thumbprint(certificate, hashes.SHA256()), thumbprint(certificate, hashes.SHA1())}
        if named & prints:
            return _verify(parts, str(header.get("alg")), certificate)
    return False


def _verify(parts: list[str], algorithm: str, certificate: x509.Certificate) -> bool:
    key = certificate.public_key()
    if not isinstance(key, rsa.RSAPublicKey) or algorithm not in ("PS256", "RS256"):
        return False
    try:
        signature = base64.urlsafe_b64decode(parts[2] + "=" * (-len(parts[2]) % 4))
    except (ValueError, binascii.Error):
        return False
    scheme: padding.AsymmetricPadding = (
        padding.PSS(padding.MGF1(hashes.SHA256()), padding.PSS.AUTO)
        if algorithm == "PS256"
        else padding.PKCS1v15()
    )
    try:
        key.verify(signature, f"{parts[0]}.{parts[1]}".encode(), scheme, hashes.SHA256())
    except InvalidSignature:
        return False
    return True
