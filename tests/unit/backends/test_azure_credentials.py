"""Building the credential offline: a client certificate that cannot be loaded names the
settings to fix."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from avp_py.backends.azurekeyvault.credentials import build_credential
from avp_py.backends.azurekeyvault.options import AzureOptions
from avp_py.errors import ConfigError
from avp_py.model import Deadline


def _garbling_password(key: bytes) -> str:
    """A wrong password that decrypts ``key`` into garbage with valid padding (about 1 in 256
    do), so cryptography reports undeserializable key data, not an incorrect password."""
    for attempt in range(50_000):  # P(none found) is about e**-195
        password = f"sentinel-wrong-{attempt}"
        try:
            serialization.load_pem_private_key(key, password.encode())
        except ValueError as exc:
            if "password" not in str(exc).lower():
                return password
    raise AssertionError("no wrong password decrypted into garbage")


def test_a_wrong_password_names_the_password_setting_whatever_cryptography_says(
    tmp_path: Path,
) -> None:
    key = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"sentinel-key-password"),
    )
    certificate = tmp_path / "client.pem"
    certificate.write_bytes(key)
    wrong = _garbling_password(key)
    options = AzureOptions(
        credential="environment",
        tenant_id="t",
        client_id="c",
        certificate_path=str(certificate),
        certificate_password=wrong,
    )
    with pytest.raises(ConfigError) as caught:
        build_credential(options, Deadline(5.0, 1e12))
    message = str(caught.value)
    assert f"AZURE_CLIENT_CERTIFICATE_PATH={certificate}" in message
    assert "check AZURE_CLIENT_CERTIFICATE_PASSWORD" in message
    assert wrong not in message
    assert "sentinel-key-password" not in message
