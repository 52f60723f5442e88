"""Projects in odd places (the second hostile pass): a project path that is a folder is called a folder;
a valid project on a read-only medium is read (list, trend, export) and never called "not a project";
one the user may not write says so."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from app import cli
from tests.reliability.conftest import ROOT, cli_command, cli_env, small_photos


def test_a_project_path_that_is_a_folder_is_called_a_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "site"
    folder.mkdir()
    assert cli.main(["project", "list", str(folder)]) == 2
    assert cli.main(["project", "create", str(folder)]) == 2
    err = capsys.readouterr().err
    assert err.count(f"{folder} is a folder") == 2, err
    assert "No project at" not in err and "already exists" not in err


def _project_with_an_inspection(folder: Path, model_path: Path) -> Path:
    photo = small_photos(folder / "photos", 1)[0]
    project = folder / "site.corroscope"
    assert cli.main(["project", "create", str(project)]) == 0
    add = ["project", "add", str(project), str(photo), "--asset", "P-1", "--date", "2026-01-02"]
    assert cli.main([*add, "--model", str(model_path), "--inspector", "Ann"]) == 0
    return project


def _read_only_bind(folder: Path, *command: str | os.PathLike[str]) -> subprocess.CompletedProcess[str]:
    """`command` run where `folder` is mounted read-only (a user and mount namespace: no root needed)."""
    script = 'mount --bind "$0" "$0" && mount -o remount,bind,ro "$0" && exec "$@"'
    return subprocess.run(
        ["unshare", "-rm", "sh", "-c", script, str(folder), *map(str, command)],
        capture_output=True,
        text=True,
        timeout=120,
        env=cli_env(),
        cwd=ROOT,
    )


def _namespaces_work(folder: Path) -> bool:
    if sys.platform != "linux" or shutil.which("unshare") is None:
        return False
    probe = _read_only_bind(folder, "sh", "-c", f'! touch "{folder}/probe" 2>/dev/null')
    return probe.returncode == 0


def test_a_project_on_a_read_only_medium_is_listed_trended_and_exported(
    tmp_path: Path, model_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    medium = tmp_path / "card"
    project = _project_with_an_inspection(medium, model_path)
    capsys.readouterr()
    if not _namespaces_work(medium):
        pytest.skip("no user and mount namespaces here (unshare -rm) to mount a folder read-only")
    before = sorted(p.name for p in medium.iterdir())
    listed = _read_only_bind(medium, *cli_command("project", "list", project))
    assert listed.returncode == 0 and "P-1" in listed.stdout and "Ann" in listed.stdout, listed
    trend = _read_only_bind(medium, *cli_command("project", "trend", project, "--asset", "P-1"))
    assert trend.returncode == 0 and "2026-01-02" in trend.stdout, trend
    out = tmp_path / "export"
    exported = _read_only_bind(medium, *cli_command("project", "export", project, "--out", out))
    assert exported.returncode == 0, exported
    assert "P-1" in (out / "project.csv").read_text("utf-8-sig")
    add = cli_command("project", "add", project, medium / "photos", "--asset", "P-2", "--date", "2026-02-02")
    added = _read_only_bind(medium, *add, "--model", model_path)
    assert added.returncode != 0 and "read-only medium" in added.stderr, added
    for done in (listed, trend, exported, added):
        assert "not a Corroscope project" not in done.stderr and "Traceback" not in done.stderr, done
    assert sorted(p.name for p in medium.iterdir()) == before


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root may write whatever the mode says")
def test_a_project_the_user_may_not_write_says_so(
    tmp_path: Path, model_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    medium = tmp_path / "share"
    project = _project_with_an_inspection(medium, model_path)
    capsys.readouterr()
    os.chmod(project, 0o444)
    os.chmod(medium, 0o555)
    try:
        assert cli.main(["project", "list", str(project)]) == 2
    finally:
        os.chmod(medium, 0o755)
    err = capsys.readouterr().err
    assert "may not write" in err and "not a Corroscope project" not in err, err


def test_an_export_folder_that_cannot_be_made_is_one_line_not_a_traceback(
    tmp_path: Path, model_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = _project_with_an_inspection(tmp_path, model_path)
    capsys.readouterr()
    in_the_way = project / "report"  # under a file: the folder cannot be made
    assert cli.main(["project", "export", str(project), "--out", str(in_the_way)]) == 1
    err = capsys.readouterr().err
    assert err.strip() == f"error: Cannot create the output folder {in_the_way}: Not a directory", err
