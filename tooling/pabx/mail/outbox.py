"""The outbox and log: one embedded SQLite database in the state directory (WAL, transactions).

    <state>/mail/outbox.sqlite3     messages (every e-mail ever queued) and covered (event keys)

A message is queued once per idempotency key (UNIQUE); `covered` records the events a message
accounts for (a missed call, a welcome), so a digest and a single notice never both go out for
the same call. Every state change is its own committed transaction, which is what lets a
sender that dies between the SMTP server's acceptance and the log update be detected
(status `enviando`, see sender.py).
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType

from pabx.loader.layout import state_dir
from pabx.mail.model import Draft, Kind, MailStatus, PanelLink, Record, iso, parse_iso, utc_now

SCHEMA_VERSION = 1
BACKOFF_BASE_S = 120  # 2 min, 4, 8, 16 ... after each temporary failure
BACKOFF_CAP_S = 2 * 3600  # never more than 2 h between attempts

_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS messages (
    id INTEGER PRIMARY KEY,
    idempotency_key TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL CHECK (kind IN ({", ".join(repr(str(k)) for k in Kind)})),
    sender TEXT NOT NULL,
    recipient TEXT NOT NULL,
    subject TEXT NOT NULL,
    created_at TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ({", ".join(repr(str(s)) for s in MailStatus)})),
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    next_attempt_at TEXT,
    sent_at TEXT,
    message_id TEXT NOT NULL UNIQUE,
    send_token TEXT,
    body_text TEXT NOT NULL,
    body_html TEXT NOT NULL,
    tenant TEXT,
    link TEXT,
    reply_to TEXT,
    updated_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS messages_due ON messages (status, next_attempt_at);
CREATE TABLE IF NOT EXISTS covered (
    event_key TEXT PRIMARY KEY,
    message INTEGER NOT NULL REFERENCES messages (id)
);
"""

_COLUMNS = (
    "id, idempotency_key, kind, sender, recipient, subject, created_at, status, attempts, last_error, "
    "next_attempt_at, sent_at, message_id, body_text, body_html, tenant, link, reply_to"
)


def outbox_path(repo_root: Path) -> Path:
    return state_dir(repo_root) / "mail" / "outbox.sqlite3"


def backoff(attempts: int) -> dt.timedelta:
    """Wait before the next attempt after `attempts` temporary failures (exponential, capped)."""
    exponent = max(attempts - 1, 0)
    seconds = BACKOFF_CAP_S if exponent > 16 else min(BACKOFF_BASE_S * 2**exponent, BACKOFF_CAP_S)
    return dt.timedelta(seconds=seconds)


class Outbox:
    """The outbox and log of one state directory. Use as a context manager, or close()."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        # autocommit mode: every write below opens its own transaction explicitly
        self.con = sqlite3.connect(path, timeout=30, isolation_level=None)
        self.con.execute("PRAGMA journal_mode = WAL")
        # WAL: a committed change survives the process being killed. Queuing also syncs to disk
        # (FULL), so a queued mail survives a power loss too; the send-state changes do not wait
        # for the disk (NORMAL): after a power loss at worst a message is sent again, with the
        # same Message-ID, as after a killed sender.
        self.con.execute("PRAGMA synchronous = NORMAL")
        self.con.execute("PRAGMA foreign_keys = ON")
        with self._write():
            for statement in _SCHEMA.split(";"):
                if statement.strip():
                    self.con.execute(statement)
            self.con.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    @classmethod
    def for_repo(cls, repo_root: Path) -> Outbox:
        return cls(outbox_path(repo_root))

    def close(self) -> None:
        self.con.close()

    def __enter__(self) -> Outbox:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction, taken at once (BEGIN IMMEDIATE), committed or rolled back."""
        self.con.execute("BEGIN IMMEDIATE")
        try:
            yield self.con
        except BaseException:
            self.con.execute("ROLLBACK")
            raise
        self.con.execute("COMMIT")

    # -- queueing -----------------------------------------------------------------------------

    def enqueue(self, draft: Draft, *, now: dt.datetime | None = None) -> int | None:
        """Queue `draft` as pendente; None when its key, or an event it covers, is already there."""
        return self.enqueue_many([draft], now=now)[0]

    def enqueue_many(self, drafts: Sequence[Draft], *, now: dt.datetime | None = None) -> list[int | None]:
        """Queue each draft (as `enqueue`), all in one transaction: one durable commit for a run."""
        when = iso(now or utc_now())
        out: list[int | None] = []
        self.con.execute("PRAGMA synchronous = FULL")
        try:
            with self._write() as con:
                for draft in drafts:
                    out.append(self._insert(con, draft, when))
        finally:
            self.con.execute("PRAGMA synchronous = NORMAL")
        return out

    def _insert(self, con: sqlite3.Connection, draft: Draft, when: str) -> int | None:
        covers = sorted(set(draft.covers) | {draft.key})
        if con.execute("SELECT 1 FROM messages WHERE idempotency_key = ?", (draft.key,)).fetchone():
            return None
        if self._covered(covers):
            return None
        link = None
        if draft.link:
            link = json.dumps({"tenant": draft.link.tenant, "rotation": draft.link.rotation})
        cursor = con.execute(
            "INSERT INTO messages (idempotency_key, kind, sender, recipient, subject, created_at, status, "
            "attempts, next_attempt_at, message_id, body_text, body_html, tenant, link, reply_to, updated_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, 0, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                draft.key,
                str(draft.kind),
                draft.sender,
                draft.recipient,
                draft.subject,
                when,
                str(MailStatus.PENDING),
                when,
                draft.message_id,
                draft.body_text,
                draft.body_html,
                draft.tenant,
                link,
                draft.reply_to,
                when,
            ),
        )
        ident = int(cursor.lastrowid or 0)
        con.executemany(
            "INSERT INTO covered (event_key, message) VALUES (?, ?)", [(k, ident) for k in covers]
        )
        return ident

    def _covered(self, keys: Sequence[str]) -> set[str]:
        found: set[str] = set()
        for start in range(0, len(keys), 500):
            chunk = keys[start : start + 500]
            marks = ", ".join("?" * len(chunk))
            found.update(
                row[0]
                for row in self.con.execute(
                    f"SELECT event_key FROM covered WHERE event_key IN ({marks})", tuple(chunk)
                )
            )
        return found

    def covered(self, keys: Iterable[str]) -> set[str]:
        """Which of these event keys some queued message already accounts for."""
        return self._covered(sorted(set(keys)))

    # -- reading ------------------------------------------------------------------------------

    def get(self, ident: int) -> Record | None:
        row = self.con.execute(f"SELECT {_COLUMNS} FROM messages WHERE id = ?", (ident,)).fetchone()
        return _record(row) if row else None

    def by_key(self, key: str) -> Record | None:
        row = self.con.execute(
            f"SELECT {_COLUMNS} FROM messages WHERE idempotency_key = ?", (key,)
        ).fetchone()
        return _record(row) if row else None

    def records(self, *, status: MailStatus | None = None, search: str | None = None) -> list[Record]:
        """The log, newest first; `search`: every word somewhere (case and accents ignored)."""
        if status is None:
            rows = self.con.execute(f"SELECT {_COLUMNS} FROM messages ORDER BY id DESC").fetchall()
        else:
            rows = self.con.execute(
                f"SELECT {_COLUMNS} FROM messages WHERE status = ? ORDER BY id DESC", (str(status),)
            ).fetchall()
        records = [_record(row) for row in rows]
        if search:
            words = _fold(search).split()
            records = [r for r in records if all(w in _haystack(r) for w in words)]
        return records

    def counts(self) -> dict[str, int]:
        found = dict(self.con.execute("SELECT status, count(*) FROM messages GROUP BY status").fetchall())
        return {str(s): int(found.get(str(s), 0)) for s in MailStatus}

    def due(self, now: dt.datetime) -> list[Record]:
        """What a send run handles: leftovers of a dead sender (enviando) first, then pendente
        messages whose next attempt time has come, oldest first."""
        rows = self.con.execute(
            f"SELECT {_COLUMNS} FROM messages WHERE status = ? "
            f"OR (status = ? AND next_attempt_at <= ?) ORDER BY status = ? DESC, id",
            (str(MailStatus.SENDING), str(MailStatus.PENDING), iso(now), str(MailStatus.SENDING)),
        ).fetchall()
        return [_record(row) for row in rows]

    def next_attempt(self) -> tuple[int, dt.datetime | None]:
        """How many messages are pendente, and the earliest next attempt among them."""
        count, first = self.con.execute(
            "SELECT count(*), min(next_attempt_at) FROM messages WHERE status = ?", (str(MailStatus.PENDING),)
        ).fetchone()
        return int(count), parse_iso(first) if first else None

    # -- the sending protocol (sender.py) -----------------------------------------------------

    def claim(self, ident: int, token: str, now: dt.datetime) -> bool:
        """Mark a message `enviando` under `token`, counting the attempt; committed before sending."""
        with self._write() as con:
            cursor = con.execute(
                "UPDATE messages SET status = ?, send_token = ?, attempts = attempts + 1, updated_at = ? "
                "WHERE id = ? AND status IN (?, ?)",
                (
                    str(MailStatus.SENDING),
                    token,
                    iso(now),
                    ident,
                    str(MailStatus.PENDING),
                    str(MailStatus.SENDING),
                ),
            )
            return cursor.rowcount == 1

    def note_interrupted(self, ident: int, now: dt.datetime) -> None:
        """A message found `enviando`: its sender died after claiming it (maybe after the server
        accepted it). Say so in the log before it is sent again with the same Message-ID."""
        with self._write() as con:
            con.execute(
                "UPDATE messages SET last_error = ?, updated_at = ? WHERE id = ? AND status = ?",
                (
                    f"envio interrompido (processo encerrado) antes de {iso(now)}: "
                    "pode ter sido entregue; reenviado com o mesmo Message-ID",
                    iso(now),
                    ident,
                    str(MailStatus.SENDING),
                ),
            )

    def mark_sent(self, ident: int, token: str, now: dt.datetime) -> None:
        with self._write() as con:
            con.execute(
                "UPDATE messages SET status = ?, sent_at = ?, next_attempt_at = NULL, updated_at = ? "
                "WHERE id = ? AND send_token = ?",
                (str(MailStatus.SENT), iso(now), iso(now), ident, token),
            )

    def mark_failed(self, ident: int, error: str, now: dt.datetime) -> None:
        with self._write() as con:
            con.execute(
                "UPDATE messages SET status = ?, last_error = ?, next_attempt_at = NULL, updated_at = ? "
                "WHERE id = ?",
                (str(MailStatus.FAILED), error, iso(now), ident),
            )

    def mark_retry(self, ident: int, error: str, now: dt.datetime) -> dt.datetime:
        """Back to pendente after a temporary failure of a claimed message; returns its next time."""
        with self._write() as con:
            (attempts,) = con.execute("SELECT attempts FROM messages WHERE id = ?", (ident,)).fetchone()
            later = now + backoff(int(attempts))
            con.execute(
                "UPDATE messages SET status = ?, last_error = ?, next_attempt_at = ?, updated_at = ? "
                "WHERE id = ?",
                (str(MailStatus.PENDING), error, iso(later), iso(now), ident),
            )
        return later

    def defer(self, idents: Sequence[int], error: str, now: dt.datetime) -> None:
        """A failed attempt that never reached a message (server down): attempts+1, backoff."""
        with self._write() as con:
            for ident in idents:
                (attempts,) = con.execute("SELECT attempts FROM messages WHERE id = ?", (ident,)).fetchone()
                later = now + backoff(int(attempts) + 1)
                con.execute(
                    "UPDATE messages SET status = ?, attempts = attempts + 1, last_error = ?, "
                    "next_attempt_at = ?, updated_at = ? WHERE id = ? AND status IN (?, ?)",
                    (
                        str(MailStatus.PENDING),
                        error,
                        iso(later),
                        iso(now),
                        ident,
                        str(MailStatus.PENDING),
                        str(MailStatus.SENDING),
                    ),
                )

    def retry(self, idents: Sequence[int] | None, now: dt.datetime) -> list[int]:
        """Due now: the given messages (None: every falhou and pendente one). Sent ones are left
        alone (an enviado message is never sent again). Returns the ids changed."""
        with self._write() as con:
            if idents is None:
                rows = con.execute(
                    "SELECT id FROM messages WHERE status IN (?, ?)",
                    (str(MailStatus.FAILED), str(MailStatus.PENDING)),
                ).fetchall()
                chosen = [int(r[0]) for r in rows]
            else:
                chosen = list(idents)
            changed = []
            for ident in chosen:
                cursor = con.execute(
                    "UPDATE messages SET status = ?, next_attempt_at = ?, updated_at = ? "
                    "WHERE id = ? AND status IN (?, ?)",
                    (
                        str(MailStatus.PENDING),
                        iso(now),
                        iso(now),
                        ident,
                        str(MailStatus.FAILED),
                        str(MailStatus.PENDING),
                    ),
                )
                if cursor.rowcount:
                    changed.append(ident)
        return changed


def _record(row: Sequence[object]) -> Record:
    (
        ident,
        key,
        kind,
        sender,
        recipient,
        subject,
        created,
        status,
        attempts,
        error,
        next_at,
        sent,
        message_id,
        text,
        html,
        tenant,
        link,
        reply_to,
    ) = row
    panel = None
    if link:
        data = json.loads(str(link))
        panel = PanelLink(str(data["tenant"]), int(data["rotation"]))
    return Record(
        id=int(str(ident)),
        key=str(key),
        kind=Kind(str(kind)),
        sender=str(sender),
        recipient=str(recipient),
        subject=str(subject),
        created_at=parse_iso(str(created)),
        status=MailStatus(str(status)),
        attempts=int(str(attempts)),
        last_error=str(error) if error is not None else None,
        next_attempt_at=parse_iso(str(next_at)) if next_at else None,
        sent_at=parse_iso(str(sent)) if sent else None,
        message_id=str(message_id),
        body_text=str(text),
        body_html=str(html),
        tenant=str(tenant) if tenant is not None else None,
        link=panel,
        reply_to=str(reply_to) if reply_to is not None else None,
    )


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _haystack(record: Record) -> str:
    return _fold(
        " ".join(
            (
                str(record.id),
                record.sender,
                record.recipient,
                record.subject,
                str(record.kind),
                str(record.status),
                record.tenant or "",
            )
        )
    )
