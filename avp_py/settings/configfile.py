"""The config file of ``-c PATH``, read as AVP (viper 1.17) reads each format.

The type comes from the extension, case-sensitively as in viper: ``json``, ``yaml``/``yml``,
``env``/``dotenv`` (gotenv's rules), ``properties``/``props``/``prop`` (magiconair's),
``ini`` (ini.v1's) and ``toml`` (Python 3.11+). Keys are case-insensitive, as viper lower-cases
them; values are strings, numbers, booleans or empty. Errors name the file and the line but
never quote the file: it may hold credentials.
"""

from __future__ import annotations

import importlib
import json
import math
import os
import re
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import cast

from avp_py import yamlcodec
from avp_py.errors import ConfigError, ManifestParseError
from avp_py.settings.formats import LineError, dotenv, ini, properties

_Reader = Callable[[str, Mapping[str, str]], object]
_TOML_LINE = re.compile(r"\(at line (\d+), column \d+\)|\(at end of document\)")


def load(path: str, environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The file's settings; ConfigError with AVP's texts, the file and the line on failure.

    ``environ`` is what ``$NAME`` (.env) and ``${NAME}`` (.properties) expand to.
    """
    extension = os.path.splitext(path)[1][1:]
    reader = _READERS.get(extension)
    if reader is None:
        raise ConfigError(f'Unsupported Config Type "{extension}"')
    try:
        with open(path, encoding="utf-8-sig") as handle:
            text = handle.read(1 << 20)
    except OSError as exc:
        raise ConfigError(f"open {path}: {exc.strerror.lower() if exc.strerror else exc}") from exc
    except UnicodeDecodeError as exc:
        raise ConfigError(f"While parsing config: {path} is not UTF-8 text") from exc
    try:
        data = reader(text, environ if environ is not None else os.environ)
    except (ValueError, ManifestParseError) as exc:  # LineError and JSON's are ValueErrors
        raise ConfigError(f"While parsing config: {path}: {_reason(exc)}") from exc
    except RecursionError:  # json and tomllib recurse per "[": 1 MiB of them is enough
        raise ConfigError(f"While parsing config: {path} is nested too deeply") from None
    return _settings(path, data)


def _reason(exc: Exception) -> str:
    """Where and why, from the parser's error, never its excerpt of the file."""
    if isinstance(exc, LineError):
        return str(exc)
    if isinstance(exc, json.JSONDecodeError):
        return f"line {exc.lineno}: {exc.msg}"
    if isinstance(exc, ManifestParseError):
        reason = str(exc).removeprefix("invalid YAML: ")
        line = getattr(exc, "line", None)
        return f"line {line}: {reason}" if line else reason
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    found = _TOML_LINE.search(text)  # tomllib: "<what> (at line N, column M)"
    if found:
        where = f"line {found.group(1)}" if found.group(1) else "at the end"
        return f"{where}: {text[: found.start()].strip()}"
    return text


def _settings(path: str, data: object) -> dict[str, str]:
    if data is None:
        return {}
    if not isinstance(data, Mapping):
        raise ConfigError(f"While parsing config: {path}: the file must hold key/value pairs")
    result: dict[str, str] = {}
    seen: dict[str, str] = {}
    for key, value in data.items():
        name = str(key)
        if name.upper() in seen:  # viper would keep one of the two at random
            raise ConfigError(
                f"While parsing config: {path}: {seen[name.upper()]} and {name} are the same"
                " setting (keys are case-insensitive)"
            )
        seen[name.upper()] = name
        result[name] = _scalar(path, name, value)
    return result


def _scalar(path: str, key: str, value: object) -> str:
    """A value as viper's GetString gives it (Go's formatting of numbers)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return _go_float(value)
    kind = "a list" if isinstance(value, list) else "a map" if isinstance(value, Mapping) else ""
    raise ConfigError(
        f"While parsing config: {path}: {key} holds {kind or 'a ' + type(value).__name__};"
        " a setting is a string, number or boolean at the top level"
    )


def _go_float(value: float) -> str:
    """strconv.FormatFloat(value, 'f', -1, 64): shortest digits, never an exponent."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    return format(Decimal(repr(value)).normalize(), "f")


def _yaml(text: str, environ: Mapping[str, str]) -> object:
    return yamlcodec.load_yaml(text)


def _json(text: str, environ: Mapping[str, str]) -> object:
    return cast(object, json.loads(text))


def _ini(text: str, environ: Mapping[str, str]) -> object:
    """The default section's keys (viper files them under ``default.``, where AVP never looks)."""
    sections = ini.parse(text)
    for name, keys in sections.items():
        if name != ini.DEFAULT and keys:
            raise ValueError(
                f"section [{name}] is not read: settings go before the first section"
                " or in [DEFAULT]"
            )
    return sections[ini.DEFAULT]


def _toml(text: str, environ: Mapping[str, str]) -> object:
    try:
        tomllib = importlib.import_module("tomllib")
    except ModuleNotFoundError:  # Python 3.10
        raise ValueError("TOML config files need Python 3.11 or newer") from None
    return cast(object, tomllib.loads(text))


_READERS: dict[str, _Reader] = {
    "json": _json,
    "yaml": _yaml,
    "yml": _yaml,
    "env": dotenv.parse,
    "dotenv": dotenv.parse,
    "properties": properties.parse,
    "props": properties.parse,
    "prop": properties.parse,
    "ini": _ini,
    "toml": _toml,
}
EXTENSIONS = tuple(_READERS)  # what -c accepts, for the commands' help
