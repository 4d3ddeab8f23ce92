"""The process edge: ``avp-py generate|check|version`` (also installed as ``argocd-vault-plugin``).

The only package that touches ``os.environ``, stdin, stdout and exit codes:

* :mod:`avp_py.cli.app`: the click group, ``generate`` and ``version``;
* :mod:`avp_py.cli.check`: the ``check`` command;
* :mod:`avp_py.cli.process`: what every command does around the library (inputs, settings,
  logging, the ``Error:`` lines and the exit code).

This module imports nothing heavy: :func:`main` is the console-script entry, and a fast path
may run before click (and the rest of avp-py) is imported at all.
"""

from __future__ import annotations

from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> None:
    """Console-script entry point of ``avp-py`` and ``argocd-vault-plugin``."""
    from avp_py.cli.app import run

    run(argv)
