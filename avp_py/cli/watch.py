"""``avp-py watch [--once]``: hard-refresh the Applications whose secrets changed (issue 14).

Settings are read as ``generate`` reads them (the backend's, from the environment, ``-c`` or
``-s``), plus the watcher's own (:mod:`avp_py.settings.watch`). ``--once`` runs one cycle: a
configuration problem is an ``Error:`` line and exit code 2. The loop never stops for one (it
runs beside the render sidecars, where an exited container keeps the pod from being Ready): it
logs an ``Error:`` line every cycle and builds the watcher again, until SIGTERM or SIGINT, then
exits 0. Nothing the network, the files or Argo CD do stops either.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
from contextlib import closing
from types import FrameType
from typing import TYPE_CHECKING

import click

from avp_py.cli import process
from avp_py.errors import AvpError, ConfigError, ExitCode

if TYPE_CHECKING:
    from avp_py.watch.cycle import Watcher

log = logging.getLogger("avp_py.watch")

EXIT_CODES_HELP = """\b
Exit codes:
  0  --once: the cycle ran, every lookup and refresh request succeeded;
     the loop: stopped by SIGTERM or SIGINT
  1  --once: internal error (a bug: please report it)
  2  --once: configuration error (settings, Argo CD address or token, state directory)
  5  --once: the cycle ran, but a Key Vault lookup or an Argo CD refresh request failed
     (logged; a later run tries again)
The loop never exits for these: it logs them, with an Error: line for 1 and 2, and goes on."""

_HELP = {
    "once": "Run one cycle, then exit (cron, tests, debugging).",
    "config": process.CONFIG_HELP,
    "secret": "Kubernetes Secret holding config, [NAMESPACE:]NAME (namespace argocd).",
    "verbose": "Log a summary line after every cycle.",
}


@click.command(epilog=EXIT_CODES_HELP)
@click.option("--once", is_flag=True, help=_HELP["once"])
@click.option("-c", "--config-path", default="", help=_HELP["config"])
@click.option("-s", "--secret-name", default="", help=_HELP["secret"])
@click.option("--verbose", is_flag=True, help=_HELP["verbose"])
def watch(once: bool, config_path: str, secret_name: str, verbose: bool) -> None:
    """Ask Argo CD to hard-refresh the Applications whose Key Vault secrets have a new version.

    Every AVP_WATCH_INTERVAL_SECONDS (default 120), compares the versions the renders recorded
    in AVP_WATCH_STATE_DIR with the current ones (metadata only, one request per secret) and
    asks ARGOCD_SERVER for a hard refresh of each Application that is behind.
    """
    _configure_logging()
    from avp_py.watch import loop

    if once:
        watcher = process.guarded(lambda: _build(config_path, secret_name))
        report = process.guarded(lambda: loop.run_once(watcher, verbose))
        if failed := report.failures():
            # cron and CI see it by the code; the loop would just try again next cycle
            process.fail(f"{failed} in this cycle (logged above)", (), ExitCode.BACKEND)
        sys.exit(int(ExitCode.OK))
    stop = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    log.info("a cycle every %g s (jittered)", _interval(config_path, secret_name))
    process.guarded(
        lambda: loop.run_forever(
            lambda: _build(config_path, secret_name),
            lambda: _interval(config_path, secret_name),
            stop,
            verbose,
        )
    )
    sys.exit(int(ExitCode.OK))


def _interval(config_path: str, secret_name: str) -> float:
    """``AVP_WATCH_INTERVAL_SECONDS``, or its default while the settings cannot be read."""
    from avp_py.settings import knobs

    try:
        settings = process.load_command_settings(config_path, secret_name, {})
        return knobs.WATCH_INTERVAL.read(settings.options)
    except AvpError:
        return knobs.WATCH_INTERVAL.default


def _build(config_path: str, secret_name: str) -> Watcher:
    """Everything the cycles need, checked before the first one: settings, the backend's
    capability and credentials settings, the state directory, the CA bundle."""
    from avp_py import backends
    from avp_py.backends.base import BackendContext
    from avp_py.render import start_deadline
    from avp_py.settings.watch import load_watch_settings
    from avp_py.watch.argocd import ArgoCdClient
    from avp_py.watch.cycle import Watcher, listing_backend
    from avp_py.watch.store import StateDirectory, StateUnavailable

    # The identity is chosen per record, from its AppProject (AVP_AZURE_IDENTITIES).
    settings = process.load_command_settings(config_path, secret_name, {}, select_identity=False)
    config = load_watch_settings(settings, os.environ)
    build = listing_backend(settings)
    # Each identity AVP_AZURE_IDENTITIES can choose, as a render of its projects has it: a
    # malformed mapping stops here, and with one AZURE_CLIENT_ID comes from the mapping.
    for options in backends.entry(settings.backend).every_identity(settings.options):
        with closing(build(BackendContext(options, start_deadline(1.0), 1))):
            pass  # building a backend sends nothing; it checks the settings and the capability
    try:
        StateDirectory(config.state_dir).open()
    except StateUnavailable as exc:
        raise ConfigError(str(exc)) from None
    client = ArgoCdClient(config.argocd)
    return Watcher(settings, config, build, client)


def _configure_logging() -> None:
    """Refresh lines and warnings always (a long-running process's log, with timestamps);
    avp-py's other diagnostics stay at warning, third-party libraries silent."""
    process.configure_logging(verbose=False)
    handler = logging.getLogger("avp_py").handlers[0]
    handler.setFormatter(process.OneLineFormatter("%(asctime)s avp-py watch: %(message)s"))
    log.setLevel(logging.INFO)
