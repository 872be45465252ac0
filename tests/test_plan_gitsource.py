"""gitsource: a revision's data folders from git objects (no checkout), and its clear errors."""

from __future__ import annotations

import subprocess
from pathlib import Path

import git
import pytest

from pabx.errors import Report, UserError
from pabx.gitsource import SOURCE_FOLDERS, blob_id, materialized, tree_blobs, worktree_blobs
from pabx.loader import load_repository
from tests.test_plan import commit_all, edit, make_repo


def test_materialized_revision_holds_the_committed_data_folders(demo_repo: Path) -> None:
    g = make_repo(demo_repo)
    first = g.head.commit.hexsha
    edit(demo_repo / "tenants" / "acme.yaml", "contact: Maria Souza", "contact: Maria Souza Lima")
    commit_all(g, "second")
    (demo_repo / "tenants" / "acme.yaml").write_text("uncommitted edit\n", encoding="utf-8")
    index_before = Path(g.index.path).read_bytes()
    with materialized(demo_repo, first) as (commit, tmp):
        assert commit == first
        assert sorted(p.name for p in tmp.iterdir()) == sorted(
            f for f in SOURCE_FOLDERS if (demo_repo / f).is_dir()
        )
        text = (tmp / "tenants" / "acme.yaml").read_text(encoding="utf-8")
        assert "contact: Maria Souza\n" in text
        for rel in g.git.ls_tree("-r", "--name-only", first, "--", "tenants", "numbers").splitlines():
            assert (tmp / rel).read_bytes() == g.git.show(
                f"{first}:{rel}", stdout_as_string=False, strip_newline_in_stdout=False
            )
        report = Report()
        loaded = load_repository(tmp, report, use_cache=False)
        assert report.ok and "acme" in loaded.tenants
    assert not tmp.exists()
    # no checkout: the working tree, HEAD and the index are untouched
    assert (demo_repo / "tenants" / "acme.yaml").read_text(encoding="utf-8") == "uncommitted edit\n"
    assert Path(g.index.path).read_bytes() == index_before
    assert g.head.commit.message == "second"


def test_only_the_requested_paths(demo_repo: Path) -> None:
    make_repo(demo_repo)
    with materialized(demo_repo, "HEAD", ["tenants/acme.yaml", "plans/basico.yaml"]) as (_, tmp):
        files = sorted(p.relative_to(tmp).as_posix() for p in tmp.rglob("*") if p.is_file())
    assert files == ["plans/basico.yaml", "tenants/acme.yaml"]


def test_blob_ids_are_git_object_ids(demo_repo: Path) -> None:
    g = make_repo(demo_repo)
    commit, blobs = tree_blobs(demo_repo, "HEAD")
    assert commit == g.head.commit.hexsha
    assert blobs == worktree_blobs(demo_repo)
    assert blobs["tenants/acme.yaml"] == g.git.hash_object("tenants/acme.yaml")
    assert blob_id(b"") == "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391"


def test_unknown_revision(demo_repo: Path) -> None:
    make_repo(demo_repo)
    with pytest.raises(UserError, match=r"unknown revision 'v9\.9'"):
        tree_blobs(demo_repo, "v9.9")


def test_no_commit_yet(demo_repo: Path) -> None:
    git.Repo.init(demo_repo)
    with pytest.raises(UserError, match="no commit yet"):
        tree_blobs(demo_repo, "HEAD")


def test_not_a_git_repository(tmp_path: Path) -> None:
    folder = tmp_path / "plain"
    folder.mkdir()
    with pytest.raises(UserError, match="not inside a git repository"):
        tree_blobs(folder, "HEAD")


def test_shallow_clone_lacking_the_revision_says_so(demo_repo: Path, tmp_path: Path) -> None:
    g = make_repo(demo_repo)
    first = g.head.commit.hexsha
    edit(demo_repo / "tenants" / "acme.yaml", "contact: Maria Souza", "contact: Maria Souza Lima")
    commit_all(g, "second")
    clone = tmp_path / "shallow"
    subprocess.run(
        ["git", "clone", "--quiet", "--depth", "1", f"file://{demo_repo}", str(clone)],
        check=True,
        capture_output=True,
    )
    assert (clone / ".git" / "shallow").is_file()
    with pytest.raises(UserError, match="shallow") as err:
        tree_blobs(clone, first)
    assert "fetch-depth: 0" in err.value.message
    with pytest.raises(UserError, match="shallow"):
        tree_blobs(clone, "HEAD~1")
    assert tree_blobs(clone, "HEAD")[0] == g.head.commit.hexsha
