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
