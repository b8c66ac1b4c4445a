"""Fixtures of the export tests: the demo case files, seeded once per test module."""
from __future__ import annotations

import pytest

from exports_helpers import drop_demo_db, seed_demo_db


@pytest.fixture(scope="module")
def demo_db():
    db = seed_demo_db()
    yield db
    drop_demo_db(db)
