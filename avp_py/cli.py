"""Command line: ``avp-py generate PATH`` and ``avp-py version`` (also as ``argocd-vault-plugin``).

The only module that touches ``os.environ``, stdin, stdout and exit codes. The library raises;
this module turns an :class:`~avp_py.errors.AvpError` into an ``Error:`` line on stderr and
its exit code, and writes stdout once, only after the whole render succeeded (decision D1).
"""

from __future__ import annotations

import logging
import os
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from typing import NoReturn

import click

from avp_py import __version__, sources
from avp_py.errors import AvpError, ConfigError, ExitCode, InputError
from avp_py.render import RenderResult, render, start_deadline
from avp_py.settings import Settings, load_settings

log = logging.getLogger("avp_py")

EXIT_CODES_HELP = """\b
Exit codes:
  0  success (manifests on stdout)
  1  internal error (a bug: please report it)
  2  configuration error (settings, flags, backend choice)
  3  input error (unreadable or invalid manifests, malformed placeholders)
  4  placeholders could not be filled (every one is listed)
  5  backend error (credentials, network, throttling, deadline)
  130 interrupted
On any error stdout stays empty."""


_HELP = {
    "config": "Config file: json, yaml, yml, env, dotenv, properties, ini or toml.",
    "secret": "Kubernetes Secret holding config, [NAMESPACE:]NAME (namespace argocd).",
    "verbose": "Redacted diagnostics on stderr, ending with a one-line summary.",
    "sensitive": "Same as --verbose (avp-py never prints values or credentials).",
    "token": "Accepted for argocd-vault-plugin compatibility; no effect.",
    "empty": "Succeed with empty output when the input holds no documents.",
    "no_cache": "Neither read nor write the cross-run cache (AVP_CACHE_DIR) in this run.",
}


@click.group(
    context_settings={"help_option_names": ["-h", "--help"]},
    invoke_without_command=True,
)
@click.pass_context
def cli(ctx: click.Context) -> None:
    """Fill <placeholders> in Kubernetes manifests from Azure Key Vault.

    A drop-in replacement for argocd-vault-plugin: same annotations, placeholders, modifiers,
    AVP_* settings and flags.
    """
    if ctx.invoked_subcommand is None:
        click.echo(ctx.get_help())


@cli.command(epilog=EXIT_CODES_HELP)
@click.argument("paths", nargs=-1, metavar="PATH")
@click.option("-c", "--config-path", default="", help=_HELP["config"])
@click.option("-s", "--secret-name", default="", help=_HELP["secret"])
@click.option("--verbose", is_flag=True, help=_HELP["verbose"])
@click.option("--verbose-sensitive-output", is_flag=True, help=_HELP["sensitive"])
@click.option("--disable-token-cache", is_flag=True, help=_HELP["token"])
@click.option("--allow-empty", is_flag=True, help=_HELP["empty"])
@click.option("--no-cache", is_flag=True, help=_HELP["no_cache"])
def generate(
    paths: tuple[str, ...],
    config_path: str,
    secret_name: str,
    verbose: bool,
    verbose_sensitive_output: bool,
    disable_token_cache: bool,
    allow_empty: bool,
    no_cache: bool,
) -> None:
    """Render the manifests of PATH (a file, a directory, or - for stdin) to stdout."""
    started = time.monotonic()
    if verbose or verbose_sensitive_output:
        _enable_verbose()
    flags = {"AVP_ALLOW_EMPTY": "true"} if allow_empty else {}
    if no_cache:
        flags["AVP_CACHE_DIR"] = ""
    result = _run(lambda: _generate(paths, config_path, secret_name, flags))
    _write_stdout(result.text)
    stats = result.stats
    log.info(
        "%d documents, %d placeholders, %d distinct secrets, %d backend requests,"
        " %d cache hits, %.2f s",
        stats.documents,
        stats.placeholders,
        stats.distinct_secrets,
        stats.backend_requests,
        stats.cache_hits,
        time.monotonic() - started,
    )


def _generate(
    paths: Sequence[str], config_path: str, secret_name: str, flags: Mapping[str, str]
) -> RenderResult:
    if not paths:
        raise ConfigError("<path> argument required to generate manifests")
    if len(paths) > 1:
        log.warning("ignoring extra arguments: %s", " ".join(paths[1:]))
    settings = _settings(config_path, secret_name, flags)
    deadline = start_deadline(settings.timeout_seconds)
    path = paths[0]
    if path == "-":
        data = sys.stdin.buffer.read(settings.max_input_bytes + 1)
        inputs = [sources.decode("<stdin>", data, settings.max_input_bytes)]
        return render(inputs, settings, deadline)
    files = sources.discover(path)
    if not files:
        raise InputError(f"no YAML or JSON files were found in {path}")
    inputs = [sources.read_file(name, settings.max_input_bytes) for name in files]
    return render(inputs, settings, deadline, directory_mode=os.path.isdir(path))


def _settings(config_path: str, secret_name: str, flags: Mapping[str, str]) -> Settings:
    # The config sources are imported only when used: they pull in urllib, ssl, email and
    # configparser, which every render would otherwise pay for at start-up.
    environ: Mapping[str, str] = os.environ
    config: dict[str, object] = {}
    if secret_name:
        from avp_py import kubesecret

        config = dict(kubesecret.read(secret_name, environ))
    if config_path:
        from avp_py import configfile

        config = configfile.load(config_path)  # replaces the Secret's keys, as in AVP
    return load_settings(environ, config, flags)


@cli.command()
def version() -> None:
    """Print the version."""
    click.echo(f"avp-py {__version__} (argocd-vault-plugin compatible)")


def _run(action: Callable[[], RenderResult]) -> RenderResult:
    try:
        return action()
    except AvpError as exc:
        _fail(str(exc), exc.details(), exc.exit_code)
    except KeyboardInterrupt:
        _fail("interrupted", (), ExitCode.INTERRUPTED)
    except Exception as exc:  # noqa: BLE001 - the top-level handler: a bug, reported without text
        _fail(_internal(exc), (), ExitCode.INTERNAL)


def _internal(exc: BaseException) -> str:
    # The message of an unexpected exception may quote a value, so only its type and place.
    frame = exc.__traceback__
    while frame is not None and frame.tb_next is not None:
        frame = frame.tb_next
    where = f" at {frame.tb_frame.f_code.co_filename}:{frame.tb_lineno}" if frame else ""
    return f"internal error: {type(exc).__name__}{where}; please report it"


def _fail(message: str, details: Sequence[str], code: ExitCode) -> NoReturn:
    lines = [f"Error: {message}", *(f"  {line}" for line in details)]
    sys.stderr.write("\n".join(lines) + "\n")
    sys.stderr.flush()
    # Worker threads may still wait on a slow backend; they are daemons, exit now.
    sys.exit(int(code))


def _write_stdout(text: str) -> None:
    try:
        sys.stdout.buffer.write(text.encode("utf-8"))
        sys.stdout.flush()
    except BrokenPipeError:
        # The reader went away: what it got is incomplete, so this run failed.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        _fail("stdout was closed before all manifests were written", (), ExitCode.INTERNAL)


def _enable_verbose() -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("avp-py: %(message)s"))
    log.addHandler(handler)
    log.setLevel(logging.INFO)


def main(argv: Sequence[str] | None = None) -> None:
    """Console-script entry point."""
    cli.main(args=list(argv) if argv is not None else None, prog_name=_prog_name())


def _prog_name() -> str:
    name = os.path.basename(sys.argv[0]) if sys.argv and sys.argv[0] else "avp-py"
    return "argocd-vault-plugin" if name == "argocd-vault-plugin" else "avp-py"
