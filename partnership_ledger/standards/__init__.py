"""Speaking the sector's standards: organisation identifiers and area codes
(:mod:`.identifiers`), 360Giving grants (:mod:`.giving360`) and OCDS releases (:mod:`.ocds`).

The exports read a ledger's history (:mod:`.history`) and return plain data; the CLI and
:class:`~partnership_ledger.application.PartnershipLedger` write it.
"""
