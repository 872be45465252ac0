"""Commits and the data files each one changed, read in one `git log` (GitPython), oldest first.

Nothing here writes to the repository: `git log`, `git rev-list` and blob reads only.
"""

from __future__ import annotations

import datetime as dt
import re
import subprocess
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import git

from pabx import gitinfo
from pabx.errors import UserError
from pabx.gitinfo import prefix_of

ZERO = "0" * 40
_MERGE_PR = re.compile(r"^Merge pull request #(\d+)\b")
_SQUASH_PR = re.compile(r"\(#(\d+)\)\s*$")
_FORMAT = "%x1e%H%x1f%P%x1f%an%x1f%ae%x1f%aI%x1f%cI%x1f%s"
_REGULAR = ("100644", "100755")


@dataclass(frozen=True)
class FileChange:
    """One data file a commit changed. For a merge, `parents` holds the blob of each parent
    (only files that differ from every parent are listed: the merge's own changes)."""

    path: str  # after the change (before, for a deletion)
    old_path: str | None  # before the change: None when added; differs from path when renamed
    old_blob: str | None
    new_blob: str | None
    parents: tuple[str | None, ...] = ()


@dataclass
class RawCommit:
    sha: str
    parents: tuple[str, ...]
    author_name: str
    author_email: str
    authored: dt.datetime
    committed: dt.datetime
    subject: str
    changes: list[FileChange] = field(default_factory=list)

    @property
    def is_merge(self) -> bool:
        return len(self.parents) > 1


def pull_request_of(subject: str) -> int | None:
    """The pull request a commit subject names: a GitHub merge commit or a squash `… (#123)`."""
    match = _MERGE_PR.match(subject) or _SQUASH_PR.search(subject)
    return int(match.group(1)) if match else None


def open_repo(root: Path) -> git.Repo:
    return gitinfo.open_repo(root, "the audit trail is read from git history")


def shallow_boundary(repo: git.Repo) -> frozenset[str]:
    """Commits whose parents this clone lacks (empty for a full clone)."""
    path = Path(repo.common_dir) / "shallow"
    if not path.is_file():
        return frozenset()
    return frozenset(line.strip() for line in path.read_text().splitlines() if line.strip())


def resolve(repo: git.Repo, ref: str | None) -> tuple[str, str]:
    """(the ref's name as used, its commit id). Without a ref: main, else origin/main, else HEAD."""
    candidates = [ref] if ref else ["main", "origin/main", "HEAD"]
    for name in candidates:
        try:
            commit = repo.commit(name)
            return name, commit.hexsha
        except (git.BadName, ValueError, git.BadObject):
            continue
    if ref:
        raise UserError(f"unknown revision {ref!r} (not a commit, branch or tag of this repository)")
    raise UserError("the repository has no commit yet (no main, origin/main or HEAD): nothing to audit")


def first_parents(repo: git.Repo, tip: str, stop: str | None = None) -> list[str]:
    """The first-parent chain of `tip`, oldest first (after `stop`, when given)."""
    spec = f"{stop}..{tip}" if stop else tip
    out = repo.git.rev_list("--first-parent", spec)
    return list(reversed(out.split()))


def is_ancestor(repo: git.Repo, old: str, new: str) -> bool:
    try:
        repo.git.merge_base("--is-ancestor", old, new)
        return True
    except git.GitCommandError:
        return False


def _unquote(path: str) -> str:
    """A path as git prints it with core.quotePath=false: quoted only for controls, quotes, '\\'."""
    if not (path.startswith('"') and path.endswith('"')):
        return path
    body = path[1:-1]
    raw = bytearray()
    i = 0
    simple = {"n": 10, "t": 9, '"': 34, "\\": 92, "a": 7, "b": 8, "f": 12, "r": 13, "v": 11}
    while i < len(body):
        ch = body[i]
        if ch == "\\" and i + 1 < len(body):
            nxt = body[i + 1]
            if nxt in simple:
                raw.append(simple[nxt])
                i += 2
                continue
            if nxt.isdigit():
                raw.append(int(body[i + 1 : i + 4], 8))
                i += 4
                continue
        raw.extend(ch.encode("utf-8"))
        i += 1
    return raw.decode("utf-8", errors="replace")


def _relative(path: str, prefix: str) -> str | None:
    if prefix and not path.startswith(prefix):
        return None
    return path[len(prefix) :]


def _blob(sha: str) -> str | None:
    return None if sha == ZERO else sha


def _parse_raw(line: str, prefix: str, wanted: frozenset[str] | None) -> FileChange | None:
    meta, _, paths = line.partition("\t")
    names = [_unquote(p) for p in paths.split("\t")]
    if meta.startswith("::"):  # combined (merge): ::m1 m2 mR sha1 sha2 shaR STATUS
        fields = meta[2:].split()
        n = len(fields) // 2
        modes, shas = fields[:n], fields[n : 2 * n]
        if modes[-1] not in _REGULAR and modes[-1] != "000000":
            return None
        rel = _relative(names[-1], prefix)
        if rel is None or (wanted is not None and not _wanted(rel, wanted)):
            return None
        parents = tuple(_blob(s) for s in shas[:-1])
        return FileChange(rel, rel if parents[0] else None, parents[0], _blob(shas[-1]), parents)
    old_mode, new_mode, old_sha, new_sha, status = meta[1:].split()
    if not (old_mode in _REGULAR or new_mode in _REGULAR):
        return None
    if status[:1] in ("R", "C") and len(names) == 2:
        old_rel, new_rel = _relative(names[0], prefix), _relative(names[1], prefix)
        if status[0] == "C":
            old_rel = None
    else:
        old_rel = new_rel = _relative(names[0], prefix)
        if status == "A":
            old_rel = None
    keep = [p for p in (old_rel, new_rel) if p is not None and (wanted is None or _wanted(p, wanted))]
    if not keep:
        return None
    if new_rel is not None and (wanted is None or _wanted(new_rel, wanted)):
        old_kept = old_rel if old_rel is not None and (wanted is None or _wanted(old_rel, wanted)) else None
        return FileChange(
            new_rel,
            old_kept,
            _blob(old_sha) if old_kept is not None else None,
            None if status == "D" or new_mode not in _REGULAR else _blob(new_sha),
        )
    # renamed out of the data folders: a deletion of the old path
    assert old_rel is not None
    return FileChange(old_rel, old_rel, _blob(old_sha), None)


def _wanted(path: str, prefixes: frozenset[str]) -> bool:
    return any(path.startswith(p) for p in prefixes) and path.endswith((".yaml", ".yml"))


def read_commits(
    repo: git.Repo, tip: str, *, since: str | None = None, prefix: str = "", folders: Iterable[str]
) -> Iterator[RawCommit]:
    """Every commit reachable from `tip` (not from `since`), parents before children, with the
    data files it changed (renames detected; merges: only what differs from every parent)."""
    wanted = frozenset(folders)
    spec = f"{since}..{tip}" if since else tip
    out = repo.git.execute(
        [
            "git",
            "-c",
            "core.quotePath=false",
            "log",
            spec,
            "--topo-order",
            "--reverse",
            "--no-abbrev",
            "--no-color",
            "--raw",
            "-c",
            "-M",
            "--root",
            f"--format={_FORMAT}",
        ],
        stdout_as_string=True,
    )
    assert isinstance(out, str)
    for record in out.split("\x1e")[1:]:
        header, _, body = record.partition("\n")
        sha, parents, an, ae, ad, cd, subject = header.split("\x1f", 6)
        commit = RawCommit(
            sha=sha,
            parents=tuple(parents.split()),
            author_name=an,
            author_email=ae,
            authored=dt.datetime.fromisoformat(ad),
            committed=dt.datetime.fromisoformat(cd),
            subject=subject,
        )
        for line in body.split("\n"):
            if line.startswith(":"):
                change = _parse_raw(line, prefix, wanted)
                if change is not None:
                    commit.changes.append(change)
        yield commit


class BlobReader:
    """Blob texts by id. `prefetch` reads many in one `git cat-file --batch` round (a history of
    thousands of commits would otherwise wait on git once per blob); `text` serves those, and
    falls back to GitPython's persistent `cat-file` for the odd one."""

    def __init__(self, repo: git.Repo, keep: int = 64) -> None:
        self._repo = repo
        self._keep = keep
        self._recent: dict[str, str] = {}
        self._batch: dict[str, str] = {}

    def prefetch(self, shas: Iterable[str]) -> None:
        """Read these blobs now, in one batch; they stay until the next prefetch."""
        wanted = sorted({s for s in shas if s not in self._recent})
        self._batch = {}
        if not wanted:
            return
        proc = self._repo.git.cat_file("--batch", as_process=True, istream=subprocess.PIPE)
        out, _ = proc.communicate(("\n".join(wanted) + "\n").encode())
        pos = 0
        while pos < len(out):
            end = out.index(b"\n", pos)
            header = out[pos:end].split()
            pos = end + 1
            if len(header) < 3:  # "<sha> missing"
                continue
            size = int(header[2])
            self._batch[header[0].decode()] = out[pos : pos + size].decode("utf-8", errors="replace")
            pos += size + 1

    def text(self, sha: str) -> str:
        found = self._batch.get(sha) or self._recent.get(sha)
        if found is not None:
            self._remember(sha, found)
            return found
        data = self._repo.odb.stream(bytes.fromhex(sha)).read()
        text = data.decode("utf-8", errors="replace")
        self._remember(sha, text)
        return text

    def _remember(self, sha: str, text: str) -> None:
        if sha in self._recent:
            return
        if len(self._recent) >= self._keep:
            self._recent.pop(next(iter(self._recent)))
        self._recent[sha] = text


def blob_at(repo: git.Repo, commit: str, path: str) -> str | None:
    """The blob id of `path` (relative to the git top) at `commit`, or None when absent."""
    try:
        item = repo.commit(commit).tree / path
    except (KeyError, ValueError, git.BadName):
        return None
    return item.hexsha if item.type == "blob" else None


__all__ = [
    "ZERO",
    "BlobReader",
    "FileChange",
    "RawCommit",
    "blob_at",
    "first_parents",
    "is_ancestor",
    "open_repo",
    "prefix_of",
    "pull_request_of",
    "read_commits",
    "resolve",
    "shallow_boundary",
]
