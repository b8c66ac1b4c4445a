#!/bin/sh
# Backup and restore of the e4e database (docker-compose.yml, service "backup"):
#   backup.sh dump              writes /backup/e4e-<UTC time>.archive.gz (gzip, one file)
#   backup.sh restore <file>    restores that file from /backup, replacing the e4e collections it holds
# MONGO_HOST (default mongo:27017), MONGO_BACKUP_PASSWORD (user e4e_backup), MONGO_DB (default e4e),
# BACKUP_DIR (default /backup) and MONGO_URI (instead of user, password and host) can be set.
set -eu
DB="${MONGO_DB:-e4e}"
DIR="${BACKUP_DIR:-/backup}"
if [ -n "${MONGO_URI:-}" ]; then
    URI="$MONGO_URI"
else
    URI="mongodb://e4e_backup:${MONGO_BACKUP_PASSWORD:?set MONGO_BACKUP_PASSWORD}@${MONGO_HOST:-mongo:27017}/?replicaSet=rs0&authSource=admin"
fi

case "${1:-dump}" in
    dump)
        file="$DIR/$DB-$(date -u +%Y%m%dT%H%M%SZ).archive.gz"
        mongodump --quiet --uri="$URI" --db="$DB" --gzip --archive="$file"
        echo "Backup written: $(basename "$file")"
        ;;
    restore)
        name="${2:-}"
        if [ -z "$name" ] || [ ! -f "$DIR/$(basename "$name")" ]; then
            echo "Usage: backup.sh restore <file in $DIR>; available:" >&2
            ls -1 "$DIR" >&2 || true
            exit 2
        fi
        mongorestore --quiet --uri="$URI" --nsInclude="$DB.*" --drop --gzip --archive="$DIR/$(basename "$name")"
        echo "Restored: $(basename "$name")"
        ;;
    *)
        echo "Usage: backup.sh dump | backup.sh restore <file>" >&2
        exit 2
        ;;
esac
