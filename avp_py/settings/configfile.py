"""The config file of ``generate -c PATH``, in the formats AVP (viper) reads.

The type comes from the extension, case-sensitively as in viper: ``json``, ``yaml``/``yml``,
``env``/``dotenv``, ``properties``/``props``/``prop``, ``ini`` and ``toml`` (Python 3.11+).
Keys are case-insensitive; values are strings, numbers or booleans.
"""

from __future__ import annotations

import configparser
import importlib
import json
import os
from collections.abc import Callable, Mapping
from typing import cast

from avp_py import yamlcodec
from avp_py.errors import ConfigError, ManifestParseError


def load(path: str) -> dict[str, object]:
    """Read and parse the config file; ConfigError with AVP's texts on failure."""
    extension = os.path.splitext(path)[1][1:]
    parser = _PARSERS.get(extension)
    if parser is None:
        raise ConfigError(f'Unsupported Config Type "{extension}"')
    try:
        with open(path, encoding="utf-8-sig") as handle:
            text = handle.read(1 << 20)
    except OSError as exc:
        raise ConfigError(f"open {path}: {exc.strerror.lower() if exc.strerror else exc}") from exc
    except UnicodeDecodeError as exc:
        raise ConfigError(f"While parsing config: {path} is not UTF-8 text") from exc
    try:
        data = parser(text)
    except (ValueError, ManifestParseError, configparser.Error) as exc:
        raise ConfigError(f"While parsing config: {_reason(exc)}") from exc
    except RecursionError:  # json and tomllib recurse per "[": 1 MiB of them is enough
        raise ConfigError(f"While parsing config: {path} is nested too deeply") from None
    if not isinstance(data, Mapping):
        raise ConfigError(f"While parsing config: {path} must hold key/value pairs")
    return {str(key): value for key, value in data.items()}


def _reason(exc: Exception) -> str:
    # json/toml messages give positions only; never echo the file's content (it holds secrets).
    if isinstance(exc, json.JSONDecodeError):
        return f"{exc.msg} at line {exc.lineno}"
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__


def _yaml(text: str) -> object:
    return yamlcodec.load_yaml(text) or {}


def _key_values(text: str) -> dict[str, str]:
    """dotenv and Java properties: ``KEY=VALUE`` (or ``KEY: VALUE``) lines, ``#`` comments."""
    result: dict[str, str] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith(("#", "!")):
            continue
        line = line.removeprefix("export ")
        separator = min((i for i in (line.find("="), line.find(":")) if i > 0), default=-1)
        if separator < 0:
            raise ValueError(f"line {number} is not KEY=VALUE")
        value = line[separator + 1 :].strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]
        result[line[:separator].strip()] = value
    return result


def _ini(text: str) -> dict[str, str]:
    parser = configparser.ConfigParser(interpolation=None, default_section="default")
    parser.optionxform = str  # type: ignore[assignment,method-assign]  # keep key case
    parser.read_string(text if text.lstrip().startswith("[") else "[default]\n" + text)
    result = dict(parser.defaults())
    for section in parser.sections():
        result.update({f"{section}.{key}": value for key, value in parser.items(section)})
    return result


def _toml(text: str) -> object:
    try:
        tomllib = importlib.import_module("tomllib")
    except ModuleNotFoundError:  # Python 3.10
        raise ValueError("TOML config files need Python 3.11 or newer") from None
    return cast(object, tomllib.loads(text))


_PARSERS: dict[str, Callable[[str], object]] = {
    "json": json.loads,
    "yaml": _yaml,
    "yml": _yaml,
    "env": _key_values,
    "dotenv": _key_values,
    "properties": _key_values,
    "props": _key_values,
    "prop": _key_values,
    "ini": _ini,
    "toml": _toml,
}
