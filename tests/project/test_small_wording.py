"""Small messages of the project commands said right: a folder beside its project file names the file,
and an export in the way says "it" for one file, "them" for several."""

from __future__ import annotations

from pathlib import Path

from app import cli
from app.core.project import Project


def test_a_folder_beside_its_project_file_names_the_file(tmp_path: Path, capsys) -> None:
    Project.create(tmp_path / "site.corroscope").close()
    (tmp_path / "site").mkdir()  # the photos' folder, named as the project
    assert cli.main(["project", "list", str(tmp_path / "site")]) == 2
    err = capsys.readouterr().err
    assert (
        f"{tmp_path / 'site'} is a folder, not a project; did you mean {tmp_path / 'site.corroscope'}?" in err
    )


def test_an_export_in_the_way_says_it_or_them(tmp_path: Path, capsys) -> None:
    project, out = tmp_path / "site.corroscope", tmp_path / "exp2"
    Project.create(project).close()
    out.mkdir()
    (out / "trends.csv").write_text("mine")
    assert cli.main(["project", "export", str(project), "--out", str(out)]) == 2
    assert f"{out} already holds trends.csv (pass --overwrite to replace it)" in capsys.readouterr().err
    (out / "project.csv").write_text("mine")
    assert cli.main(["project", "export", str(project), "--out", str(out)]) == 2
    assert "(pass --overwrite to replace them)" in capsys.readouterr().err
