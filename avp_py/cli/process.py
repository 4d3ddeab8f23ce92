"""What every command does around the library: inputs, settings, logging, errors and exit.

Used by ``generate`` (:mod:`avp_py.cli.app`) and ``check`` (:mod:`avp_py.cli.check`); the
package :mod:`avp_py.cli` is the only code that touches ``os.environ``, stdin, stderr and the
exit code.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from typing import NoReturn, TypeVar

from avp_py import sources
from avp_py.cli import stdout
from avp_py.errors import ISSUES_URL, AvpError, ConfigError, ExitCode, InputError, unexpected
from avp_py.model import Deadline
from avp_py.printable import one_line
from avp_py.settings import Settings, load_settings

log = logging.getLogger("avp_py")
T = TypeVar("T")

# The -c help of every command. Kept literal (settings.configfile is imported only when -c is
# given, for start-up time); tests/unit/cli/test_help.py holds it to configfile.EXTENSIONS.
CONFIG_HELP = (
    "Config file, by extension: json, yaml, yml, env, dotenv, properties, props, prop, ini or toml."
)


def read_inputs(path: str, max_bytes: int) -> tuple[list[sources.Source], bool]:
    """The sources of ``PATH`` (``-`` for stdin) and whether it was a directory."""
    if path == "-":
        if sys.stdin is None:  # closed when the process started
            raise InputError("stdin is closed: there is no input to read")
        data = sys.stdin.buffer.read(max_bytes + 1)
        return [sources.decode("<stdin>", data, max_bytes)], False
    files = sources.discover(path)
    if not files:
        raise InputError(f"no YAML or JSON files were found in {path}")
    inputs: list[sources.Source] = []
    left = max_bytes  # AVP_MAX_INPUT_BYTES bounds the whole input, not each file
    walked = os.path.isdir(path)
    for name in files:
        source = sources.read_file(name, left, walked)
        left -= len(source.text.encode("utf-8"))
        inputs.append(source)
    return inputs, walked


def load_command_settings(
    config_path: str,
    secret_name: str,
    flags: Mapping[str, str],
    overrides: Mapping[str, str] | None = None,
    *,
    backend_required: bool = True,
    select_identity: bool = True,
) -> Settings:
    """Settings from the environment (with ``overrides``), ``-s`` and ``-c``, and flags."""
    # The config sources are imported only when used: they pull in urllib, ssl, email and
    # configparser, which every render would otherwise pay for at start-up.
    environ: Mapping[str, str] = {**os.environ, **overrides} if overrides else os.environ
    config: Mapping[str, object] = {}
    if secret_name:
        from avp_py.settings import kubesecret

        config = dict(kubesecret.read(secret_name, environ))
    if config_path:
        from avp_py.settings import configfile

        config = configfile.load(config_path, environ)  # replaces the Secret's keys, as in AVP
    return load_settings(
        environ,
        config,
        flags,
        backend_required=backend_required,
        select_identity=select_identity,
    )


def guarded(action: Callable[[], T]) -> T:
    """Run ``action``; any failure becomes ``Error:`` lines on stderr and its exit code."""
    try:
        return action()
    except AvpError as exc:
        fail(str(exc), exc.details(), exc.exit_code)
    except KeyboardInterrupt:
        fail("interrupted", (), ExitCode.INTERRUPTED)
    except Exception as exc:  # noqa: BLE001 - the top-level handler: a bug, reported without text
        fail(internal_error(exc), (), ExitCode.INTERNAL)


def internal_error(exc: BaseException) -> str:
    """The ``Error:`` text of an exception avp-py did not raise on purpose (no message)."""
    return f"internal error: {unexpected(exc)}; please report it at {ISSUES_URL}"


def fail(message: str, details: Sequence[str], code: ExitCode) -> NoReturn:
    """Write the ``Error:`` line and its details to stderr, and exit with ``code``.

    Each line is made :func:`~avp_py.printable.one_line` here, where every message is
    printed: a key or file name with a newline cannot add a line of its own (issue 11)."""
    lines = [f"Error: {one_line(message)}", *(f"  {one_line(line)}" for line in details)]
    try:
        sys.stderr.write("\n".join(lines) + "\n")
        sys.stderr.flush()
    except (OSError, AttributeError, ValueError):
        pass  # stderr is closed or gone: the exit code still tells

    # Worker threads may still wait on a slow backend; they are daemons, exit now.
    sys.exit(int(code))


def write_stdout(text: str, deadline: Deadline | None = None) -> None:
    """Write the whole output, within ``deadline``; a stdout that did not take every byte is a
    failure (what the reader got is incomplete, so this run failed)."""
    try:
        stdout.write_all(text.encode("utf-8"), deadline)
    except stdout.StdoutError as exc:
        stdout.discard_pending()
        fail(str(exc), (), ExitCode.INTERNAL)


class OneLineFormatter(logging.Formatter):
    """A log line whose message cannot break into several lines or hold terminal escapes."""

    def formatMessage(self, record: logging.LogRecord) -> str:  # noqa: N802 - logging's name
        record.message = one_line(record.message)
        return super().formatMessage(record)


def configure_logging(verbose: bool) -> None:
    """avp-py's own warnings (and, with --verbose, its redacted diagnostics) go to stderr;
    third-party libraries stay silent: their messages may quote responses or settings."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(OneLineFormatter("avp-py: %(message)s"))
    log.handlers = [handler]
    log.propagate = False
    log.setLevel(logging.INFO if verbose else logging.WARNING)
    root = logging.getLogger()
    if not any(isinstance(h, logging.NullHandler) for h in root.handlers):
        root.addHandler(logging.NullHandler())


def require_path(paths: Sequence[str]) -> str:
    """AVP's positional argument: required; extra ones are ignored, with a warning."""
    if not paths:
        raise ConfigError("<path> argument required to generate manifests")
    if len(paths) > 1:
        log.warning("ignoring extra arguments: %s", " ".join(paths[1:]))
    return paths[0]
