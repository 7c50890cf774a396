"""The embedding API's recording methods: whole journals, parsed operations, one raw
operation, and one typed method per journal operation (a mixin of
:class:`~partnership_ledger.application.PartnershipLedger`; the work is done by
:class:`~partnership_ledger.service.recorder.Recorder`).

Each typed method takes the journal op's fields (Python values or their journal JSON forms)
and :class:`Meta`, and records the operation as :meth:`Commands.record` does; a broken rule
is raised as its own error class (for example ``AnnualCapExceeded``).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator, Sequence
from datetime import date
from pathlib import Path
from typing import Any, TypedDict, Unpack

from ..collector import collector_paused
from ..errors import DomainError, JournalError
from ..journal import Operation, Validator, iter_raw, parse_operations, to_json_value
from .recorder import Recorder, RecordResult


class Meta(TypedDict, total=False):
    """What every command method takes besides its op's fields (all optional)."""

    by: str | None  # who records it (kept in the history)
    note: str | None  # kept in the history
    op_id: str | None  # the operation's id: recording it again records nothing (idempotent retries)


class Commands:
    """Recording into a ledger: every method records all of its operations, or none."""

    recording: Recorder

    def execute(
        self,
        operations: Sequence[Operation],
        *,
        dry_run: bool = False,
        source: str | None = None,
        progress: Callable[[int], None] | None = None,
    ) -> RecordResult:
        """Apply validated operations atomically: all are recorded, or none.

        Operations already in the ledger (same id) are skipped, so importing a journal twice
        records nothing new. A write that loses a race with another writer is retried on
        fresh state; a domain error names the operation's index and op. ``progress``, if
        given, is called with 1 after each operation is applied (for a progress bar).
        """
        ops = list(operations)
        return self.recording.record_batch(lambda: (iter(ops), None), dry_run=dry_run, source=source, progress=progress)

    def import_journal(
        self,
        data: bytes | str | Path,
        *,
        dry_run: bool = False,
        source: str | None = None,
        progress: Callable[[int], None] | None = None,
    ) -> RecordResult:
        """Validate and record a whole journal (JSON array or JSON Lines) atomically.

        The journal (a file is read as it goes, never whole) is read, checked and recorded a
        slice at a time, in one transaction: if any operation is invalid (every problem is
        listed, as :func:`parse_journal` would) or refused by the rules, nothing is recorded.
        ``progress``, if given, is called with 1 after each operation is applied.
        """
        if isinstance(data, Path):
            source = source or str(data)

        def operations() -> tuple[Iterator[Operation], Validator]:
            validator = Validator()
            return (op for op in map(validator.add, iter_raw(data, source)) if op is not None), validator

        with collector_paused():
            return self.recording.record_batch(operations, dry_run=dry_run, source=source, progress=progress)

    def record(self, raw: dict[str, Any], *, dry_run: bool = False) -> RecordResult:
        """Record one operation given as a journal object (``{"op": ..., ...}``).

        Without an ``"id"`` the operation gets a fresh one, so recording the same
        operation twice through this method records it twice.
        """
        if isinstance(raw, dict) and raw.get("id") is None:
            raw = {**raw, "id": uuid.uuid4().hex}
        return self.execute(parse_operations([raw]), dry_run=dry_run)

    def _command(self, op: str, arguments: dict[str, Any]) -> RecordResult:
        """Record ``op`` from a typed method's ``arguments`` (its ``locals()``: the op's fields
        and ``meta``, with ``by``, ``note`` and ``op_id``); the rule it breaks is raised as
        itself."""
        fields = {k: v for k, v in arguments.items() if k not in ("self", "meta")}
        meta = dict(arguments.get("meta") or {})
        op_id = meta.pop("op_id", None)
        unknown = set(meta) - {"by", "note"}
        if unknown:
            raise TypeError(f"{op}() got unexpected keyword arguments: {', '.join(sorted(unknown))}")
        raw: dict[str, Any] = {"op": op}
        for name, value in {**fields, **meta}.items():
            if value is not None:
                listed = list(value) if isinstance(value, Sequence) and not isinstance(value, (str, bytes)) else value
                raw[name] = to_json_value(listed)
        if op_id is not None:
            raw["id"] = op_id
        try:
            return self.record(raw)
        except JournalError as e:
            # A single command reports the rule it broke as its own error class (for
            # example AnnualCapExceeded), not as a problem of a journal.
            if isinstance(e.__cause__, DomainError):
                raise e.__cause__ from None
            raise

    # -- one method per journal operation -----------------------------------------------------

    def void_operation(self, operation: str, reason: str, on: date | str, **meta: Unpack[Meta]) -> RecordResult:
        """Void an operation recorded in error (its op id, as ``history`` shows it)."""
        return self._command("void_operation", locals())

    def erase_subject(self, evaluator: str, reason: str, on: date | str, **meta: Unpack[Meta]) -> RecordResult:
        """Erase what the ledger holds of a resident (crypto-shredding; docs/privacy.md)."""
        return self._command("erase_subject", locals())

    def register_party(
        self,
        key: str,
        name: str,
        sector: Any,
        capacity: Any = None,
        identifiers: list[str] | None = None,
        area: str | None = None,
        **meta: Unpack[Meta],
    ) -> RecordResult:
        return self._command("register_party", locals())

    def amend_party(
        self,
        party: str,
        reason: str,
        on: date | str,
        name: str | None = None,
        sector: Any = None,
        capacity: Any = None,
        identifiers: list[str] | None = None,
        area: str | None = None,
        **meta: Unpack[Meta],
    ) -> RecordResult:
        return self._command("amend_party", locals())

    def propose_partnership(
        self,
        key: str,
        title: str,
        purpose: str,
        proposed_by: str,
        members: Sequence[str],
        on: date | str,
        parent: str | None = None,
        **meta: Unpack[Meta],
    ) -> RecordResult:
        return self._command("propose_partnership", locals())

    def join_partnership(
        self, partnership: str, party: str, on: date | str, role: str | None = None, **meta: Unpack[Meta]
    ) -> RecordResult:
        return self._command("join_partnership", locals())

    def leave_partnership(
        self, partnership: str, party: str, on: date | str, reason: str | None = None, **meta: Unpack[Meta]
    ) -> RecordResult:
        return self._command("leave_partnership", locals())

    def activate_partnership(self, partnership: str, on: date | str, **meta: Unpack[Meta]) -> RecordResult:
        return self._command("activate_partnership", locals())

    def conclude_partnership(self, partnership: str, on: date | str, **meta: Unpack[Meta]) -> RecordResult:
        return self._command("conclude_partnership", locals())

    def record_decision(
        self,
        partnership: str,
        key: str,
        subject: str,
        proposed_by: str,
        rule: Any,
        votes: dict[str, Any],
        on: date | str,
        **meta: Unpack[Meta],
    ) -> RecordResult:
        return self._command("record_decision", locals())

    def draft_agreement(
        self,
        key: str,
        partnership: str,
        title: str,
        parties: Sequence[str],
        start: date | str,
        end: date | str,
        shares: dict[str, Any] | None = None,
        annual_caps: dict[str, Any] | None = None,
        max_years: int | None = None,
        fiscal_year_start: int | None = None,
        **meta: Unpack[Meta],
    ) -> RecordResult:
        return self._command("draft_agreement", locals())

    def sign_agreement(self, agreement: str, party: str, on: date | str, **meta: Unpack[Meta]) -> RecordResult:
        return self._command("sign_agreement", locals())

    def amend_agreement(
        self,
        agreement: str,
        amendment: str,
        changes: dict[str, Any],
        proposed_by: str,
        on: date | str,
        **meta: Unpack[Meta],
    ) -> RecordResult:
        return self._command("amend_agreement", locals())

    def consent_amendment(
        self, agreement: str, amendment: str, party: str, on: date | str, **meta: Unpack[Meta]
    ) -> RecordResult:
        return self._command("consent_amendment", locals())

    def terminate_agreement(self, agreement: str, reason: str, on: date | str, **meta: Unpack[Meta]) -> RecordResult:
        return self._command("terminate_agreement", locals())

    def pledge(
        self,
        key: str,
        partnership: str,
        party: str,
        kind: Any,
        value: Any,
        fiscal_year: int,
        agreement: str | None = None,
        quantity: Any = None,
        unit: str | None = None,
        valuation_basis: str | None = None,
        instrument: Any = None,
        description: str | None = None,
        recipient: str | None = None,
        on: date | str | None = None,
        **meta: Unpack[Meta],
    ) -> RecordResult:
        return self._command("pledge", locals())

    def deliver(
        self,
        contribution: str,
        value: Any,
        on: date | str,
        evidence: str | None = None,
        evidence_private: bool | None = None,
        evidence_subject: str | None = None,
        **meta: Unpack[Meta],
    ) -> RecordResult:
        """``evidence_private``: the evidence is private, sealed under ``evidence_subject``
        (by default the contribution's party; docs/privacy.md)."""
        return self._command("deliver", locals())

    def correct_contribution(
        self,
        contribution: str,
        delta: Any,
        reason: str,
        on: date | str,
        delivery: str | None = None,
        delivered_on: date | str | None = None,
        **meta: Unpack[Meta],
    ) -> RecordResult:
        """A signed ``delta``, or (``delta`` None) a re-dating of ``delivery`` to ``delivered_on``."""
        return self._command("correct_contribution", locals())

    def withdraw_pledge(self, contribution: str, reason: str, on: date | str, **meta: Unpack[Meta]) -> RecordResult:
        return self._command("withdraw_pledge", locals())

    def define_target(
        self,
        key: str,
        partnership: str,
        indicator: str,
        unit: str,
        direction: Any,
        baseline: Any,
        targets: Sequence[Any],
        **meta: Unpack[Meta],
    ) -> RecordResult:
        return self._command("define_target", locals())

    def record_measurement(
        self, target: str, period: str, value: Any, source: str, on: date | str, **meta: Unpack[Meta]
    ) -> RecordResult:
        return self._command("record_measurement", locals())

    def revise_target(
        self, target: str, targets: Sequence[Any], reason: str, on: date | str, **meta: Unpack[Meta]
    ) -> RecordResult:
        return self._command("revise_target", locals())

    def open_evaluation(
        self,
        key: str,
        partnership: str,
        period: str,
        criteria: Sequence[str] | None = None,
        scale_max: int | None = None,
        resident_weight: Any = None,
        **meta: Unpack[Meta],
    ) -> RecordResult:
        return self._command("open_evaluation", locals())

    def submit_evaluation(
        self,
        evaluation: str,
        evaluator: str,
        role: Any,
        scores: dict[str, int],
        on: date | str,
        party: str | None = None,
        comment: str | None = None,
        comment_public: bool | None = None,
        **meta: Unpack[Meta],
    ) -> RecordResult:
        return self._command("submit_evaluation", locals())

    def close_evaluation(self, evaluation: str, on: date | str, **meta: Unpack[Meta]) -> RecordResult:
        return self._command("close_evaluation", locals())
