"""A real PostgreSQL server for the stack, from the machine's binaries, never run as root.

As root, the server runs as the unprivileged `postgres` user (Debian's package creates it) with its
data directory under /tmp, where that user can reach it. Two roles are made: `citadel_owner` owns
the database and runs the gateway's migrations; `citadel_app` is what the gateway serves with and
cannot change the schema.
"""
from __future__ import annotations

import fcntl
import glob
import hashlib
import os
import pwd
import secrets
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg import sql

DATABASE = "citadel_ai"
OWNER_ROLE = "citadel_owner"
APP_ROLE = "citadel_app"
SUPERUSER = "citadel_super"
SERVICE_USER = "postgres"
SERVER_LOG = "server.log"


class PostgresUnavailable(RuntimeError):
    """No PostgreSQL server binaries, or no unprivileged user to run them as."""


@dataclass(frozen=True)
class PostgresInstance:
    """A running server: where its data lives and how to reach it."""

    data_dir: Path
    port: int
    owner_password: str
    app_password: str
    bindir: Path
    run_as: str | None

    def dsn(self, role: str = APP_ROLE) -> str:
        """A libpq URL for `citadel_owner` or `citadel_app` over TCP (it holds a password: a secret)."""
        password = self.owner_password if role == OWNER_ROLE else self.app_password
        return f"postgresql://{role}:{password}@127.0.0.1:{self.port}/{DATABASE}"

    def superuser_conninfo(self, dbname: str = "postgres") -> str:
        """Local-socket connection as the superuser (trusted on the socket only)."""
        return f"host={self.data_dir} port={self.port} user={SUPERUSER} dbname={dbname}"


def find_bindir() -> Path:
    """The directory with initdb and pg_ctl: PG_BINDIR, Debian's newest postgresql-NN, or the PATH."""
    explicit = os.environ.get("PG_BINDIR")
    candidates = [explicit] if explicit else []
    candidates += sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=_version_key, reverse=True)
    which = shutil.which("initdb")
    if which:
        candidates.append(str(Path(which).parent))
    for candidate in candidates:
        if candidate and (Path(candidate) / "initdb").exists() and (Path(candidate) / "pg_ctl").exists():
            return Path(candidate)
    raise PostgresUnavailable(
        "no PostgreSQL server binaries found (initdb, pg_ctl): run the set-up (`make setup`), "
        "install Debian's postgresql package, or set PG_BINDIR to the directory holding initdb"
    )


def _version_key(path: str) -> int:
    try:
        return int(Path(path).parent.name)
    except ValueError:
        return 0


def _run_as_user() -> str | None:
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam(SERVICE_USER)
    except KeyError as exc:
        raise PostgresUnavailable(
            f"PostgreSQL refuses to run as root and there is no {SERVICE_USER!r} user to run it as: "
            f"create one (useradd --system {SERVICE_USER}) or run the suite as an ordinary user"
        ) from exc
    return SERVICE_USER


def _run(argv: list[str], run_as: str | None, log_path: Path) -> None:
    with open(log_path, "ab") as log:
        result = subprocess.run(argv, user=run_as, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                timeout=120, start_new_session=True)
    if result.returncode != 0:
        tail = "\n".join(log_path.read_text(errors="replace").splitlines()[-15:])
        raise RuntimeError(f"{' '.join(argv[:2])} failed with exit {result.returncode}; last lines of {log_path}:\n{tail}")


def new_passwords() -> tuple[str, str]:
    """Fresh passwords for the owner and the application role (known before the server starts)."""
    return secrets.token_urlsafe(24), secrets.token_urlsafe(24)


def start(port: int, log_path: Path, max_connections: int = 300,
          passwords: tuple[str, str] | None = None) -> PostgresInstance:
    """initdb a fresh cluster, start it on 127.0.0.1:`port`, and create the roles and the database.

    `passwords` (owner, application) lets clients be configured before the server is up.
    """
    bindir = find_bindir()
    run_as = _run_as_user()
    data_dir = _private_dir("citadel-pg-", run_as)
    # A copy of a cluster initdb made once for these binaries: the same files, without initdb's second of work.
    _run(["cp", "-a", f"{_template(bindir, run_as, log_path)}/.", str(data_dir)], None, log_path)
    options = (f"-h 127.0.0.1 -p {port} -k {data_dir} -c shared_preload_libraries=pg_stat_statements "
               f"-c max_connections={max_connections} -c fsync=off -c synchronous_commit=off")
    # The server writes its own log inside its data directory: the stack's log folder may be out of its reach.
    _run([str(bindir / "pg_ctl"), "-D", str(data_dir), "-w", "-t", "30", "-l", str(data_dir / SERVER_LOG), "-o", options,
          "start"], run_as, log_path)
    owner_password, app_password = passwords or new_passwords()
    instance = PostgresInstance(data_dir=data_dir, port=port, owner_password=owner_password,
                                app_password=app_password, bindir=bindir, run_as=run_as)
    _create_roles_and_database(instance)
    return instance


INITDB_OPTIONS = ("-U", SUPERUSER, "--auth-local=trust", "--auth-host=scram-sha-256", "--no-sync", "-E", "UTF8",
                  "--locale=C")


def _private_dir(prefix: str, run_as: str | None) -> Path:
    """A new folder under /tmp, mode 0700, owned by the user the server runs as."""
    directory = Path(tempfile.mkdtemp(prefix=prefix, dir="/tmp"))
    if run_as:
        user = pwd.getpwnam(run_as)
        os.chown(directory, user.pw_uid, user.pw_gid)
    os.chmod(directory, 0o700)
    return directory


def _template(bindir: Path, run_as: str | None, log_path: Path) -> Path:
    """A fresh cluster (initdb with INITDB_OPTIONS) for these binaries, made once per machine and kept in /tmp."""
    key = hashlib.sha256(f"{bindir}|{run_as}|{' '.join(INITDB_OPTIONS)}".encode()).hexdigest()[:16]
    template = Path("/tmp") / f"citadel-pg-template-{key}"
    if (template / "PG_VERSION").exists():
        return template
    with open(Path("/tmp") / f"citadel-pg-template-{key}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # stacks started side by side make it once
        if not (template / "PG_VERSION").exists():
            building = _private_dir(f"citadel-pg-template-{key}-", run_as)
            _run([str(bindir / "initdb"), "-D", str(building), *INITDB_OPTIONS], run_as, log_path)
            building.rename(template)  # whole or not at all
    return template


def _create_roles_and_database(instance: PostgresInstance) -> None:
    with psycopg.connect(instance.superuser_conninfo(), autocommit=True, connect_timeout=10) as conn:
        conn.execute(sql.SQL("CREATE ROLE {} LOGIN CREATEDB PASSWORD {}").format(
            sql.Identifier(OWNER_ROLE), sql.Literal(instance.owner_password)))
        conn.execute(sql.SQL("CREATE ROLE {} LOGIN PASSWORD {} NOSUPERUSER NOCREATEDB NOCREATEROLE").format(
            sql.Identifier(APP_ROLE), sql.Literal(instance.app_password)))
        conn.execute(sql.SQL("CREATE DATABASE {} OWNER {}").format(sql.Identifier(DATABASE), sql.Identifier(OWNER_ROLE)))
    with psycopg.connect(instance.superuser_conninfo(DATABASE), autocommit=True, connect_timeout=10) as conn:
        conn.execute(sql.SQL("ALTER SCHEMA public OWNER TO {}").format(sql.Identifier(OWNER_ROLE)))
        conn.execute("REVOKE CREATE ON SCHEMA public FROM PUBLIC")
        conn.execute(sql.SQL("GRANT USAGE ON SCHEMA public TO {}").format(sql.Identifier(APP_ROLE)))
        conn.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")


def grant_schema_ddl(instance: PostgresInstance) -> None:
    """Let the application role create objects in the public schema (fault app_role_can_ddl only)."""
    with psycopg.connect(instance.superuser_conninfo(DATABASE), autocommit=True, connect_timeout=10) as conn:
        conn.execute(sql.SQL("GRANT CREATE ON SCHEMA public TO {}").format(sql.Identifier(APP_ROLE)))


def is_running(data_dir: Path) -> bool:
    """True when the postmaster of `data_dir` runs."""
    pid_file = data_dir / "postmaster.pid"
    try:
        pid = int(pid_file.read_text().splitlines()[0])
        os.kill(pid, 0)
        return True
    except (OSError, ValueError, IndexError):
        return False


def stop(data_dir: Path, bindir: Path, log_path: Path, remove: bool = True) -> None:
    """Stop the server (fast shutdown) and remove its data directory."""
    if is_running(data_dir):
        run_as = _run_as_user()
        try:
            _run([str(bindir / "pg_ctl"), "-D", str(data_dir), "-m", "fast", "-w", "-t", "30", "stop"], run_as, log_path)
        except RuntimeError:
            time.sleep(0.5)
    server_log = data_dir / SERVER_LOG
    if server_log.exists():
        shutil.copyfile(server_log, log_path.with_name("postgres-server.log"))
    if remove and data_dir.name.startswith("citadel-pg-"):
        shutil.rmtree(data_dir, ignore_errors=True)
