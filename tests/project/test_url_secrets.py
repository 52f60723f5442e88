"""A password given in a server URL is never shown nor kept: not as `user:password@`, not as a
`?password=` option, not in a driver's error, and an unescaped @ in it is refused without echoing it."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from app import cli
from app.core.errors import ProjectError
from app.core.project import Project
from app.core.project import engine as eng

SECRET = "S3cretPw!"
FORMS = (
    f"postgresql://insp@127.0.0.1:55433/corr?password={SECRET}",
    f"postgresql://127.0.0.1:55433/corr?user=insp&password={SECRET}&sslmode=prefer",
    f"postgresql:///corr?host=/tmp&password={SECRET}",
    f"postgresql://insp:{SECRET}@127.0.0.1:55433/corr",
    f"postgresql://insp@127.0.0.1/corr?sslpassword={SECRET}",
)


def _shows_no_secret(text: str) -> bool:
    return "S3cret" not in text and "%21" not in text


@pytest.mark.parametrize("url", FORMS)
def test_display_and_the_saved_url_hold_no_password(url: str) -> None:
    location = eng.locate(url)
    assert _shows_no_secret(location.display) and "***" in location.display
    assert _shows_no_secret(location.reopen_url)  # what the window saves as settings.last_server_url
    assert eng.locate(location.reopen_url).url.database == "corr"  # still opens the same database
    assert "sslmode=prefer" in location.reopen_url or "sslmode" not in url


def test_list_on_a_server_never_prints_the_password(pg_database: str, capsys) -> None:
    url = sa.engine.make_url(pg_database).update_query_dict({"password": SECRET})
    typed = url.render_as_string(hide_password=False)  # the test server trusts: any password is taken
    assert cli.main(["project", "create", typed]) == 0
    assert cli.main(["project", "list", typed]) == 0
    out = capsys.readouterr()
    assert _shows_no_secret(out.out + out.err) and "password=***" in out.out


def test_an_error_line_never_prints_the_password(capsys) -> None:
    typed = f"postgresql://insp@127.0.0.1:1/corr?password={SECRET}&connect_timeout=2"  # nobody listens
    assert cli.main(["project", "list", typed]) == 2
    err = capsys.readouterr().err
    assert "error: Cannot open" in err and _shows_no_secret(err)


def test_a_drivers_message_is_scrubbed_of_known_passwords() -> None:
    eng.locate(f"postgresql://insp:{SECRET}@db.example.com/corr")

    class Fake(Exception):
        pass

    exc = sa.exc.OperationalError("SELECT 1", {}, Fake(f'failed for "{SECRET}" and password=hunter22'))
    reason = eng.db_reason(exc)
    assert _shows_no_secret(reason) and "hunter22" not in reason


def test_an_unescaped_at_in_the_password_is_refused_without_echoing_it(capsys) -> None:
    typed = "postgresql://insp:Wr@ngPw77@127.0.0.1:55433/corr"
    with pytest.raises(ProjectError, match="%40"):
        eng.locate(typed)
    assert cli.main(["project", "list", typed]) == 2
    err = capsys.readouterr().err
    assert "percent-encode @ in the password as %40" in err
    assert "ngPw77" not in err and "Wr@" not in err
    assert eng.locate("postgresql://insp:Wr%40ngPw77@127.0.0.1:55433/corr").url.password == "Wr@ngPw77"


def test_postgres_scheme_is_taken_as_postgresql(pg_database: str) -> None:
    typed = pg_database.replace("postgresql://", "postgres://", 1)
    assert eng.locate(typed).display.startswith("postgresql://")
    Project.create(typed).close()
    with Project.open(pg_database) as project:
        assert project.schema_version >= 1
