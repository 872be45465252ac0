"""The audit index: every field-level change of a ref's history, in SQLite under the state dir.

Built once, then brought up to date on every question: when the ref has moved on, only the
commits since the indexed tip are read (`git log tip..ref`). It is keyed by commit ids, so a
rewritten history (the indexed tip no longer on the ref's first-parent chain), a clone that was
deepened, or a new version of this code rebuilds it. Nothing is ever written to git.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import git

from pabx.audit.diff import commit_changes
from pabx.audit.gitlog import (
    BlobReader,
    RawCommit,
    first_parents,
    open_repo,
    prefix_of,
    pull_request_of,
    read_commits,
    resolve,
    shallow_boundary,
)
from pabx.errors import UserError

# pabx.loader.layout's DATA_FOLDERS and state_dir(), kept equal by a test: importing the loader
# package imports every model, most of a quick question's time.
DATA_FOLDERS = ("inventory", "tenants", "numbers", "routes", "plans")


def state_dir(root: Path) -> Path:
    configured = os.environ.get("PABX_STATE_DIR")
    return Path(configured) if configured else root / "state"


SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS commits (
    seq INTEGER PRIMARY KEY,          -- parents before children
    sha TEXT NOT NULL UNIQUE,
    parents TEXT NOT NULL,
    author_name TEXT NOT NULL,
    author_email TEXT NOT NULL,
    authored TEXT NOT NULL,           -- ISO 8601 with the author's offset
    committed INTEGER NOT NULL,       -- epoch seconds
    effective INTEGER NOT NULL,       -- when it reached the ref: committer time of the first-parent commit that brought it
    main_seq INTEGER NOT NULL,        -- position of that first-parent commit in the chain
    first_parent INTEGER NOT NULL,    -- 1 when on the ref's first-parent chain
    pr INTEGER,
    subject TEXT NOT NULL,
    boundary INTEGER NOT NULL         -- 1 at a shallow clone's edge (its own changes are unknown)
);
CREATE TABLE IF NOT EXISTS changes (
    seq INTEGER NOT NULL,
    ord INTEGER NOT NULL,
    path TEXT NOT NULL,
    kind TEXT NOT NULL,
    entity TEXT NOT NULL,
    field TEXT NOT NULL,
    action TEXT NOT NULL,
    before TEXT,
    after TEXT
);
CREATE INDEX IF NOT EXISTS changes_entity ON changes (kind, entity);
CREATE INDEX IF NOT EXISTS changes_path ON changes (path);
CREATE INDEX IF NOT EXISTS changes_seq ON changes (seq);
CREATE INDEX IF NOT EXISTS commits_main ON commits (first_parent, committed);
"""


def _code_version() -> str:
    """The index is only as good as the code that filled it: key it by this package's sources."""
    digest = hashlib.sha256(b"audit-index-1")
    here = Path(__file__).resolve().parent
    for name in ("diff.py", "fields.py", "gitlog.py", "index.py", "parts.py"):
        digest.update((here / name).read_bytes())
    return digest.hexdigest()[:16]


VERSION = _code_version()
_BATCH = 256  # commits whose blobs are read in one git round


@dataclass(frozen=True)
class Status:
    """What an update did: the tip indexed, how many commits it read, whether it started over."""

    ref: str
    tip: str
    new_commits: int
    rebuilt: bool
    boundary: frozenset[str]


class AuditIndex:
    """One ref's history of one pabx repository (the folder `root` inside a git work tree)."""

    def __init__(self, root: Path, ref: str | None = None, *, path: Path | None = None) -> None:
        self.root = root
        self.repo: git.Repo = open_repo(root)
        self.prefix = prefix_of(self.repo, root)
        self.ref, self.tip = resolve(self.repo, ref)
        key = f"{Path(self.repo.common_dir).resolve()}\0{self.prefix}\0{self.ref}"
        name = hashlib.sha256(key.encode()).hexdigest()[:16]
        self.path = path or state_dir(root) / "audit" / f"index-{name}.sqlite"
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.db = sqlite3.connect(self.path, timeout=60, isolation_level=None)
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=NORMAL")
            self.db.executescript(SCHEMA)
        except (OSError, sqlite3.Error) as exc:
            self.repo.close()
            raise UserError(
                f"cannot open the audit index {self.path}: {exc} (set PABX_STATE_DIR to a writable folder)"
            ) from None
        self.blobs = BlobReader(self.repo)
        self.status = self._update()

    def close(self) -> None:
        self.db.close()
        self.repo.close()

    def __enter__(self) -> AuditIndex:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- building ---------------------------------------------------------------------------

    def _meta(self, key: str) -> str | None:
        row = self.db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def _set_meta(self, key: str, value: str) -> None:
        self.db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    def _update(self) -> Status:
        boundary = shallow_boundary(self.repo)
        fingerprint = ",".join(sorted(boundary))
        with self._transaction():
            indexed = self._meta("tip")
            rebuilt = False
            if self._meta("version") != VERSION or self._meta("boundary") != fingerprint:
                indexed = None
            if indexed == self.tip:
                return Status(self.ref, self.tip, 0, False, boundary)
            chain: list[str] = []
            if indexed is not None:
                chain = first_parents(self.repo, self.tip, stop=indexed)
                parent = self.repo.commit(chain[0]).parents[:1] if chain else []
                if not chain or not parent or parent[0].hexsha != indexed:
                    indexed = None  # the indexed tip is not behind this one on its first-parent chain
            if indexed is None:
                rebuilt = True
                self.db.execute("DELETE FROM commits")
                self.db.execute("DELETE FROM changes")
                self.db.execute("DELETE FROM meta")
                chain = first_parents(self.repo, self.tip)
            count = self._append(chain, since=indexed, boundary=boundary)
            self._set_meta("version", VERSION)
            self._set_meta("boundary", fingerprint)
            self._set_meta("tip", self.tip)
            self._set_meta("ref", self.ref)
        return Status(self.ref, self.tip, count, rebuilt, boundary)

    def _append(self, chain: Sequence[str], *, since: str | None, boundary: frozenset[str]) -> int:
        commits = {
            c.sha: c
            for c in read_commits(
                self.repo, self.tip, since=since, prefix=self.prefix, folders=[f + "/" for f in DATA_FOLDERS]
            )
        }
        row = self.db.execute(
            "SELECT coalesce(max(seq), 0), coalesce(max(main_seq), 0) FROM commits"
        ).fetchone()
        next_seq, main_seq = int(row[0]), int(row[1])
        introduced: dict[str, tuple[RawCommit, int, int | None]] = {}  # sha -> (its fp commit, main_seq, pr)
        for sha in chain:
            fp = commits.get(sha)
            if fp is None:
                continue
            main_seq += 1
            pr = pull_request_of(fp.subject)
            introduced[sha] = (fp, main_seq, pr)
            stack = list(fp.parents[1:])
            while stack:
                other = stack.pop()
                if other in introduced or other not in commits:
                    continue
                introduced[other] = (
                    fp,
                    main_seq,
                    pr if pr is not None else pull_request_of(commits[other].subject),
                )
                stack.extend(commits[other].parents)
        on_chain = set(chain)
        commit_rows = []
        change_rows = []
        order = list(commits.items())  # parents before children
        for start in range(0, len(order), _BATCH):
            batch = order[start : start + _BATCH]
            self.blobs.prefetch(
                blob
                for _, commit in batch
                if commit.sha not in boundary
                for change in commit.changes
                for blob in (change.old_blob, change.new_blob, *change.parents)
                if blob is not None
            )
            for sha, commit in batch:
                fp, mseq, pr = introduced.get(sha, (commit, main_seq, pull_request_of(commit.subject)))
                next_seq += 1
                is_boundary = sha in boundary
                commit_rows.append(
                    (
                        next_seq,
                        sha,
                        " ".join(commit.parents),
                        commit.author_name,
                        commit.author_email,
                        commit.authored.isoformat(),
                        int(commit.committed.timestamp()),
                        int(fp.committed.timestamp()),
                        mseq,
                        1 if sha in on_chain else 0,
                        pr,
                        commit.subject,
                        1 if is_boundary else 0,
                    )
                )
                if is_boundary:
                    continue
                for ord_, change in enumerate(commit_changes(commit, self.blobs)):
                    change_rows.append(
                        (
                            next_seq,
                            ord_,
                            change.path,
                            change.entity.kind,
                            change.entity.key,
                            change.field,
                            change.action,
                            change.before,
                            change.after,
                        )
                    )
        self.db.executemany("INSERT INTO commits VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)", commit_rows)
        self.db.executemany("INSERT INTO changes VALUES (?,?,?,?,?,?,?,?,?)", change_rows)
        return len(commit_rows)

    # --- reading ----------------------------------------------------------------------------

    def main_at(self, when: dt.datetime) -> sqlite3.Row | None:
        """The first-parent commit of the ref that was current at `when` (by committer date)."""
        self.db.row_factory = sqlite3.Row
        try:
            row: sqlite3.Row | None = self.db.execute(
                "SELECT * FROM commits WHERE first_parent = 1 AND committed <= ? ORDER BY main_seq DESC LIMIT 1",
                (int(when.timestamp()),),
            ).fetchone()
            return row
        finally:
            self.db.row_factory = None

    def oldest(self) -> sqlite3.Row | None:
        """The oldest commit of the chain (a shallow clone's edge, or the root)."""
        self.db.row_factory = sqlite3.Row
        try:
            row: sqlite3.Row | None = self.db.execute(
                "SELECT * FROM commits WHERE first_parent = 1 ORDER BY main_seq LIMIT 1"
            ).fetchone()
            return row
        finally:
            self.db.row_factory = None

    def query(self, sql: str, params: Sequence[object] = ()) -> list[sqlite3.Row]:
        self.db.row_factory = sqlite3.Row
        try:
            return list(self.db.execute(sql, params).fetchall())
        finally:
            self.db.row_factory = None
