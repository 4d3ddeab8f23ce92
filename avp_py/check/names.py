"""Kubernetes naming rules the API server enforces on a Secret (apimachinery validation). Pure."""

from __future__ import annotations

import re

_DNS_LABEL = r"[a-z0-9](?:[-a-z0-9]*[a-z0-9])?"
_DNS_SUBDOMAIN = re.compile(rf"{_DNS_LABEL}(?:\.{_DNS_LABEL})*")
_DATA_KEY = re.compile(r"[-._a-zA-Z0-9]+")
_MAX_LENGTH = 253


def secret_name_problem(name: str) -> str | None:
    """Why ``name`` is not a valid Secret name (a DNS-1123 subdomain), or None."""
    if not name:
        return "a Secret name is required"
    if len(name) > _MAX_LENGTH:
        return f"a Secret name must be at most {_MAX_LENGTH} characters"
    if not _DNS_SUBDOMAIN.fullmatch(name):
        return (
            f"invalid Secret name {name!r}: lower-case letters, digits, '-' and '.', starting"
            " and ending with a letter or digit"
        )
    return None


def data_key_problem(key: str) -> str | None:
    """Why ``key`` is not a valid Secret data key (IsConfigMapKey), or None."""
    if not key:
        return "a data key is required"
    if len(key) > _MAX_LENGTH:
        return f"a data key must be at most {_MAX_LENGTH} characters"
    if not _DATA_KEY.fullmatch(key):
        return f"invalid data key {key!r}: letters, digits, '-', '_' and '.' only"
    if key in (".", "..") or key.startswith(".."):
        return f"invalid data key {key!r}: must not be '.' or '..' nor start with '..'"
    return None
