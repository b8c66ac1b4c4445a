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

SERVICES = {"mongo", "redis", "web", "worker", "beat", "mailcatcher"}
APP_SERVICES = ("web", "worker", "beat")
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


def test_all_six_services_exist(services):
    assert set(services) == SERVICES


def test_every_service_has_a_real_healthcheck(services):
    for name, service in services.items():
        hc = service.get("healthcheck")
        assert hc, f"{name} has no healthcheck"
        assert not hc.get("disable"), f"{name} disables its healthcheck"
        test = hc.get("test")
        assert test, f"{name} healthcheck has no test"
        if isinstance(test, list):
            assert test[0] in {"CMD", "CMD-SHELL"}, f"{name}: {test[0]!r}"
            assert len(test) > 1


def test_every_service_restarts_unless_stopped(services):
    for name, service in services.items():
        assert service.get("restart") == "unless-stopped", name


def test_mongo_is_a_single_node_replica_set_that_initiates_itself(services):
    mongo = services["mongo"]
    assert str(mongo["image"]).startswith("mongo:7")
    argv = _argv(mongo["command"])
    assert "--replSet" in argv and argv[argv.index("--replSet") + 1] == "rs0"
    assert "--bind_ip_all" in argv
    check = _test_text(mongo["healthcheck"])
    assert "mongosh" in check
    assert "rs.initiate(" in check
    assert "_id:'rs0'" in check.replace('"', "'").replace(" ", "")
    assert "mongo:27017" in check


def test_redis_persists_and_pings(services):
    redis = services["redis"]
    assert str(redis["image"]).startswith("redis:7")
    assert "--appendonly" in _argv(redis["command"])
    assert _argv(redis["command"])[_argv(redis["command"]).index("--appendonly") + 1] == "yes"
    assert "redis-cli ping" in _test_text(redis["healthcheck"])


def test_mailcatcher_is_mailpit_with_ui_and_smtp_ports(services):
    mail = services["mailcatcher"]
    assert str(mail["image"]).startswith("axllent/mailpit")
    ports = {str(p) for p in mail["ports"]}
    assert "8025:8025" in ports and "1025:1025" in ports


def test_named_volumes_are_declared_and_used(compose, services):
    declared = set(compose.get("volumes") or {})
    assert {"mongo-data", "redis-data"} <= declared
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
    assert uri.startswith("mongodb://mongo:27017/")
    assert "replicaSet=rs0" in uri
    assert env["MONGODB_DB"] == "e4e"
    assert env["CELERY_BROKER_URL"].startswith("redis://redis:6379/")
    assert env["CELERY_RESULT_BACKEND"].startswith("redis://redis:6379/")
    assert env["RATELIMIT_STORAGE_URI"].startswith("redis://redis:6379/")
    # Broker, results and rate limits must not share a Redis database.
    assert len({env["CELERY_BROKER_URL"], env["CELERY_RESULT_BACKEND"], env["RATELIMIT_STORAGE_URI"]}) == 3
    assert env["SMTP_HOST"] == "mailcatcher"
    assert env["SMTP_PORT"] == "1025"
    assert env["SMTP_TLS"].lower() == "false"
    assert env["MAIL_FROM"] and env["BASE_URL"]
    assert env["TWO_FACTOR_REQUIRED_ROLES"] == "${TWO_FACTOR_REQUIRED_ROLES:-admin,manager}"


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
    assert "8000:8000" in {str(p) for p in web["ports"]}
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
    assert ins[0] == ("FROM", "python:3.11-slim")
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
    for secret in SECRETS:
        assert values[secret] == "", f"{secret} must be left empty in .env.example"
    assert "Fernet.generate_key()" in text
    assert "secrets.token_urlsafe(48)" in text
