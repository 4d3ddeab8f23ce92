"""AVP's modifiers (``<key | name args...>``): a name → function table, pure functions.

Every modifier takes its string arguments and the current value and returns the new value,
or raises :class:`ModifierError` with AVP's text (avp-behaviour.md §3.9). Messages never
contain the value: where Go's JSON errors quote a character of the input, ours give a position.

avp-py adds ``certificate``, ``privateKey`` and ``caChain`` (issue 15): they turn a Key Vault
certificate's secret into PEM, reading the content type the backend served with the value.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import math
import re
from collections.abc import Callable, Mapping
from types import MappingProxyType

from avp_py import gocompat, yamlcodec
from avp_py.errors import ManifestParseError, ModifierError
from avp_py.model import YamlNode

Modifier = Callable[[tuple[str, ...], object], object]

# The YAML codec quotes key and tag names in its messages ('duplicate key "x"'): harmless
# for a manifest, but the text yamlParse reads is a secret value.
_QUOTED = re.compile(r'"[^"\n]*"')

_B64_ALPHABET = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")


def to_bytes(text: str) -> bytes:
    """Bytes of a string that may carry undecodable bytes from ``base64decode``."""
    return text.encode("utf-8", "surrogateescape")


def from_bytes(data: bytes) -> str:
    """Inverse of :func:`to_bytes`: binary-safe, every byte survives a round trip."""
    return data.decode("utf-8", "surrogateescape")


def _require_string(value: object, suffix: str = "") -> str:
    if not isinstance(value, str):
        raise ModifierError(f"invalid datatype {gocompat.type_name(value)}{suffix}")
    return value


def _no_params(args: tuple[str, ...]) -> None:
    if args:
        raise ModifierError("invalid parameters")


def base64encode(args: tuple[str, ...], value: object) -> object:
    """Standard base64 with padding."""
    _no_params(args)
    return base64.b64encode(to_bytes(_require_string(value))).decode("ascii")


def base64decode(args: tuple[str, ...], value: object) -> object:
    """Go's lenient decode as AVP uses it: every complete group before the first bad one."""
    _no_params(args)
    text = _require_string(value).replace("\r", "").replace("\n", "")
    decoded = bytearray()
    for start in range(0, len(text) - len(text) % 4, 4):
        group = text[start : start + 4]
        if all(char in _B64_ALPHABET for char in group):
            decoded += base64.b64decode(group)
            continue
        if _is_final_group(group):
            decoded += base64.b64decode(group)
        break
    return from_bytes(bytes(decoded))


def _is_final_group(group: str) -> bool:
    body = group.rstrip("=")
    return len(body) >= 2 and all(char in _B64_ALPHABET for char in body)


def decode_go_json(text: str) -> object:
    """``json.Unmarshal`` into ``interface{}``: numbers are float64, NaN/Infinity rejected.

    A number beyond float64's range is Go's unmarshal error (not +Inf); a lone surrogate escape
    (``"\\ud800x"``) or an undecodable byte inside a string becomes U+FFFD, as Go decodes them.
    """
    try:
        value: YamlNode = json.loads(
            text, parse_int=_go_float64, parse_float=_go_float64, parse_constant=_reject_constant
        )
    except json.JSONDecodeError as exc:
        where = f"line {exc.lineno} column {exc.colno}"
        raise ModifierError(f"invalid JSON: {exc.msg} at {where}") from exc
    except RecursionError as exc:
        raise ModifierError("invalid JSON: nested too deeply") from exc
    if "\\u" in text or gocompat.has_surrogates(text):
        return gocompat.json_strings(value)
    return value


def _go_float64(text: str) -> float:
    number = float(text)
    if math.isinf(number):
        raise ModifierError(gocompat.JSON_NUMBER_OUT_OF_RANGE)
    return number


def _reject_constant(name: str) -> object:
    raise ModifierError(f"invalid JSON: {name} is not a JSON value")


def as_go_json(value: object) -> object:
    """A backend value as Go sees it after a JSON round trip: integers become float64."""
    if isinstance(value, bool) or not isinstance(value, (int, dict, list)):
        return value
    if isinstance(value, int):
        return float(value)
    if isinstance(value, dict):
        return {key: as_go_json(item) for key, item in value.items()}
    return [as_go_json(item) for item in value]


def json_path(args: tuple[str, ...], value: object) -> object:
    """client-go JSONPath over the value (a JSON string is decoded first)."""
    if not args:
        raise ModifierError("invalid parameters")
    from avp_py import jsonpath  # imported on first use: most runs need no JSONPath

    template = " ".join(args)
    try:
        jsonpath.validate(template)  # AVP parses the template before decoding the value
        data = decode_go_json(value) if isinstance(value, str) else as_go_json(value)
        return jsonpath.evaluate(template, data)
    except jsonpath.JsonPathError as exc:
        raise ModifierError(str(exc)) from exc


def json_parse(args: tuple[str, ...], value: object) -> object:
    """Decode a JSON string into a value (numbers as float64, like Go)."""
    _no_params(args)
    return decode_go_json(_require_string(value))


def yaml_parse(args: tuple[str, ...], value: object) -> object:
    """Decode a YAML string with the same YAML 1.1 rules as manifests; numbers are float64, as
    AVP's sigs.k8s.io/yaml.Unmarshal decodes its JSON step with encoding/json (issue 10, item 5)."""
    _no_params(args)
    try:
        return as_go_json(yamlcodec.load_yaml(_require_string(value)))
    except ManifestParseError as exc:
        reason = _QUOTED.sub('"…"', str(exc))
        raise ModifierError(f"error converting YAML to JSON: {reason}") from None


def indent(args: tuple[str, ...], value: object) -> object:
    """Indent every line after the first by N spaces; AVP drops blank lines and trims lines."""
    if len(args) != 1:
        raise ModifierError("invalid parameters")
    width = _go_atoi(args[0])
    text = _require_string(value)
    lines = text.split("\n")
    pad = " " * max(width, 0)
    out = [lines[0].strip()]
    last = len(lines) - 1
    for index, line in enumerate(lines[1:], start=1):
        if line:
            out.append(pad + line.strip() + ("" if index == last else "\n"))
    if len(lines) > 1:
        out[0] += "\n"
    return "".join(out)


# AVP accepts any int64 and would try to allocate that many spaces per line.
MAX_INDENT = 1024


def _go_atoi(text: str) -> int:
    """strconv.ParseInt(s, 10, 0), bounded so that a typo cannot exhaust memory."""
    width = gocompat.parse_int(text)
    if width is None or width > MAX_INDENT:
        raise ModifierError("invalid indentation level")
    return width


def sha256sum(args: tuple[str, ...], value: object) -> object:
    """Lower-case hex SHA-256 of the string."""
    _no_params(args)
    return hashlib.sha256(to_bytes(_require_string(value, ", expected string"))).hexdigest()


MODIFIERS: Mapping[str, Modifier] = MappingProxyType(
    {
        "base64encode": base64encode,
        "base64decode": base64decode,
        "jsonPath": json_path,
        "jsonParse": json_parse,
        "yamlParse": yaml_parse,
        "indent": indent,
        "sha256sum": sha256sum,
    }
)

# Modifiers that read a certificate-backed secret as the backend served it, with its content
# type (issue 15, avp_py.certificates): only as the first modifier of a placeholder.
CERTIFICATE_MODIFIERS = frozenset({"certificate", "privateKey", "caChain"})
NAMES = frozenset({*MODIFIERS, *CERTIFICATE_MODIFIERS})

# Arity, checked at plan time so that a typo costs no backend request.
_ARITY: Mapping[str, tuple[int, int]] = MappingProxyType(
    {"jsonPath": (1, 1 << 30), "indent": (1, 1)}
)


def check_call(name: str, args: tuple[str, ...], first: bool = True) -> str | None:
    """The AVP error text for a call that can never succeed, or None.

    ``first``: the call is the placeholder's first modifier (it sees the secret as served).
    """
    if not name:
        return "empty modifier statement"
    if name not in NAMES:
        return f"invalid modifier: {name}"
    if name in CERTIFICATE_MODIFIERS and not first:
        return (
            f"{name}: must be the first modifier (it reads the certificate secret as Key Vault"
            " serves it)"
        )
    low, high = _ARITY.get(name, (0, 0))
    if not low <= len(args) <= high:
        return f"{name}: invalid parameters"
    try:
        if name == "indent":
            _go_atoi(args[0])
        elif name == "jsonPath":
            _validate_json_path(" ".join(args))
    except ModifierError as exc:
        return f"{name}: {exc}"
    return None


def _certificate(
    name: str, args: tuple[str, ...], value: object, content_type: str | None
) -> object:
    _no_params(args)
    text = _require_string(value)
    from avp_py import certificates  # imported on first use: cryptography costs start-up time

    return certificates.convert(name, text, content_type)


def _validate_json_path(template: str) -> None:
    from avp_py import jsonpath

    try:
        jsonpath.validate(template)
    except jsonpath.JsonPathError as exc:
        raise ModifierError(str(exc)) from exc


def apply(
    name: str, args: tuple[str, ...], value: object, content_type: str | None = None
) -> object:
    """Run one modifier; raises ModifierError with ``name: reason``.

    ``content_type`` is the served secret's (certificate modifiers read it), or None.
    """
    try:
        if name in CERTIFICATE_MODIFIERS:
            return _certificate(name, args, value, content_type)
        return MODIFIERS[name](args, value)
    except ModifierError as exc:
        raise ModifierError(f"{name}: {exc}") from exc
    except binascii.Error as exc:  # pragma: no cover - groups are validated before decoding
        raise ModifierError(f"{name}: invalid base64") from exc
