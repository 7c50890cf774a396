"""The message catalogs: every message of the report has a Japanese translation."""

from __future__ import annotations

from partnership_ledger.reports import catalog
from partnership_ledger.reports.i18n import translations


def test_every_message_has_a_japanese_translation() -> None:
    assert catalog.missing("ja") == []


def test_the_sources_are_where_the_messages_are_found() -> None:
    ids = {m.id for m in catalog.extract() if m.id}
    # From Python (labels, sentences), from the templates, and plural forms.
    assert "nonprofit organisation (NPO)" in ids
    assert "The shared purpose" in ids
    assert ("%(n)s year", "%(n)s years") in ids
    assert len(ids) > 150


def test_translations_keep_their_placeholders() -> None:
    po = catalog.read("ja")
    problems = [(m.id, [str(e) for e in errors]) for m, errors in po.check()]
    assert problems == []


def test_a_missing_translation_is_found(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    real = catalog.extract

    def with_new_message():  # type: ignore[no-untyped-def]
        found = real()
        found.add("A brand new sentence nobody translated yet.")
        return found

    monkeypatch.setattr(catalog, "extract", with_new_message)
    assert catalog.missing("ja") == ["A brand new sentence nobody translated yet."]


def test_the_compiled_catalog_is_current() -> None:
    mo = catalog.po_path("ja").with_suffix(".mo")
    assert mo.read_bytes() == catalog.compiled("ja"), (
        "messages.mo is older than messages.po: run python -m partnership_ledger.reports.catalog compile"
    )
    assert translations("ja").gettext("The shared purpose") == "共通の目的"
