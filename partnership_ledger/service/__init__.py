"""Recording: the unit of work, one handler per journal operation, and the batch recorder
(slices, retries of lost races) behind :class:`~partnership_ledger.application.PartnershipLedger`'s
commands and imports."""
