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
import sys

TYPE_CHECKING = False  # not typing's: importing typing would cost every run (issue 13)
if TYPE_CHECKING:
    from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> None:
    """Console-script entry point of ``avp-py`` and ``argocd-vault-plugin``.

    ``generate`` goes to a running ``avp-py serve`` first (unless ``--no-server``); only when
    none takes it is the command line imported and the render run in this process.
    """
    args = list(sys.argv[1:] if argv is None else argv)
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
