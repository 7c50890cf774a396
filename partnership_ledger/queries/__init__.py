"""Read queries of a ledger: indicators, aggregates as plain data, history, exports, diff and
info (mixins of :class:`~partnership_ledger.application.PartnershipLedger`), and stored events
back to journal operations."""
