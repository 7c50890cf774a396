"""The ``partnership-ledger`` command line: a thin layer over :mod:`partnership_ledger`."""
