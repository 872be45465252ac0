"""A git revision's data folders, read from git objects (GitPython), never from a checkout.

`materialized(root, rev)` writes the blobs of inventory/, tenants/, numbers/, routes/, plans/ and
templates/ at `rev` into a temporary directory, so the ordinary loader can load that revision;
`tree_blobs` lists them (path -> blob id) without reading any blob.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import stat
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

import git
from git.objects.fun import tree_entries_from_data

from pabx import gitinfo
from pabx.errors import UserError
from pabx.loader.layout import DATA_FOLDERS

SOURCE_FOLDERS: tuple[str, ...] = (*DATA_FOLDERS, "templates")
_TREE_MODE = stat.S_IFDIR


def open_repo(root: Path) -> git.Repo:
    return gitinfo.open_repo(root, "a plan compares against git history")


def resolve_commit(repo: git.Repo, rev: str) -> git.Commit:
    """The commit `rev` names, or a UserError saying why not (unknown, shallow clone, no commits)."""
    try:
        commit = repo.commit(rev)
        commit.tree  # noqa: B018  (a full id resolves without the object: read it to know it is here)
        return commit
    except (git.BadName, git.BadObject, ValueError) as exc:
        shallow = Path(repo.git_dir, "shallow").is_file()
        if shallow:
            raise UserError(
                f"revision {rev!r} is not in this clone, which is shallow: fetch the history "
                "(git fetch --unshallow, or actions/checkout with fetch-depth: 0)"
            ) from exc
        if rev == "HEAD":
            raise UserError("the repository has no commit yet: commit once, then plan") from exc
        raise UserError(f"unknown revision {rev!r} (not a commit, branch or tag of this repository)") from exc


def _walk(repo: git.Repo, tree_sha: bytes, prefix: str, out: dict[str, str]) -> None:
    """Tree traversal on raw tree objects: (path -> blob hex id), files only."""
    data = repo.odb.stream(tree_sha).read()
    for binsha, mode, name in tree_entries_from_data(data):
        path = f"{prefix}{name}"
        if mode & 0o170000 == _TREE_MODE:
            _walk(repo, binsha, path + "/", out)
        elif mode & 0o170000 == stat.S_IFREG:  # symlinks and submodules are not data
            out[path] = binsha.hex()


def tree_blobs(root: Path, rev: str, folders: Iterable[str] = SOURCE_FOLDERS) -> tuple[str, dict[str, str]]:
    """(commit id, {path relative to root: blob id}) of `folders` at `rev`; blobs are not read."""
    repo = open_repo(root)
    try:
        commit = resolve_commit(repo, rev)
        prefix = gitinfo.prefix_of(repo, root)
        out: dict[str, str] = {}
        for folder in folders:
            try:
                tree = commit.tree / f"{prefix}{folder}"
            except KeyError:
                continue
            if tree.type == "tree":
                _walk(repo, tree.binsha, f"{folder}/", out)
        return commit.hexsha, dict(sorted(out.items()))
    finally:
        repo.close()


def read_blobs(root: Path, blobs: dict[str, str], dest: Path) -> None:
    """Write each blob (path -> blob id) under `dest` at its path."""
    repo = open_repo(root)
    try:
        made: set[Path] = set()
        for rel, sha in blobs.items():
            path = dest / rel
            if path.parent not in made:
                path.parent.mkdir(parents=True, exist_ok=True)
                made.add(path.parent)
            path.write_bytes(repo.odb.stream(bytes.fromhex(sha)).read())
    finally:
        repo.close()


@contextmanager
def materialized(root: Path, rev: str, paths: Iterable[str] | None = None) -> Iterator[tuple[str, Path]]:
    """(commit id, a temporary directory holding the data folders of `rev`), removed afterwards.

    With `paths`, only those files (relative to root) are written: enough to load a few files of
    a revision without writing all of a big one.
    """
    commit, blobs = tree_blobs(root, rev)
    if paths is not None:
        wanted = set(paths)
        blobs = {rel: sha for rel, sha in blobs.items() if rel in wanted}
    with temporary_tree(root, blobs) as tmp:
        yield commit, tmp


@contextmanager
def temporary_tree(root: Path, blobs: dict[str, str]) -> Iterator[Path]:
    """A temporary directory holding these blobs (path -> blob id) of the repository at `root`."""
    tmp = Path(tempfile.mkdtemp(prefix="pabx-rev-"))
    try:
        read_blobs(root, blobs, tmp)
        yield tmp
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def blob_id(data: bytes) -> str:
    """git's object id of a blob with these bytes (what `git hash-object` prints)."""
    digest = hashlib.sha1(b"blob %d\0" % len(data), usedforsecurity=False)
    digest.update(data)
    return digest.hexdigest()


def worktree_blobs(root: Path, folders: Iterable[str] = SOURCE_FOLDERS) -> dict[str, str]:
    """{path: blob id} of the working tree's files under `folders`, as git would hash them."""
    base = os.fspath(root)
    out: dict[str, str] = {}
    for folder in folders:
        top = os.path.join(base, folder)
        for dirpath, dirnames, filenames in os.walk(top):
            dirnames.sort()
            rel_dir = os.path.relpath(dirpath, base).replace(os.sep, "/")
            for name in filenames:
                full = os.path.join(dirpath, name)
                if not os.path.isfile(full):  # as the loader reads them: through symbolic links
                    continue
                with open(full, "rb") as fh:
                    out[f"{rel_dir}/{name}"] = blob_id(fh.read())
    return dict(sorted(out.items()))
