"""``python -m partnership_ledger_cli``: the same as the ``partnership-ledger`` command."""

from .main import main

main()
