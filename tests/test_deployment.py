"""Structural checks of the container deployment: docker-compose.yml, Dockerfile, .env.example.

No container engine exists where this suite runs, so these tests read the files and
assert what the production stack depends on; they do not start anything.
"""
from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import pytest

yaml = pytest.importorskip("yaml")

ROOT = Path(__file__).resolve().parent.parent
COMPOSE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"
ENV_EXAMPLE = ROOT / ".env.example"

SERVICES = {"proxy", "mongo", "redis", "web", "worker", "beat", "mailcatcher", "backup"}
ONE_OFF = {"backup"}
APP_SERVICES = ("web", "worker", "beat")
CADDYFILE = ROOT / "deploy" / "Caddyfile"
BACKUP_SCRIPT = ROOT / "deploy" / "mongo" / "backup.sh"
CREATE_USERS = ROOT / "deploy" / "mongo" / "create-users.js"
SECRETS = ("SECRET_KEY", "SECURITY_PASSWORD_SALT", "FIELD_ENCRYPTION_KEYS", "PSEUDONYM_KEY", "TOTP_SECRET")
GUNICORN = ["gunicorn", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-", "admin_app:create_app()"]
HEALTH_URL = "http://127.0.0.1:8000/healthz"


@pytest.fixture(scope="module")
def compose() -> dict:
    assert COMPOSE.is_file(), "docker-compose.yml is missing"
    data = yaml.safe_load(COMPOSE.read_text())
    assert isinstance(data, dict)
    return data


@pytest.fixture(scope="module")
def services(compose) -> dict:
    return compose["services"]


def _env(service: dict) -> dict:
    env = service.get("environment") or {}
    if isinstance(env, list):  # the KEY=value list form
        env = dict(item.split("=", 1) if "=" in item else (item, None) for item in env)
    return {str(k): (None if v is None else str(v)) for k, v in env.items()}


def _argv(command) -> list[str]:
    return list(command) if isinstance(command, list) else shlex.split(command)


def _test_text(healthcheck: dict) -> str:
    test = healthcheck["test"]
    return " ".join(test) if isinstance(test, list) else str(test)


# --- docker-compose.yml -------------------------------------------------------------


def test_every_service_exists(services):
    assert set(services) == SERVICES


def test_every_long_running_service_has_a_real_healthcheck(services):
    for name, service in services.items():
        if name in ONE_OFF:
            continue
        hc = service.get("healthcheck")
        assert hc, f"{name} has no healthcheck"
        assert not hc.get("disable"), f"{name} disables its healthcheck"
        test = hc.get("test")
        assert test, f"{name} healthcheck has no test"
        if isinstance(test, list):
            assert test[0] in {"CMD", "CMD-SHELL"}, f"{name}: {test[0]!r}"
            assert len(test) > 1


def test_every_long_running_service_restarts_unless_stopped(services):
    for name, service in services.items():
        assert service.get("restart") == ("no" if name in ONE_OFF else "unless-stopped"), name


def test_every_image_is_pinned_to_a_version(services):
    for name, service in services.items():
        image = str(service["image"])
        repository, _, tag = image.rpartition(":")
        assert repository and tag, f"{name}: {image} has no tag"
        assert tag != "latest" and re.match(r"v?\d+\.\d+(\.\d+)?", tag), f"{name}: {image} is not pinned"


def test_mongo_is_a_single_node_replica_set_that_initiates_itself(services):
    mongo = services["mongo"]
    assert str(mongo["image"]).startswith("mongo:7.")
    argv = _argv(mongo["command"])
    assert "--replSet" in argv and argv[argv.index("--replSet") + 1] == "rs0"
    assert "--bind_ip_all" in argv
    check = _test_text(mongo["healthcheck"])
    assert "mongosh" in check
    assert "rs.initiate(" in check
    assert "_id:'rs0'" in check.replace('"', "'").replace(" ", "")
    assert "mongo:27017" in check


def test_mongo_demands_authentication_with_a_keyfile_and_users(services):
    mongo = services["mongo"]
    env = _env(mongo)
    argv = _argv(mongo["command"])
    keyfile = argv[argv.index("--keyFile") + 1]
    entry = " ".join(_argv(mongo["entrypoint"]))
    # The keyfile is written from the secret, readable by mongod alone, before the image's own entrypoint.
    assert f"> {keyfile}" in entry and f"chmod 400 {keyfile}" in entry and "exec docker-entrypoint.sh" in entry
    assert env["MONGO_REPLICA_KEY"] == "${MONGO_REPLICA_KEY:?set MONGO_REPLICA_KEY}"
    assert env["MONGO_INITDB_ROOT_USERNAME"] == "root"
    for secret in ("MONGO_ROOT_PASSWORD", "MONGO_APP_PASSWORD", "MONGO_BACKUP_PASSWORD"):
        assert f"${{{secret}:?" in " ".join(env.values()), secret
    assert "./deploy/mongo/create-users.js:/docker-entrypoint-initdb.d/create-users.js:ro" in mongo["volumes"]
    users = CREATE_USERS.read_text()
    assert 'user: "e4e"' in users and '{ role: "readWrite", db: "e4e" }' in users
    assert 'user: "e4e_backup"' in users and '{ role: "backup", db: "admin" }' in users
    assert "process.env.MONGO_APP_PASSWORD" in users and "process.env.MONGO_BACKUP_PASSWORD" in users
    # The health check signs in too: without a password the server answers nothing.
    assert '-u root -p "$$MONGO_INITDB_ROOT_PASSWORD"' in _test_text(mongo["healthcheck"])
    assert "ports" not in mongo


def test_redis_persists_demands_a_password_and_pings(services):
    redis = services["redis"]
    assert str(redis["image"]).startswith("redis:7.")
    script = _argv(redis["command"])[-1]
    server = shlex.split(script.replace("$$", "$"))
    assert server[:2] == ["exec", "redis-server"]
    assert server[server.index("--appendonly") + 1] == "yes"
    assert server[server.index("--requirepass") + 1] == "$REDIS_PASSWORD"
    assert _env(redis)["REDIS_PASSWORD"] == "${REDIS_PASSWORD:?set REDIS_PASSWORD}"
    check = _test_text(redis["healthcheck"])
    assert "redis-cli ping" in check and "REDISCLI_AUTH" in check
    assert "ports" not in redis


def test_the_mail_catcher_is_for_development_only_and_local_only(services):
    mail = services["mailcatcher"]
    assert str(mail["image"]).startswith("axllent/mailpit:")
    assert mail["profiles"] == ["dev"]
    for port in mail.get("ports") or []:
        assert str(port).startswith("127.0.0.1:"), f"mailcatcher publishes {port} beyond this machine"
    for name in APP_SERVICES:
        assert "mailcatcher" not in services[name]["depends_on"]


def test_a_tls_proxy_fronts_the_web_app_and_only_it_is_published(services):
    proxy = services["proxy"]
    assert str(proxy["image"]).startswith("caddy:2.")
    assert {"80:80", "443:443"} <= {str(p) for p in proxy["ports"]}
    assert "./deploy/Caddyfile:/etc/caddy/Caddyfile:ro" in proxy["volumes"]
    env = _env(proxy)
    assert env["SITE_ADDRESS"].startswith("${SITE_ADDRESS:?")
    assert env["CADDY_TLS"] == "${CADDY_TLS:-internal}"
    assert proxy["depends_on"]["web"]["condition"] == "service_healthy"
    caddyfile = CADDYFILE.read_text()
    assert "{$SITE_ADDRESS} {" in caddyfile
    assert "tls {$CADDY_TLS:internal}" in caddyfile
    assert "reverse_proxy web:8000" in caddyfile
    assert "Strict-Transport-Security" in caddyfile
    published = {name for name, service in services.items() if service.get("ports")}
    assert published == {"proxy", "mailcatcher"}
    assert [str(p) for p in services["web"]["expose"]] == ["8000"]


def test_backups_are_a_one_off_mongodump_service(services):
    backup = services["backup"]
    assert backup["profiles"] == ["backup"]
    assert backup["image"] == services["mongo"]["image"]  # the tools match the server
    assert _argv(backup["entrypoint"]) == ["sh", "/deploy/backup.sh"]
    assert "./deploy/mongo/backup.sh:/deploy/backup.sh:ro" in backup["volumes"]
    assert "./backups:/backup" in backup["volumes"]
    assert backup["depends_on"]["mongo"]["condition"] == "service_healthy"
    script = BACKUP_SCRIPT.read_text()
    assert "mongodump" in script and "mongorestore" in script and "--drop" in script


def test_named_volumes_are_declared_and_used(compose, services):
    declared = set(compose.get("volumes") or {})
    assert {"mongo-data", "redis-data", "caddy-data"} <= declared
    used = set()
    for name, service in services.items():
        for volume in service.get("volumes") or []:
            source = volume.split(":", 1)[0] if isinstance(volume, str) else volume.get("source")
            if source and not source.startswith((".", "/", "~")):
                assert source in declared, f"{name} uses undeclared volume {source}"
                used.add(source)
    assert declared <= used, f"declared but unused: {declared - used}"
    assert "mongo-data:/data/db" in services["mongo"]["volumes"]
    assert "redis-data:/data" in services["redis"]["volumes"]


def test_app_services_share_one_production_environment(services):
    envs = [_env(services[name]) for name in APP_SERVICES]
    assert envs[0] == envs[1] == envs[2]
    env = envs[0]
    assert env["APP_ENV"] == "production"
    uri = env["MONGODB_URI"]
    assert uri.startswith("mongodb://e4e:${MONGO_APP_PASSWORD:?set MONGO_APP_PASSWORD}@mongo:27017/e4e?")
    assert "replicaSet=rs0" in uri and "authSource=e4e" in uri
    assert env["MONGODB_DB"] == "e4e"
    for name in ("CELERY_BROKER_URL", "CELERY_RESULT_BACKEND", "RATELIMIT_STORAGE_URI"):
        assert env[name].startswith("redis://:${REDIS_PASSWORD:?set REDIS_PASSWORD}@redis:6379/"), name
    # Broker, results and rate limits must not share a Redis database.
    assert len({env["CELERY_BROKER_URL"], env["CELERY_RESULT_BACKEND"], env["RATELIMIT_STORAGE_URI"]}) == 3
    # The mail server is the operator's, from .env: host required, STARTTLS on by default, credentials passed.
    assert env["SMTP_HOST"] == "${SMTP_HOST:?set SMTP_HOST}"
    assert env["SMTP_PORT"] == "${SMTP_PORT:-587}"
    assert env["SMTP_TLS"] == "${SMTP_TLS:-true}"
    assert env["SMTP_USER"] == "${SMTP_USER:-}" and env["SMTP_PASSWORD"] == "${SMTP_PASSWORD:-}"
    assert env["MAIL_FROM"].startswith("${MAIL_FROM:?") and env["BASE_URL"].startswith("${BASE_URL:?")
    assert env["TWO_FACTOR_REQUIRED_ROLES"] == "${TWO_FACTOR_REQUIRED_ROLES:-admin,manager,worker,admin_staff,grant_panel,evaluator,commissioner}"
    assert env["TZ"] == "Europe/London"


def test_app_environment_comes_from_the_x_app_env_anchor(compose, services):
    anchor = compose.get("x-app-env")
    assert isinstance(anchor, dict) and anchor["APP_ENV"] == "production"
    for name in APP_SERVICES:
        assert _env(services[name]) == {k: str(v) for k, v in anchor.items()}
    raw = COMPOSE.read_text()
    assert re.search(r"^x-app-env:\s*&\S+", raw, re.M)


def test_secrets_are_required_variables_never_literals(services):
    for name in APP_SERVICES:
        env = _env(services[name])
        for secret in SECRETS:
            value = env.get(secret)
            assert value is not None, f"{name} lacks {secret}"
            assert re.fullmatch(r"\$\{" + secret + r":\?[^}]+\}", value), f"{name}.{secret} = {value!r}"
    # No secret appears with a literal value or a silent default anywhere in the file.
    raw = COMPOSE.read_text()
    for secret in SECRETS:
        for line in raw.splitlines():
            if re.match(rf"\s*-?\s*{secret}\s*[:=]", line):
                assert f"${{{secret}:?" in line, line


def test_app_services_wait_for_healthy_mongo_and_redis(services):
    for name in APP_SERVICES:
        depends = services[name]["depends_on"]
        assert isinstance(depends, dict), f"{name} must use the long depends_on form"
        for dep in ("mongo", "redis"):
            assert depends[dep]["condition"] == "service_healthy", (name, dep)


def test_app_services_run_the_built_image(services):
    images = {services[name].get("image") for name in APP_SERVICES}
    builds = {json.dumps(services[name].get("build"), sort_keys=True) for name in APP_SERVICES}
    assert len(images) == 1 and len(builds) == 1
    assert services["web"]["build"] in (".", {"context": "."})


def test_web_syncs_roles_then_execs_gunicorn(services):
    web = services["web"]
    argv = _argv(web["command"])
    assert argv[:2] == ["sh", "-c"]
    script = argv[2]
    first, _, rest = script.partition("&&")
    assert shlex.split(first) == ["flask", "--app", "admin_app", "sync-roles"]
    assert shlex.split(rest) == ["exec", *GUNICORN]
    assert "ports" not in web  # reached through the proxy only
    check = _test_text(web["healthcheck"])
    assert HEALTH_URL in check and "urllib" in check


def test_worker_and_beat_use_jobs_celery_app(services):
    worker = _argv(services["worker"]["command"])
    beat = _argv(services["beat"]["command"])
    assert worker[:4] == ["celery", "-A", "jobs.celery_app", "worker"]
    assert "--loglevel=info" in worker
    assert beat[:4] == ["celery", "-A", "jobs.celery_app", "beat"]
    assert "--loglevel=info" in beat
    assert beat[beat.index("--schedule") + 1] == "/tmp/celerybeat-schedule"
    assert "jobs.celery_app" in _test_text(services["worker"]["healthcheck"])
    # Worker and beat serve no HTTP; they must not inherit the web health check.
    for name in ("worker", "beat"):
        assert "/healthz" not in _test_text(services[name]["healthcheck"])
        assert "ports" not in services[name]


# --- Dockerfile ---------------------------------------------------------------------


def _instructions() -> list[tuple[str, str]]:
    assert DOCKERFILE.is_file(), "Dockerfile is missing"
    joined, buf = [], ""
    for line in DOCKERFILE.read_text().splitlines():
        if not buf and (not line.strip() or line.lstrip().startswith("#")):
            continue
        if line.rstrip().endswith("\\"):
            buf += line.rstrip()[:-1] + " "
            continue
        joined.append(buf + line)
        buf = ""
    out = []
    for line in joined:
        keyword, _, rest = line.strip().partition(" ")
        out.append((keyword.upper(), rest.strip()))
    return out


def test_dockerfile_base_install_and_port():
    ins = _instructions()
    keyword, image = ins[0]
    assert keyword == "FROM" and re.fullmatch(r"python:3\.11\.\d+-slim(-bookworm)?", image), image
    runs = [arg for kw, arg in ins if kw == "RUN"]
    assert any(re.search(r"\bpip install\s+\.(\s|$)", r) for r in runs)
    assert ("EXPOSE", "8000") in ins


def test_dockerfile_does_not_run_as_root():
    ins = _instructions()
    users = [(i, arg) for i, (kw, arg) in enumerate(ins) if kw == "USER"]
    assert users, "Dockerfile has no USER line"
    last_index, last_user = users[-1]
    assert last_user.split(":")[0] not in {"root", "0"}
    # Nothing after the final USER switches back or installs as that user.
    assert all(kw != "RUN" or "pip install" not in arg for kw, arg in ins[last_index:])


def test_dockerfile_cmd_is_gunicorn_on_the_app_factory():
    cmds = [arg for kw, arg in _instructions() if kw == "CMD"]
    assert len(cmds) == 1
    assert json.loads(cmds[0]) == GUNICORN


def test_dockerfile_healthcheck_hits_healthz_with_urllib():
    checks = [arg for kw, arg in _instructions() if kw == "HEALTHCHECK"]
    assert len(checks) == 1
    check = checks[0]
    assert "CMD" in check and HEALTH_URL in check and "urllib.request" in check
    exec_form = check[check.index("CMD") + 3:].strip()
    argv = json.loads(exec_form)
    assert argv[:2] == ["python", "-c"]
    compile(argv[2], "<healthcheck>", "exec")  # the one-liner is valid Python


def test_dockerignore_keeps_local_state_and_secrets_out():
    assert DOCKERIGNORE.is_file()
    entries = {line.strip().rstrip("/") for line in DOCKERIGNORE.read_text().splitlines()
               if line.strip() and not line.startswith("#")}
    for required in (".venv", ".git", "var", ".env", ".pytest_cache", ".hypothesis"):
        assert required in entries, required
    assert any("__pycache__" in e for e in entries)
    assert "pyproject.toml" not in entries and "admin_app" not in entries


# --- .env.example -------------------------------------------------------------------


def test_env_example_lists_every_host_variable_without_real_secrets():
    assert ENV_EXAMPLE.is_file()
    text = ENV_EXAMPLE.read_text()
    values = dict(line.split("=", 1) for line in text.splitlines()
                  if line.strip() and not line.lstrip().startswith("#"))
    referenced = set(re.findall(r"\$\{([A-Z_][A-Z0-9_]*)", COMPOSE.read_text()))
    assert set(SECRETS) <= referenced
    assert referenced <= set(values), f"missing from .env.example: {referenced - set(values)}"
    for secret in SECRETS + ("MONGO_ROOT_PASSWORD", "MONGO_APP_PASSWORD", "MONGO_BACKUP_PASSWORD", "REDIS_PASSWORD",
                             "MONGO_REPLICA_KEY", "SMTP_PASSWORD"):
        assert values[secret] == "", f"{secret} must be left empty in .env.example"
    assert "Fernet.generate_key()" in text
    assert "secrets.token_urlsafe(48)" in text


# --- deploy/mongo/backup.sh -----------------------------------------------------------


def _backup(*args, env=None, folder=None):
    import os
    import subprocess

    environment = {"PATH": os.environ["PATH"], "BACKUP_DIR": str(folder or ROOT), **(env or {})}
    return subprocess.run(["sh", str(BACKUP_SCRIPT), *args], env=environment, capture_output=True, text=True,
                          timeout=300)


def test_the_backup_script_explains_itself_when_asked_wrongly(tmp_path):
    for args in (("restore",), ("restore", "missing.archive.gz"), ("rotate",)):
        result = _backup(*args, env={"MONGO_BACKUP_PASSWORD": "x"}, folder=tmp_path)
        assert result.returncode == 2, args
        assert "Usage: backup.sh" in result.stderr and "Traceback" not in result.stderr


def test_a_backup_restores_what_was_there(tmp_path):
    """mongodump then mongorestore through the script, against the MongoDB server the suite uses."""
    import os
    import shutil

    from pymongo import MongoClient

    uri = os.environ.get("MONGODB_URI")
    if not uri or not (shutil.which("mongodump") and shutil.which("mongorestore")):
        pytest.skip("needs MONGODB_URI (a real server) and the MongoDB database tools")
    database = f"{os.environ.get('MONGODB_TEST_DB', 'e4e_test')}_backup"
    client = MongoClient(uri)
    client.drop_database(database)
    client[database].clients.insert_many([{"reference": f"E4E-B{n:04d}"} for n in range(50)])
    env = {"MONGO_URI": uri, "MONGO_DB": database}
    dumped = _backup("dump", env=env, folder=tmp_path)
    assert dumped.returncode == 0, dumped.stderr
    [archive] = list(tmp_path.glob(f"{database}-*.archive.gz"))
    client[database].clients.delete_many({"reference": {"$gte": "E4E-B0010"}})
    client[database].clients.insert_one({"reference": "written after the backup"})
    restored = _backup("restore", archive.name, env=env, folder=tmp_path)
    assert restored.returncode == 0, restored.stderr
    references = sorted(doc["reference"] for doc in client[database].clients.find())
    assert references == [f"E4E-B{n:04d}" for n in range(50)]
    client.drop_database(database)
