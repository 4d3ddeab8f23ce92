"""``python -m avp_py`` runs the command line."""

from avp_py.cli import main

main()
