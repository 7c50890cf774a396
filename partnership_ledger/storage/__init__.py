"""Adapters to the databases a ledger lives in (SQLite by default, PostgreSQL to scale)."""
