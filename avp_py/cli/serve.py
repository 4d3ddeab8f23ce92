"""``avp-py serve`` (the warm render server) and ``avp-py sidecar`` (its supervisor), issue 13.

The server and the supervisor live in :mod:`avp_py.server`; this module is their command line.
"""

from __future__ import annotations

import gc
import os
import sys
import threading
from collections.abc import Callable

import click

from avp_py.cli import hold_standard_descriptors, process
from avp_py.cli.route import Route
from avp_py.errors import ConfigError, ExitCode
from avp_py.model import Deadline
from avp_py.server import protocol

_SERVE_HELP = """Run the render server in the foreground (until SIGTERM).

It imports everything once and renders each `avp-py generate` of this uid in a process forked
from it: the same output, errors and exit code, without the start-up cost. It listens on
AVP_SERVER_SOCKET (default /tmp/avp-py-UID/server.sock) and runs at most
AVP_SERVER_MAX_RENDERS renders at once (default: 4 per CPU, 2 to 16)."""


@click.command(help=_SERVE_HELP)
@click.option(
    "--status", "show_status", is_flag=True, help="Print a running server's counters and exit."
)
def serve(show_status: bool) -> None:
    if show_status:
        _print_status()
        return
    process.guarded(_serve)


def _serve() -> None:
    from avp_py.server import config, loop, warm

    settings = config.ServerConfig.from_environ(os.environ)
    # A render takes its client's descriptors onto 0, 1 and 2: none of the server's may be
    # closed, or a received descriptor would get one of those numbers.
    hold_standard_descriptors()
    missing = warm.import_everything()
    if threading.active_count() != 1:
        # Forking a process with threads copies their locks in whatever state they are in.
        raise ConfigError("an import started a thread; the render server cannot fork safely")
    gc.freeze()  # what the server imported stays out of the collector: renders share it
    warmth, note = warm.Warmth.from_environ(os.environ)
    server = loop.Server(settings, warmth, _render)
    loop.log(note + (f"; not importable: {', '.join(missing)}" if missing else ""))
    sys.exit(server.run())


def _render(
    args: list[str], note: str, arrived: float, on_deadline: Callable[[Deadline], None]
) -> None:
    """What a render process runs (:data:`avp_py.server.child.Generate`): the same command
    line as in-process, its deadline counted from the request's arrival at the server."""
    from avp_py.cli.app import run  # imported already: it holds this command

    run(args, Route(note, arrived, on_deadline))


def _print_status() -> None:
    from avp_py.server.status import format_status, request_status

    path = protocol.socket_path(os.environ, os.geteuid())
    if path is None:
        process.fail(
            f"{protocol.SOCKET_VARIABLE} is empty: the render server is turned off",
            (),
            ExitCode.CONFIG,
        )
    try:
        status = request_status(path)
    except (OSError, protocol.ProtocolError) as exc:
        process.fail(f"no avp-py server answers at {path}: {exc}", (), ExitCode.INTERNAL)
    click.echo(format_status(status), nl=False)


@click.command(
    context_settings={"ignore_unknown_options": True},
    help="Run COMMAND (argocd-cmp-server) beside the render server, as PID 1 of the sidecar:"
    " restart the server if it dies, reap children, forward SIGTERM, exit with COMMAND's"
    " status. AVP_SERVER_SOCKET='' runs COMMAND alone.",
)
@click.argument("command", nargs=-1, required=True, type=click.UNPROCESSED)
def sidecar(command: tuple[str, ...]) -> None:
    from avp_py.server.supervisor import main

    sys.exit(main(list(command)))
