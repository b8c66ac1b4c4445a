"""The one way to connect to MongoDB, shared by the web app, the CLI and the worker."""
from __future__ import annotations

import mongoengine

from admin_app import crypto


def connect(settings) -> None:
    """Connect mongoengine (mongomock in embedded mode) and configure field encryption."""
    crypto.configure(settings.field_keys)
    mongoengine.disconnect_all()
    if settings.mongodb_uri:
        mongoengine.connect(db=settings.mongodb_db, host=settings.mongodb_uri, tz_aware=False, uuidRepresentation="standard")
    else:
        import mongomock
        import mongomock.gridfs

        # Export files are kept in GridFS; mongomock serves it once told to.
        mongomock.gridfs.enable_gridfs_integration()
        mongoengine.connect(
            db=settings.mongodb_db,
            host="mongodb://localhost",
            mongo_client_class=mongomock.MongoClient,
        )


def database():
    """The raw pymongo database, for projections and pipelines."""
    return mongoengine.get_db()


_TRANSACTIONS: dict[int, bool] = {}


def transactions_supported(db) -> bool:
    """Whether the server runs multi-document transactions: a replica set member or a mongos router.

    A standalone server (and the embedded in-memory database) has none; callers then rely on
    conditional single-document writes. Asked once per client.
    """
    client = db.client
    key = id(client)
    if key not in _TRANSACTIONS:
        if type(client).__module__.startswith("mongomock"):
            _TRANSACTIONS[key] = False  # the embedded in-memory database
        else:
            hello = client.admin.command("hello")
            _TRANSACTIONS[key] = bool(hello.get("setName")) or hello.get("msg") == "isdbgrid"
    return _TRANSACTIONS[key]
