"""The process edge: ``avp-py generate|check|watch|version|serve|sidecar`` (also installed as
``argocd-vault-plugin``).

The only package that touches ``os.environ``, stdin, stdout and exit codes:

* :mod:`avp_py.cli.app`: the click group, ``generate`` and ``version``;
* :mod:`avp_py.cli.check`: the ``check`` command;
* :mod:`avp_py.cli.serve`: ``serve`` and ``sidecar`` (the render server, issue 13);
* :mod:`avp_py.cli.watch`: the ``watch`` command (issue 14), and :mod:`avp_py.cli.recording`,
  what ``generate`` records for it;
* :mod:`avp_py.cli.process`: what every command does around the library (inputs, settings,
  logging, the ``Error:`` lines and the exit code);
* :mod:`avp_py.cli.route`: how a ``generate`` run came to run where it runs.

This module imports nothing heavy: :func:`main` is the console-script entry, and the render
server's client runs before click (and the rest of avp-py) is imported at all.
"""

from __future__ import annotations

import os
import signal
import sys

TYPE_CHECKING = False  # not typing's: importing typing would cost every run (issue 13)
if TYPE_CHECKING:
    from collections.abc import Sequence
    from typing import Any, NoReturn


class Interrupted(BaseException):  # noqa: N818 - what happened, as KeyboardInterrupt says it
    """SIGINT, as avp-py's own handler raises it: not KeyboardInterrupt, which click would
    catch around a command and turn into "Aborted!" and exit 1 (the documented code is 130)."""


INTERRUPTED_EXIT = 130  # ExitCode.INTERRUPTED, without importing avp_py.errors this early


def main(argv: Sequence[str] | None = None) -> None:
    """Console-script entry point of ``avp-py`` and ``argocd-vault-plugin``.

    ``generate`` goes to a running ``avp-py serve`` first (unless ``--no-server``); only when
    none takes it is the command line imported and the render run in this process. From the
    first line on, an interrupt ends the run with one ``Error:`` line and exit code 130, not
    a traceback from whatever was being imported (issue 11, item 4).
    """
    previous = _catch_interrupts()
    try:
        hold_standard_descriptors()
        _main(list(sys.argv[1:] if argv is None else argv), argv)
    except (Interrupted, KeyboardInterrupt):
        _interrupted()
    finally:
        if previous is not None:
            signal.signal(signal.SIGINT, previous)


def _main(args: list[str], argv: Sequence[str] | None) -> None:
    note = None
    if args[:1] == ["generate"]:
        options = args[: args.index("--")] if "--" in args else args
        if "--no-server" in options:
            note = "rendering in-process (--no-server)"
        else:
            from avp_py.server.client import render_via_server

            outcome = render_via_server(args, os.environ)
            if isinstance(outcome, int):
                sys.exit(outcome)
            note = outcome
    elif args[:1] == ["sidecar"] and not {"-h", "--help"} & set(args[1:2]):
        from avp_py.server.supervisor import main as sidecar

        sys.exit(sidecar(args[1:]))
    from avp_py.cli.app import run
    from avp_py.cli.route import Route

    run(argv, Route(note) if note else None)


def _raise_interrupted(signum: int, frame: object) -> None:
    raise Interrupted


def _catch_interrupts() -> Any:
    """Install :func:`_raise_interrupted` for SIGINT; the handler it replaced (None if it
    could not be installed: not the main thread)."""
    try:
        return signal.signal(signal.SIGINT, _raise_interrupted)
    except ValueError:
        return None


def _interrupted() -> NoReturn:
    try:
        sys.stderr.write("Error: interrupted\n")
        sys.stderr.flush()
    except (OSError, AttributeError, ValueError):
        pass  # stderr is gone too: the exit code still says it
    sys.exit(INTERRUPTED_EXIT)


def hold_standard_descriptors() -> None:
    """Put /dev/null on a closed descriptor 0, 1 or 2, so that no descriptor opened later takes
    one of those numbers: a file or socket avp-py opens (an input, the cache database, a
    connection to Key Vault) would become "stdout" and receive the output, and in the render
    server (``avp-py serve``) a client's descriptor received with SCM_RIGHTS would be one a
    render then replaces with dup2. Python's ``sys.stdout`` stays None: a run still fails as
    one whose stdout is closed (:mod:`avp_py.cli.stdout`)."""
    for fd in (0, 1, 2):
        try:
            os.fstat(fd)
        except OSError:
            opened = os.open(os.devnull, os.O_RDWR)
            if opened != fd:
                os.dup2(opened, fd)
                os.close(opened)
