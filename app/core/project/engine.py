"""Where a project lives (a `*.corroscope` SQLite file or a PostgreSQL URL), its engine, and migrations.

SQLite runs in WAL mode with foreign keys on; every transaction is an explicit BEGIN (DDL included,
which Python's sqlite3 would otherwise commit on its own), writes take the write lock at BEGIN
(IMMEDIATE), so two windows on one file queue instead of failing half-way.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import socket
import sqlite3
import sys
import threading
import weakref
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import make_url

from app.core.budget import env_number
from app.core.errors import ProjectError
from app.core.project.schema import MIGRATIONS, SCHEMA_VERSION, now_utc, v1_metadata
from app.core.project.sqlite_files import COMPANIONS, companions, empty_file_text, sqlite_problem
from app.core.project.url_secrets import (
    HIDDEN,
    MARK,
    SECRET_KEYS,
    check_user_part,
    redact,
    remember_secrets,
)
from app.core.text import counted, safe_text

log = logging.getLogger(__name__)

SUFFIX = ".corroscope"
BUSY_TIMEOUT_MS = 15_000  # another window's write waits this long before "database is locked"
# A server that does not answer (a wrong host, a firewall that drops packets) fails after this many
# seconds instead of the operating system's minutes; a `connect_timeout` in the URL wins.
CONNECT_SECONDS_ENV = "CORROSCOPE_DB_CONNECT_SECONDS"
CONNECT_SECONDS = 10
# A server that vanished once connected (unplugged, a VPN dropped, no reset ever comes) is noticed
# in ~20 s instead of TCP's minutes or hours: idle 10 s, then a probe every 5 s, 3 unanswered end it
# (25 s); on Linux 20 s without an acknowledgement end it (tcp_user_timeout, which also caps the
# probes). `python -m bench.server_vanish` measures it. A value in the URL wins.
KEEPALIVES = {"keepalives": 1, "keepalives_idle": 10, "keepalives_interval": 5, "keepalives_count": 3}
TCP_USER_TIMEOUT_MS = 20_000
_WRITE = "corroscope_write"


@dataclass
class _Connections:
    """The DBAPI connections a server engine made (so `abort` can end them), and whether it may make more."""

    made: weakref.WeakSet = field(default_factory=weakref.WeakSet)
    aborted: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock)  # workers connect while `abort` looks


_SERVER_CONNECTIONS: weakref.WeakKeyDictionary[sa.Engine, _Connections] = weakref.WeakKeyDictionary()


@dataclass(frozen=True)
class Location:
    """A project's place: `file` for SQLite, else a server `url` (shown without its password)."""

    url: sa.URL
    file: Path | None

    @property
    def display(self) -> str:
        """The file, or the URL as a user writes it: no driver name (`postgresql://`), a password (in
        `user:password@` or `?password=`) shown as ***, so a panel, a PDF header or a log never holds it."""
        if self.file is not None:
            return str(self.file)
        hidden = {k: MARK for k in SECRET_KEYS if k in self.url.query}
        url = self.url.set(drivername=self.url.get_backend_name()).update_query_dict(hidden)
        return url.render_as_string(hide_password=True).replace(MARK, HIDDEN)

    @property
    def reopen_url(self) -> str:
        """The server URL to offer next time (saved in the settings): as typed, without the password in
        either place ("" for a file)."""
        if self.file is not None:
            return ""
        u = self.url  # URL.set keeps a field given None: the URL is built again without the password
        query = {k: v for k, v in u.query.items() if k not in SECRET_KEYS}
        url = sa.URL.create(u.get_backend_name(), u.username, None, u.host, u.port, u.database, query)
        return url.render_as_string(hide_password=False)

    @property
    def server(self) -> str:
        """The server's host:port ("" for a file), to name it where the whole URL is too long."""
        if self.file is not None:
            return ""
        host = self.url.host or "localhost"
        return f"{host}:{self.url.port}" if self.url.port else host

    @property
    def folder(self) -> Path | None:
        """The folder photo paths are stored relative to (the project file's); None on a server."""
        return None if self.file is None else self.file.parent


def is_url(target: str | os.PathLike[str]) -> bool:
    return "://" in str(target)


def locate(target: str | os.PathLike[str]) -> Location:
    """A path (`site`, when no such file exists, means `site.corroscope`) or a database URL."""
    if is_url(target):
        check_user_part(str(target))
        try:
            url = make_url(str(target))
        except sa.exc.ArgumentError:  # its message quotes the URL, password and all
            raise ProjectError(f"Not a database URL: {redact(str(target))}") from None
        remember_secrets(url)
        if url.drivername in ("postgres", "postgresql"):  # postgres://: libpq's other spelling
            url = url.set(drivername="postgresql+psycopg")  # psycopg 3, the `team` extra
        if url.get_backend_name() == "sqlite":
            return locate(url.database or "")
        if url.get_backend_name() != "postgresql":
            raise ProjectError(f"Projects live in a file or on PostgreSQL; {url.drivername}:// is neither")
        return Location(url, None)
    path = Path(target).expanduser().absolute()
    if not path.suffix and not path.exists():
        path = path.with_name(path.name + SUFFIX)
    return Location(sa.URL.create("sqlite", database=str(path)), path)


def on_read_only_medium(path: Path) -> bool:
    """Whether `path` lies on a file system mounted read-only (a write-protected card, a CD, a
    read-only share): nobody can write the project there, so SQLite may read it as immutable."""
    try:
        return bool(os.statvfs(path).f_flag & os.ST_RDONLY)
    except (OSError, AttributeError):  # no statvfs (Windows)
        return False


def read_only_reason(path: Path) -> str | None:
    """Why the project at `path` cannot be written here, or None: SQLite in WAL mode cannot open a
    database read-only without its `-shm` file, so the caller says so instead of "not a project"."""
    if on_read_only_medium(path):
        return "it is on a read-only medium"
    if not os.access(path, os.W_OK) or not os.access(path.parent, os.W_OK):
        return "you may not write to it or its folder (SQLite needs to, even to read a project)"
    return None


def sqlite_uri(path: Path, immutable: bool = False) -> str:
    return f"{path.as_uri()}?mode=ro" + ("&immutable=1" if immutable else "")


def check_sqlite_project(path: Path) -> None:
    """Refuse a file that is not a project before our engine touches it (it would switch the file of
    another program to WAL mode): a read-only look for our schema_version table."""
    immutable = on_read_only_medium(path)
    if path.stat().st_size == 0:  # SQLite would read it as a database with no tables
        raise ProjectError(empty_file_text())
    before = companions(path)
    try:
        with contextlib.closing(sqlite3.connect(sqlite_uri(path, immutable), uri=True)) as conn:
            found = conn.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'"
            ).fetchone()
    except sqlite3.Error as exc:
        # the -wal and -shm files this look made go: a damaged file is kept exactly as it was
        remove_made(tuple(companions(path) - before))
        why = read_only_reason(path)
        if why is not None and "unable to open" in str(exc):
            raise ProjectError(f"the project cannot be opened here: {why}") from None
        raise ProjectError(sqlite_problem(exc, path)) from None
    if found is None:
        raise ProjectError("not a Corroscope project (it has no schema_version table)")


def _sqlite_connect(dbapi_conn, _record) -> None:
    dbapi_conn.isolation_level = None  # we say BEGIN ourselves (see the module docstring)
    cur = dbapi_conn.cursor()
    cur.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    cur.execute("PRAGMA foreign_keys = ON")
    mode = cur.execute("PRAGMA journal_mode = WAL").fetchone()[0]
    if str(mode).lower() != "wal":  # e.g. some network file systems
        log.warning("project file cannot use WAL mode here (journal mode %s)", mode)
    cur.execute("PRAGMA synchronous = FULL")  # a committed inspection survives a power cut too
    cur.close()


def _sqlite_begin(conn: sa.Connection) -> None:
    conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get(_WRITE) else "BEGIN")


def _sqlite_read_only_connect(dbapi_conn, _record) -> None:
    dbapi_conn.isolation_level = None
    dbapi_conn.execute("PRAGMA foreign_keys = ON")


def make_engine(location: Location, read_only: bool = False) -> sa.Engine:
    """The project's engine; `read_only`: a SQLite file on a read-only medium, opened immutable (reads
    work, every write fails)."""
    if read_only and location.file is not None:
        uri = sqlite_uri(location.file, immutable=True)
        engine = sa.create_engine("sqlite://", creator=lambda: sqlite3.connect(uri, uri=True))
        sa.event.listen(engine, "connect", _sqlite_read_only_connect)
        sa.event.listen(engine, "begin", _sqlite_begin)
        return engine
    if location.file is None:
        try:
            engine = sa.create_engine(
                location.url, pool_pre_ping=True, connect_args=_connect_args(location.url)
            )
        except ImportError as exc:  # no psycopg, or psycopg without a libpq to load
            raise ProjectError(_driver_missing(exc)) from None
        _track_connections(engine)
        return engine
    # No connection is kept open between transactions. SQLite's locks on Linux and macOS are POSIX
    # advisory locks, which belong to the process: when any code of this process opens and closes the
    # project file (a Qt file dialog sniffing the files of the folder it shows does), every lock of our
    # open connections is gone, another program on the file then deletes the WAL we still write to, and
    # both programs' writes end up in different files (one's lost, or the file corrupt). Holding no
    # connection while idle leaves nothing to lose; opening one costs well under a millisecond.
    engine = sa.create_engine(location.url, poolclass=sa.pool.NullPool)
    sa.event.listen(engine, "connect", _sqlite_connect)
    sa.event.listen(engine, "begin", _sqlite_begin)
    return engine


def _connect_args(url: str | sa.URL) -> dict[str, int]:
    """libpq's `connect_timeout` (whole seconds, at least 2 as libpq takes it) and TCP keepalives
    (`KEEPALIVES`, and `tcp_user_timeout` on Linux), each unless the URL sets it."""
    defaults: dict[str, int] = {
        "connect_timeout": max(2, round(env_number(CONNECT_SECONDS_ENV, CONNECT_SECONDS))),
        **KEEPALIVES,
    }
    if sys.platform.startswith("linux"):  # libpq takes it only where the kernel has TCP_USER_TIMEOUT
        defaults["tcp_user_timeout"] = TCP_USER_TIMEOUT_MS
    given = make_url(url).query
    return {k: v for k, v in defaults.items() if k not in given}


def _track_connections(engine: sa.Engine) -> None:
    state = _SERVER_CONNECTIONS[engine] = _Connections()

    def made(dbapi_conn, _record) -> None:
        with state.lock:
            state.made.add(dbapi_conn)

    def refuse(dialect, _record, _cargs, _cparams) -> None:
        if state.aborted:  # a DBAPI error, so SQLAlchemy reports it as any failed connection
            raise dialect.loaded_dbapi.OperationalError("the project was closed")

    sa.event.listen(engine, "connect", made)
    sa.event.listen(engine, "do_connect", refuse)


def abort(engine: sa.Engine) -> None:
    """End every connection of a server engine now, from any thread: a query another thread waits on
    (a stalled server may never answer) fails at once, and the engine makes no new connection. The
    socket is shut down under libpq, which then reports the connection closed; SQLite: nothing."""
    state = _SERVER_CONNECTIONS.get(engine)
    if state is None:
        return
    with state.lock:
        state.aborted = True
        connections = list(state.made)
    for conn in connections:
        with contextlib.suppress(Exception):  # closed already: nothing to end
            fd = conn.pgconn.socket
            with socket.fromfd(fd, socket.AF_INET, socket.SOCK_STREAM) as dup:  # a duplicate descriptor:
                dup.shutdown(socket.SHUT_RDWR)  # shutting it down ends libpq's socket, closing it does not


def writer(engine: sa.Engine) -> sa.Engine:
    """The engine whose transactions take the write lock at BEGIN (SQLite; PostgreSQL ignores it)."""
    return engine.execution_options(**{_WRITE: True})


def create_schema(engine: sa.Engine) -> None:
    """The v1 DDL and every migration, in one transaction."""
    with writer(engine).begin() as conn:
        tables = sorted(sa.inspect(conn).get_table_names())
        if "schema_version" in tables:
            raise ProjectError("This database already holds a Corroscope project; open it instead")
        if tables:  # another program's tables: ours could clash with them, and its data is not ours to mix
            names = ", ".join(safe_text(t) for t in tables[:5]) + (", …" if len(tables) > 5 else "")
            raise ProjectError(
                f"This database already holds {counted(len(tables), 'table')} of another program "
                f"({names}); create the project in an empty database"
            )
        v1_metadata().create_all(conn)
        first = sa.text("INSERT INTO schema_version (version, applied_at) VALUES (1, :t)")
        conn.execute(first, {"t": now_utc()})
        _migrate(conn, 1)


def stored_version(conn: sa.Connection) -> int:
    if not sa.inspect(conn).has_table("schema_version"):
        raise ProjectError("not a Corroscope project (it has no schema_version table)")
    version = conn.execute(sa.text("SELECT MAX(version) FROM schema_version")).scalar()
    if version is None:
        raise ProjectError("not a Corroscope project (its schema_version table is empty)")
    return int(version)


def upgrade(engine: sa.Engine, display: str, unwritable: str | None = None) -> int:
    """Bring the project to `SCHEMA_VERSION` (one transaction); returns the version it had. `unwritable`:
    why the file cannot be written here (an older one is then refused with what to do, unread)."""
    with engine.connect() as conn:
        version = stored_version(conn)
    if version > SCHEMA_VERSION:
        raise ProjectError(
            f"{display} was made by a newer Corroscope (schema {version}; this one reads up to "
            f"{SCHEMA_VERSION}); update Corroscope to open it"
        )
    if version == SCHEMA_VERSION:
        return version
    if unwritable is not None:  # this version reads only its own tables: the upgrade must come first
        raise ProjectError(
            f"it was made by an older Corroscope (schema {version}) and is upgraded once when first "
            f"opened, which writes to it, but {unwritable}; copy it to a folder you may write to and "
            "open the copy (it is upgraded there; this file stays as it is)"
        )
    with writer(engine).begin() as conn:
        if conn.dialect.name == "postgresql":  # two apps opening an old project: one migrates
            conn.exec_driver_sql("LOCK TABLE schema_version IN EXCLUSIVE MODE")
        now = stored_version(conn)  # another window may have migrated while we waited for the lock
        _migrate(conn, now)
    log.info("migrated %s from schema %d to %d", display, version, SCHEMA_VERSION)
    return version


def _migrate(conn: sa.Connection, version: int) -> None:
    for v in range(version, SCHEMA_VERSION):
        MIGRATIONS[v](conn)
        conn.execute(
            sa.text("INSERT INTO schema_version (version, applied_at) VALUES (:v, :t)"),
            {"v": v + 1, "t": now_utc()},
        )


def db_reason(exc: sa.exc.SQLAlchemyError) -> str:
    """The database's own first line of why (with what to do for a lock held too long)."""
    orig = getattr(exc, "orig", None)
    text = redact(str(orig or exc).strip().splitlines()[0])  # libpq may quote what it was given
    if text == "database is locked":  # SQLite's words, after waiting BUSY_TIMEOUT_MS for the other writer
        return f"{text} (another program kept writing to it for {BUSY_TIMEOUT_MS / 1000:g} s; try again)"
    return text


def make_sqlite_file(path: Path) -> tuple[Path, ...]:
    """Make the project file, empty, exclusively (O_EXCL): of two `create` runs on one path one makes
    it and the other is told it exists, never both writing one file. Returns what this call made (the
    file, and its companions as they were not there before): all `remove_made` may delete. An OSError
    becomes a one-line ProjectError (a read-only medium, a folder the user may not write, ...)."""
    before = {extra for extra in COMPANIONS if Path(str(path) + extra).exists()}
    try:
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o666))
    except FileExistsError:
        raise ProjectError(f"{path} already exists; open it, or choose another name") from None
    except OSError as exc:
        raise ProjectError(f"Cannot create {path}: {_create_problem(exc)}") from None
    return (path, *(Path(str(path) + extra) for extra in COMPANIONS if extra not in before))


def _create_problem(exc: OSError) -> str:
    if exc.errno == errno.EROFS:
        return "the folder is on a read-only medium"
    if exc.errno in (errno.EACCES, errno.EPERM):
        return "you may not write to its folder"
    return exc.strerror or str(exc)


def remove_made(made: tuple[Path, ...]) -> None:
    """Remove a project file this process made and then could not fill, with the companion files it
    made (`make_sqlite_file`); a file that cannot be removed is logged, never raised over the reason."""
    for path in made:
        try:
            path.unlink()
        except FileNotFoundError:
            pass
        except OSError as exc:
            log.warning("could not remove %s: %s", path, exc.strerror or exc)


def _driver_missing(exc: ImportError) -> str:
    """What a user can do when the PostgreSQL driver cannot load: the packaged program brings psycopg but
    uses the system's libpq; from source, the `team` extra brings both."""
    if isinstance(exc, ModuleNotFoundError):
        return (
            f"A project on a PostgreSQL server needs the driver psycopg ({exc}); "
            "install it with: pip install 'corroscope[team]'"
        )
    return (
        "A project on a PostgreSQL server needs the PostgreSQL client library libpq, which this system "
        "lacks (Debian, Ubuntu: sudo apt install libpq5; Fedora: sudo dnf install libpq); "
        f"the driver said: {safe_text(_last_line(exc))}"
    )


def _last_line(exc: BaseException) -> str:
    """psycopg's import error lists its attempts; the last (the pure-Python one) names what is missing."""
    lines = [line.strip(" -") for line in str(exc).splitlines() if line.strip(" -")]
    return lines[-1] if lines else type(exc).__name__
