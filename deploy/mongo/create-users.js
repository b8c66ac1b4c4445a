// Runs once, on the first start of an empty MongoDB volume (docker-entrypoint-initdb.d), as root.
// The app signs in as "e4e" (read and write on its own database only); backups as "e4e_backup".
const app = db.getSiblingDB("e4e");
app.createUser({
  user: "e4e",
  pwd: process.env.MONGO_APP_PASSWORD,
  roles: [{ role: "readWrite", db: "e4e" }],
});
db.getSiblingDB("admin").createUser({
  user: "e4e_backup",
  pwd: process.env.MONGO_BACKUP_PASSWORD,
  roles: [{ role: "backup", db: "admin" }, { role: "restore", db: "admin" }],
});
