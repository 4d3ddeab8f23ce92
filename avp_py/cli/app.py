"""The click app: the command group, ``generate`` and ``version`` (``check`` is in
:mod:`avp_py.cli.check`).

The library raises; an :class:`~avp_py.errors.AvpError` becomes an ``Error:`` line on stderr
and its exit code (:mod:`avp_py.cli.process`), and stdout is written once, only after the whole
render succeeded (decision D1).
"""

from __future__ import annotations

import logging
import os
import sys
import time
from collections.abc import Mapping, Sequence

import click

from avp_py import __version__
from avp_py.cli import process, stdout
from avp_py.cli.check import check
from avp_py.cli.recording import record_render
from avp_py.cli.route import Route
from avp_py.cli.serve import serve, sidecar
from avp_py.cli.watch import watch
from avp_py.errors import ExitCode
from avp_py.model import Deadline
from avp_py.render import RenderResult, render
from avp_py.settings import Settings

log = logging.getLogger("avp_py")

EXIT_CODES_HELP = """\b
Exit codes:
  0  success (manifests on stdout)
  1  internal error (a bug: please report it)
  2  configuration error (settings, flags, backend choice)
  3  input error (unreadable or invalid manifests, malformed placeholders)
  4  placeholders could not be filled (every one is listed)
  5  backend error (credentials, network, throttling, deadline)
  6  (avp-py check only) the check found at least one error
  130 interrupted
On any error stdout stays empty."""


_HELP = {
    "config": process.CONFIG_HELP,
    "secret": "Kubernetes Secret holding config, [NAMESPACE:]NAME (namespace argocd).",
    "verbose": "Redacted diagnostics on stderr, ending with the counts of the run (retries, 429s,"
    " token requests, cache hits and misses) and a one-line summary.",
    "sensitive": "Same as --verbose (avp-py never prints values or credentials).",
    "token": "Accepted for argocd-vault-plugin compatibility; no effect.",
    "empty": "Succeed with empty output when the input holds no documents.",
    "no_cache": "Neither read nor write the cross-run cache (AVP_CACHE_DIR) in this run.",
    "no_server": "Render in this process even when an avp-py server (avp-py serve) is running.",
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
@click.option("--no-server", is_flag=True, help=_HELP["no_server"])
@click.pass_obj
def generate(
    route: Route | None,
    paths: tuple[str, ...],
    config_path: str,
    secret_name: str,
    verbose: bool,
    verbose_sensitive_output: bool,
    disable_token_cache: bool,
    allow_empty: bool,
    no_cache: bool,
    no_server: bool,
) -> None:
    """Render the manifests of PATH (a file, a directory, or - for stdin) to stdout.

    A running avp-py server (avp-py serve, AVP_SERVER_SOCKET) renders it in a warm process;
    the output, errors and exit code are the same.
    """
    started = time.monotonic()
    process.configure_logging(verbose or verbose_sensitive_output)
    # --no-server was honoured by avp_py.cli.main before click ran; a route is always known
    # there, so its absence means a caller invoked the click app directly (tests, library).
    route = route or Route(
        "rendering in-process (--no-server)" if no_server else "rendering in-process"
    )
    log.info("%s", route.note)
    flags = {"AVP_ALLOW_EMPTY": "true"} if allow_empty else {}
    if no_cache:
        flags["AVP_CACHE_DIR"] = ""
    settings, deadline, result = process.guarded(
        lambda: _generate(paths, config_path, secret_name, flags, route)
    )
    process.write_stdout(result.text, deadline)
    record_render(settings, result)  # only now: the render succeeded and Argo CD has it
    stats = result.stats
    log.info(
        "backend: %d retries, %d throttled (HTTP 429), %d token requests; cache: %d hits,"
        " %d misses",
        stats.retries,
        stats.throttled,
        stats.token_requests,
        stats.cache_hits,
        stats.cache_misses,
    )
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
    paths: Sequence[str],
    config_path: str,
    secret_name: str,
    flags: Mapping[str, str],
    route: Route,
) -> tuple[Settings, Deadline, RenderResult]:
    path = process.require_path(paths)
    settings = process.load_command_settings(config_path, secret_name, flags)
    deadline = route.start_deadline(settings.timeout_seconds)
    inputs, directory_mode = process.read_inputs(path, settings.max_input_bytes)
    return settings, deadline, render(inputs, settings, deadline, directory_mode=directory_mode)


@cli.command()
def version() -> None:
    """Print the version."""
    click.echo(f"avp-py {__version__} (argocd-vault-plugin compatible)")


cli.add_command(check)
cli.add_command(serve)
cli.add_command(sidecar)
cli.add_command(watch)


def run(argv: Sequence[str] | None = None, route: Route | None = None) -> None:
    """Run the command line (``avp_py.cli.main`` imports this module only when called);
    ``route`` says how ``generate`` came to run here (issue 13).

    Whatever a command printed must reach stdout, and an interrupt is exit 130: click would
    end both silently or as "Aborted!" (issue 11, item 4).
    """
    from avp_py.cli import Interrupted

    stdout.guard()
    try:
        try:
            cli.main(
                args=list(argv) if argv is not None else None, prog_name=_prog_name(), obj=route
            )
        finally:
            sys.stdout.flush()  # click's last words (--help) are out before the exit code
    except stdout.StdoutError as exc:
        stdout.discard_pending()
        process.fail(str(exc), (), ExitCode.INTERNAL)
    except (Interrupted, KeyboardInterrupt):
        process.fail("interrupted", (), ExitCode.INTERRUPTED)
    except SystemExit as exc:
        if exc.code is None or isinstance(exc.code, int):
            raise
        # sys.exit("text") from a library: Python would print the text, which may quote a
        # value. Its type and place only, as for any other unexpected exception.
        process.fail(process.internal_error(exc), (), ExitCode.INTERNAL)


def _prog_name() -> str:
    name = os.path.basename(sys.argv[0]) if sys.argv and sys.argv[0] else "avp-py"
    return "argocd-vault-plugin" if name == "argocd-vault-plugin" else "avp-py"
