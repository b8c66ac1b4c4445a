"""Each report reads its case files once, in one pass (issue 18, speed): counted on the database the build receives."""
from __future__ import annotations

import pytest
from exports_helpers import QUARTER, YEAR, build, context

from admin_app.models.case_file import Client
from admin_app.models.people import User

#: The collection methods that read documents.
READS = ("find", "find_one", "aggregate", "count_documents", "distinct", "find_raw_batches")


class CountedCollection:
    def __init__(self, collection, reads: list) -> None:
        self._collection, self._reads = collection, reads

    def __getattr__(self, name):
        found = getattr(self._collection, name)
        if name not in READS:
            return found

        def read(*args, **kwargs):
            self._reads.append((name, args[0] if args else kwargs.get("filter", kwargs.get("pipeline"))))
            return found(*args, **kwargs)
        return read


class CountedDatabase:
    """The real database, with every read of the `clients` collection written down."""

    def __init__(self, db) -> None:
        self._db, self.reads = db, []

    def __getitem__(self, name):
        collection = self._db[name]
        return CountedCollection(collection, self.reads) if name == "clients" else collection

    def __getattr__(self, name):
        return self[name] if name == "clients" else getattr(self._db, name)


def indexed_first_fields() -> set[str]:
    return {spec["fields"][0][0] for spec in Client._meta["index_specs"]}


def bids_read(query) -> bool:
    """The grant pots' read: only the case files with a bid, found by the date of their bids' transitions."""
    return isinstance(query, dict) and set(query) == {"grant_bids.transitions.on"}


@pytest.mark.parametrize("report", ["opcc_return", "evaluator_extract", "kpi_fidelity"])
@pytest.mark.parametrize("period", [QUARTER, YEAR], ids=["quarter", "year"])
def test_a_report_reads_the_case_files_once(demo_db, tmp_path, report, period):
    db = CountedDatabase(demo_db)
    workbook, rows = build(db, report, context(period), tmp_path)
    finds = [query for method, query in db.reads if not bids_read(query)]
    assert len(finds) == 1, db.reads
    assert sum(rows.values()) > 0
    # What else reads `clients` is the grant pots' read, which starts from an index (only the bids).
    assert "grant_bids.transitions.on" in indexed_first_fields()


def test_the_opcc_return_reads_the_grant_pots_from_an_index(demo_db, tmp_path):
    db = CountedDatabase(demo_db)
    build(db, "opcc_return", context(QUARTER), tmp_path)
    assert [method for method, query in db.reads if bids_read(query)] == ["find"]
    assert "grant_bids.transitions.on" in indexed_first_fields()


def test_a_workers_opcc_return_reads_once_and_lists_their_cases_only(demo_db, tmp_path):
    worker = User.objects(email="worker1@test.e4e").first()
    db = CountedDatabase(demo_db)
    workbook, rows = build(db, "opcc_return", context(YEAR, match={"worker": worker.pk}), tmp_path)
    assert len([r for r in db.reads if not bids_read(r[1])]) == 1
    theirs = demo_db.clients.count_documents({"worker": worker.pk, "reference": {"$in": [
        row[0] for row in workbook["Cases"].iter_rows(min_row=2, values_only=True) if row[0] != "Total"]}})
    assert theirs == rows["Cases"] > 0
