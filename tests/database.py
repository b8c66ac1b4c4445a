"""Where the tests keep their data: mongomock in the test process, or the MongoDB server that
MONGODB_URI names (`MONGODB_URI=mongodb://host/?replicaSet=rs0 make test`), in databases of their own
that are emptied before each use."""
from __future__ import annotations

import os

import mongoengine

import config
from admin_app import crypto

REAL_SERVER = os.environ.get("MONGODB_URI") or None
#: The app's database in tests; on a real server every database the tests use starts with this name.
TEST_DB = os.environ.get("MONGODB_TEST_DB", "e4e_test")


def database_name(name: str) -> str:
    return name if name.startswith(TEST_DB) else f"{TEST_DB}_{name}"


def connect(name: str = TEST_DB):
    """mongoengine connected to an empty database; returns the pymongo database."""
    crypto.configure([config.DEMO_FIELD_KEY])
    mongoengine.disconnect_all()
    name = database_name(name)
    if REAL_SERVER:
        mongoengine.connect(db=name, host=REAL_SERVER, tz_aware=False, uuidRepresentation="standard")
    else:
        import mongomock

        mongoengine.connect(db=name, host="mongodb://localhost", mongo_client_class=mongomock.MongoClient)
    db = mongoengine.get_db()
    db.client.drop_database(name)
    return db


def empty_app_database() -> dict[str, str]:
    """The settings that point an app at the test database, emptied first; none on mongomock (a fresh
    in-process database comes with each app)."""
    if not REAL_SERVER:
        return {}
    import pymongo

    with pymongo.MongoClient(REAL_SERVER) as client:
        client.drop_database(TEST_DB)
    return {"MONGODB_URI": REAL_SERVER, "MONGODB_DB": TEST_DB}
