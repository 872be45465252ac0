"""Ingest Master.csv files (plain or gzip, any cdr_csv layout) into the Parquet store.

Only new data is read. The ingest log knows each *stream* of CDRs by its content (a hash of its
first 64 KiB) and how far it was read (a byte offset, checked against a hash of the 4 KiB before
it), so a growing Master.csv is read from where the last run stopped, and the same data under
another name (Master.csv rotated to Master.csv.1, then gzipped) adds nothing. An unchanged file
(same path, size and mtime) is not even opened. A last line without its newline is Asterisk
still writing: it waits for the next run.

DuckDB parses (typed columns, so a bad time, number or disposition is a rejected row with its
line); rows of another width than the file's layout (cdr.conf changed halfway) are re-read by
the plain-Python reader; whatever is still not a CDR is counted and reported with file and line.
A batch becomes visible atomically: its part files are staged, the log records them as pending,
they are moved into place, then the log commits the new offsets. An interrupted batch is undone
at the next run.
"""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import hashlib
import json
import mmap
import os
import shutil
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import BinaryIO

import duckdb

from pabx.cdr.analytics import DDD_MACRO, FRAGMENT_SQL
from pabx.cdr.columns import CONTRACT_LAYOUT, DISPOSITIONS, TIME_FORMAT, Layout, layout_for
from pabx.cdr.reader import Malformed, parse_fields
from pabx.cdr.store import CALLS_DIR, MERGE_DIR, META_DIR, STORE_COLUMNS, connect, partitions
from pabx.errors import UserError

HEAD_BYTES = 64 * 1024
TAIL_BYTES = 4096
CHUNK = 1 << 20
LOG_VERSION = 1
KEEP_PROBLEMS = 1000  # malformed rows listed in the result (all are counted)


@dataclass
class Stream:
    """A sequence of CDR bytes known by its head, read up to `offset` (a line boundary)."""

    id: str
    head_len: int
    head_sha: str
    offset: int
    tail_sha: str


@dataclass
class FileEntry:
    size: int
    mtime_ns: int
    stream: str


@dataclass
class IngestLog:
    path: Path
    streams: dict[str, Stream] = field(default_factory=dict)
    files: dict[str, FileEntry] = field(default_factory=dict)
    pending: dict[str, object] | None = None

    @classmethod
    def load(cls, store: Path) -> IngestLog:
        path = store / META_DIR / "ingest-log.json"
        if not path.exists():
            return cls(path)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise UserError(f"{path}: unreadable ingest log ({exc}); move it away to re-ingest") from None
        if data.get("version") != LOG_VERSION:
            raise UserError(f"{path}: ingest log version {data.get('version')!r}, expected {LOG_VERSION}")
        return cls(
            path,
            streams={k: Stream(**v) for k, v in data.get("streams", {}).items()},
            files={k: FileEntry(**v) for k, v in data.get("files", {}).items()},
            pending=data.get("pending"),
        )

    def save(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        data = {
            "version": LOG_VERSION,
            "pending": self.pending,
            "streams": {k: asdict(v) for k, v in sorted(self.streams.items())},
            "files": {k: asdict(v) for k, v in sorted(self.files.items())},
        }
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(data, indent=1, sort_keys=True), encoding="utf-8")
        os.replace(tmp, self.path)


@dataclass
class FileReport:
    path: str
    status: str  # new | appended | unchanged | no-new-rows
    rows: int = 0
    malformed: int = 0
    waiting_bytes: int = 0  # an incomplete last line, read at the next run


@dataclass
class IngestResult:
    files: list[FileReport] = field(default_factory=list)
    rows_read: int = 0
    rows_new: int = 0
    malformed: int = 0
    problems: list[Malformed] = field(default_factory=list)
    batch: str | None = None
    part_files: int = 0

    @property
    def unchanged(self) -> int:
        return sum(1 for f in self.files if f.status == "unchanged")


@dataclass
class _Work:
    """New bytes of one input: `data` holds them from `start` to its end, lines from `line0`."""

    source: str
    data: Path  # a file DuckDB reads: the input itself, or a slice/decompression in staging
    data_offset: int  # where the new bytes begin inside `data`
    end: int  # content offset after the last complete line
    content: Path  # the whole (decompressed) content, to count lines for reports
    start: int  # content offset of the first new byte
    layout: Layout
    stream: Stream
    new_stream: bool
    report: FileReport


def expand_inputs(paths: Iterable[Path]) -> list[Path]:
    """Files named, and under each directory every *.csv / *.csv.gz / *.gz / Master.csv*."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            for child in sorted(path.rglob("*")):
                name = child.name
                if child.is_file() and (name.endswith((".csv", ".gz")) or name.startswith("Master.csv")):
                    found.append(child)
        elif path.is_file():
            found.append(path)
        else:
            raise UserError(f"{path}: no such file or directory")
    unique: dict[str, Path] = {}
    for path in found:
        unique.setdefault(str(path.resolve()), path)
    return [unique[key] for key in sorted(unique)]


def ingest(
    paths: Sequence[Path],
    store: Path,
    *,
    source_timezone: str = "UTC",
    memory_limit: str = "1GB",
) -> IngestResult:
    """Read what is new in `paths` into `store`; see the module docstring."""
    inputs = expand_inputs(paths)
    store.mkdir(parents=True, exist_ok=True)
    log = IngestLog.load(store)
    _undo_pending(store, log)
    result = IngestResult()
    batch = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:8]
    staging = store / META_DIR / "staging" / batch
    staging.mkdir(parents=True, exist_ok=True)
    try:
        work: list[_Work] = []
        for path in inputs:
            item = _plan(path, log, staging, len(work))
            result.files.append(item.report if isinstance(item, _Work) else item)
            if isinstance(item, _Work):
                work.append(item)
        if work:
            _load(work, staging / "out", batch, result, source_timezone, memory_limit, store)
            _commit(store, log, staging / "out", batch, work, result)
        log.save()
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return result


def _plan(path: Path, log: IngestLog, staging: Path, n: int) -> _Work | FileReport:
    key = str(path.resolve())
    st = path.stat()
    known = log.files.get(key)
    if known and known.size == st.st_size and known.mtime_ns == st.st_mtime_ns:
        return FileReport(key, "unchanged")
    content = path
    with path.open("rb") as fh:
        compressed = fh.read(2) == b"\x1f\x8b"
    if compressed:
        content = staging / f"{n}.decompressed"
        try:
            with gzip.open(path, "rb") as src, content.open("wb") as dst:
                shutil.copyfileobj(src, dst, CHUNK)
        except (OSError, EOFError) as exc:
            raise UserError(f"{path}: not a readable gzip file ({exc})") from None
    size = content.stat().st_size
    with content.open("rb") as fh:
        head = fh.read(HEAD_BYTES)
        stream = _match_stream(fh, head, size, log)
        start = stream.offset if stream else 0
        end = _last_line_end(fh, start, size)
        fh.seek(start)
        first = fh.read(min(HEAD_BYTES, end - start))
    report = FileReport(key, "appended" if stream else "new", waiting_bytes=size - end)
    is_new = stream is None
    if stream is None:
        stream = Stream(uuid.uuid4().hex[:12], 0, "", 0, "")
    if end <= start:
        # Everything complete here is known already (or there is no complete line yet: then
        # the file is not remembered, and read once it has one).
        report.status = "no-new-rows"
        if not is_new:
            log.files[key] = FileEntry(st.st_size, st.st_mtime_ns, stream.id)
        return report
    log.files[key] = FileEntry(st.st_size, st.st_mtime_ns, stream.id)
    data, data_offset = content, start
    if start > 0 or end < size:
        data = staging / f"{n}.slice"
        _copy_range(content, data, start, end)
        data_offset = 0
    return _Work(
        source=key,
        data=data,
        data_offset=data_offset,
        end=end,
        content=content,
        start=start,
        layout=_detect_layout(first),
        stream=stream,
        new_stream=is_new,
        report=report,
    )


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _match_stream(fh: BinaryIO, head: bytes, size: int, log: IngestLog) -> Stream | None:
    """The known stream this content continues (longest read first), if any."""
    candidates = sorted(log.streams.values(), key=lambda s: s.offset, reverse=True)
    for stream in candidates:
        if stream.head_len > len(head) or stream.offset > size or stream.offset == 0:
            continue
        if _sha(head[: stream.head_len]) != stream.head_sha:
            continue
        tail_from = max(0, stream.offset - TAIL_BYTES)
        fh.seek(tail_from)
        if _sha(fh.read(stream.offset - tail_from)) == stream.tail_sha:
            return stream
    return None


def _last_line_end(fh: BinaryIO, start: int, size: int) -> int:
    """Offset just after the last newline at or after `start` (start when there is none)."""
    pos = size
    while pos > start:
        step = min(CHUNK, pos - start)
        fh.seek(pos - step)
        block = fh.read(step)
        i = block.rfind(b"\n")
        if i >= 0:
            return pos - step + i + 1
        pos -= step
    return start


def _copy_range(src: Path, dest: Path, start: int, end: int) -> None:
    with src.open("rb") as fin, dest.open("wb") as fout:
        fin.seek(start)
        left = end - start
        while left > 0:
            block = fin.read(min(CHUNK, left))
            if not block:
                break
            fout.write(block)
            left -= len(block)


def _detect_layout(first: bytes) -> Layout:
    """The layout of the first row that has one; the contract's when none does."""
    text = first.decode("utf-8", errors="replace").splitlines(keepends=True)
    reader = csv.reader(text, strict=True)
    try:
        for fields in reader:
            layout = layout_for(fields)
            if layout is not None:
                return layout
    except csv.Error:
        pass
    return CONTRACT_LAYOUT


# --- loading with DuckDB -------------------------------------------------------------------

_READ_TYPES = {
    "start": "TIMESTAMP",
    "answer": "TIMESTAMP",
    "end": "TIMESTAMP",
    "duration": "UINTEGER",
    "billsec": "UINTEGER",
    "disposition": "pabx_disposition",
    "sequence": "UBIGINT",
}


def _sql_text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _quoted(column: str) -> str:
    return f'"{column}"'


def _to_utc(tz: str, column: str) -> str:
    """SQL for a naive time of the file as an instant: a plain cast when the file is in UTC (the
    session time zone; far cheaper than an ICU conversion per row), else timezone()."""
    if tz.upper() in ("UTC", "GMT", "ETC/UTC"):
        return f"{column}::TIMESTAMPTZ"
    return f"timezone({_sql_text(tz)}, {column})"


def _utc_date(tz: str, column: str) -> str:
    if tz.upper() in ("UTC", "GMT", "ETC/UTC"):
        return f"CAST({column} AS DATE)"
    return f"CAST(timezone('UTC', timezone({_sql_text(tz)}, {column})) AS DATE)"


def _select_layout(items: list[_Work], layout: Layout, tz: str, scan: int) -> str:
    cols = "{" + ", ".join(f"'{c}': '{_READ_TYPES.get(c, 'VARCHAR')}'" for c in layout.columns) + "}"
    not_null = "[" + ", ".join(f"'{c}'" for c in layout.columns if c != "answer") + "]"
    files = "[" + ", ".join(_sql_text(str(w.data)) for w in items) + "]"
    names = ", ".join(f"({_sql_text(str(w.data))}, {_sql_text(w.source)})" for w in items)
    out = []
    for col, kind in STORE_COLUMNS:
        if col == "source":
            out.append("m.source AS source")
        elif col not in layout.columns:
            out.append(f'NULL::{kind} AS "{col}"')
        elif kind == "TIMESTAMPTZ":
            out.append(f'{_to_utc(tz, f"r.{_quoted(col)}")} AS "{col}"')
        elif col == "disposition":
            out.append("r.disposition::VARCHAR AS disposition")
        else:
            out.append(f'r."{col}"::{kind} AS "{col}"')
    out.append(f"{_utc_date(tz, 'r.start')} AS date")
    return (
        f"SELECT {', '.join(out)} FROM read_csv({files}, columns = {cols}, header = false, "
        "delim = ',', quote = '\"', escape = '\"', auto_detect = false, strict_mode = true, "
        f"allow_quoted_nulls = false, force_not_null = {not_null}, timestampformat = '{TIME_FORMAT}', "
        f"store_rejects = true, rejects_table = 'rej_errors_{scan}', rejects_scan = 'rej_scans_{scan}', "
        "filename = 'pabx_file', parallel = true) r "
        f"JOIN (VALUES {names}) m(file, source) ON r.pabx_file = m.file"
    )


def _load(
    work: list[_Work],
    out: Path,
    batch: str,
    result: IngestResult,
    tz: str,
    memory_limit: str,
    store: Path,
) -> None:
    con = connect(memory_limit=memory_limit, temp_dir=store / META_DIR / "tmp")
    try:
        _check_timezone(con, tz)
        con.execute("SET preserve_insertion_order = false")
        con.execute("SET partitioned_write_max_open_files = 4")
        con.execute("SET partitioned_write_flush_threshold = 262144")
        enum = ", ".join(_sql_text(d) for d in DISPOSITIONS)
        con.execute(f"CREATE TYPE pabx_disposition AS ENUM ({enum})")
        groups: dict[Layout, list[_Work]] = {}
        for item in work:
            groups.setdefault(item.layout, []).append(item)
        selects = [_select_layout(items, layout, tz, i) for i, (layout, items) in enumerate(groups.items())]
        out.mkdir(parents=True, exist_ok=True)
        con.execute(
            f"COPY ({' UNION ALL '.join(selects)}) TO {_sql_text(str(out))} "
            "(FORMAT parquet, PARTITION_BY (date), COMPRESSION zstd, "
            f"FILENAME_PATTERN 'part-{batch}-{{i}}')"
        )
        counts = con.execute(
            f"SELECT source, count(*) FROM read_parquet({_sql_text(str(out / 'date=*' / '*.parquet'))}) GROUP BY 1"
        ).fetchall()
        by_source = {source: n for source, n in counts}
        fallback: list[tuple[object, ...]] = []
        by_data = {str(w.data): w for w in work}
        for i in range(len(groups)):
            _collect_rejects(con, i, by_data, result, fallback)
        if fallback:
            _write_fallback(con, fallback, out, batch, tz)
            for row in fallback:
                by_source[str(row[-1])] = by_source.get(str(row[-1]), 0) + 1
        _write_fragments(con, out, store, batch)
        for item in work:
            item.report.rows = by_source.get(item.source, 0)
            result.rows_new += item.report.rows
            result.rows_read += item.report.rows + item.report.malformed
    finally:
        con.close()


def _write_fragments(con: duckdb.DuckDBPyConnection, out: Path, store: Path, batch: str) -> None:
    """One row per call of this batch (analytics.FRAGMENT_SQL) under out/_calls/, and under
    out/_merge/ the calls whose earlier legs came in an earlier batch (merged when read)."""
    legs = list(out.glob("date=*/*.parquet"))
    if not legs:
        return
    con.execute(DDD_MACRO)
    listed = ", ".join(_sql_text(str(p)) for p in legs)
    source = f"(SELECT * FROM read_parquet([{listed}]))"
    frag_out = out / "_calls"
    con.execute(
        f"COPY (SELECT *, CAST(timezone('UTC', start_utc) AS DATE) AS date "
        f"FROM ({FRAGMENT_SQL.replace('{source}', source)}) ORDER BY date) "
        f"TO {_sql_text(str(frag_out))} (FORMAT parquet, PARTITION_BY (date), COMPRESSION zstd, "
        f"FILENAME_PATTERN 'part-{batch}-{{i}}')"
    )
    new = list(frag_out.glob("date=*/*.parquet"))
    days = sorted(dt.date.fromisoformat(p.parent.name[5:]) for p in new)
    if not days:
        return
    old: list[Path] = []
    calls = store / CALLS_DIR
    for day in partitions(calls):
        if days[0] - dt.timedelta(days=1) <= day <= days[-1] + dt.timedelta(days=1):
            old.extend((calls / f"date={day.isoformat()}").glob("*.parquet"))
    if not old:
        return
    new_list = ", ".join(_sql_text(str(p)) for p in new)
    old_list = ", ".join(_sql_text(str(p)) for p in old)
    found = con.execute(
        f"SELECT count(*) FROM read_parquet([{new_list}]) "
        f"WHERE call_id IN (SELECT call_id FROM read_parquet([{old_list}]))"
    ).fetchone()
    if found and found[0]:
        (out / "_merge").mkdir(parents=True, exist_ok=True)
        con.execute(
            f"COPY (SELECT DISTINCT call_id FROM read_parquet([{new_list}]) "
            f"WHERE call_id IN (SELECT call_id FROM read_parquet([{old_list}]))) "
            f"TO {_sql_text(str(out / '_merge' / f'part-{batch}.parquet'))} (FORMAT parquet)"
        )


def _check_timezone(con: duckdb.DuckDBPyConnection, tz: str) -> None:
    try:
        con.execute(f"SELECT timezone({_sql_text(tz)}, TIMESTAMP '2000-01-01')").fetchall()
    except duckdb.Error:
        raise UserError(f"{tz!r} is not a known time zone (e.g. UTC, America/Sao_Paulo)") from None


def _collect_rejects(
    con: duckdb.DuckDBPyConnection,
    scan: int,
    by_data: dict[str, _Work],
    result: IngestResult,
    fallback: list[tuple[object, ...]],
) -> None:
    rows = con.execute(
        f"SELECT DISTINCT ON (s.file_path, e.line) "
        f"s.file_path, e.line, e.byte_position, e.error_type, e.csv_line, e.error_message "
        f"FROM rej_errors_{scan} e JOIN rej_scans_{scan} s USING (scan_id, file_id) "
        "ORDER BY s.file_path, e.line, e.byte_position"
    ).fetchall()
    locator: dict[str, _LineLocator] = {}
    for file_path, _line, byte_position, error_type, csv_line, message in rows:
        item = by_data[str(file_path)]
        why = str(message)
        if error_type in ("TOO MANY COLUMNS", "MISSING COLUMNS") and csv_line is not None:
            values, why = _reparse(str(csv_line))
            if values is not None:
                fallback.append(_store_row(values, item.source))
                continue
        loc = locator.setdefault(item.source, _LineLocator(item))
        line = loc.line_of(int(byte_position or 0), str(csv_line or ""))
        item.report.malformed += 1
        result.malformed += 1
        if len(result.problems) < KEEP_PROBLEMS:
            result.problems.append(Malformed(item.source, line, _short(error_type, why)))
    for loc in locator.values():
        loc.close()


def _short(error_type: object, why: str) -> str:
    first = why.strip().splitlines()[0] if why.strip() else str(error_type)
    return f"{str(error_type).lower()}: {first}" if error_type else first


def _reparse(text: str) -> tuple[dict[str, object] | None, str]:
    try:
        rows = list(csv.reader(text.splitlines(keepends=True) or [""], strict=True))
    except csv.Error as exc:
        return None, f"bad quoting: {exc}"
    if len(rows) != 1:
        return None, "not one CSV record"
    values, why = parse_fields(rows[0])
    return (dict(values), "") if values is not None else (None, why)


def _store_row(values: dict[str, object], source: str) -> tuple[object, ...]:
    row: list[object] = []
    for col, _kind in STORE_COLUMNS:
        if col == "source":
            row.append(source)
        else:
            row.append(values.get(col))
    return tuple(row)


def _write_fallback(
    con: duckdb.DuckDBPyConnection, rows: list[tuple[object, ...]], out: Path, batch: str, tz: str
) -> None:
    cols = ", ".join(f'"{c}" {"TIMESTAMP" if k == "TIMESTAMPTZ" else k}' for c, k in STORE_COLUMNS)
    con.execute(f"CREATE TEMP TABLE fallback ({cols})")
    marks = ", ".join("?" for _ in STORE_COLUMNS)
    con.executemany(f"INSERT INTO fallback VALUES ({marks})", [list(r) for r in rows])
    select = []
    for col, kind in STORE_COLUMNS:
        if kind == "TIMESTAMPTZ":
            select.append(f'{_to_utc(tz, _quoted(col))} AS "{col}"')
        else:
            select.append(f'"{col}"')
    select.append(f"{_utc_date(tz, 'start')} AS date")
    con.execute(
        f"COPY (SELECT {', '.join(select)} FROM fallback) TO {_sql_text(str(out))} "
        f"(FORMAT parquet, PARTITION_BY (date), COMPRESSION zstd, OVERWRITE_OR_IGNORE, "
        f"FILENAME_PATTERN 'part-{batch}-x{{i}}')"
    )


class _LineLocator:
    """Physical line numbers of rejected rows: DuckDB gives a byte position inside the row."""

    def __init__(self, item: _Work) -> None:
        self.item = item
        self._fh = item.data.open("rb")
        size = item.data.stat().st_size
        self._map = mmap.mmap(self._fh.fileno(), 0, access=mmap.ACCESS_READ) if size else None
        self._base: int | None = None
        self._cursor = item.data_offset

    def base(self) -> int:
        """Lines before the new bytes, in the whole file."""
        if self._base is None:
            count = 0
            if self.item.start:
                with self.item.content.open("rb") as fh:
                    left = self.item.start
                    while left > 0:
                        block = fh.read(min(CHUNK, left))
                        if not block:
                            break
                        count += block.count(b"\n")
                        left -= len(block)
            self._base = count
        return self._base

    def line_of(self, byte_position: int, csv_line: str) -> int:
        """Rows are asked for in file order: find each one's text from the previous one on."""
        if self._map is None:
            return self.base() + 1
        offset = self.item.data_offset
        row = csv_line.encode("utf-8", errors="replace")
        begin = self._map.find(row, max(offset, self._cursor)) if row else -1
        if begin < 0:
            begin = offset + byte_position  # DuckDB's position of the error, inside the row
        else:
            self._cursor = begin + 1
        in_data = self._map[offset:begin].count(b"\n")
        return self.base() + in_data + 1

    def close(self) -> None:
        if self._map is not None:
            self._map.close()
        self._fh.close()


# --- making a batch visible ------------------------------------------------------------------


def _commit(
    store: Path, log: IngestLog, out: Path, batch: str, work: list[_Work], result: IngestResult
) -> None:
    moves = []
    if out.exists():
        moves += [(p, store / p.parent.name / p.name) for p in sorted(out.glob("date=*/*.parquet"))]
        moves += [
            (p, store / CALLS_DIR / p.parent.name / p.name) for p in sorted(out.glob("_calls/*/*.parquet"))
        ]
        moves += [(p, store / MERGE_DIR / p.name) for p in sorted(out.glob("_merge/*.parquet"))]
    log.pending = {"batch": batch, "files": [str(dest.relative_to(store)) for _, dest in moves]}
    log.save()
    for src, dest in moves:
        dest.parent.mkdir(parents=True, exist_ok=True)
        os.replace(src, dest)
    for item in work:
        _advance(item, log)
    log.pending = None
    result.batch = batch
    result.part_files = len(moves)


def _advance(item: _Work, log: IngestLog) -> None:
    stream = item.stream
    with item.content.open("rb") as fh:
        head_len = min(HEAD_BYTES, item.end)
        if head_len > stream.head_len:
            stream.head_len = head_len
            stream.head_sha = _sha(fh.read(head_len))
        tail_from = max(0, item.end - TAIL_BYTES)
        fh.seek(tail_from)
        stream.tail_sha = _sha(fh.read(item.end - tail_from))
    stream.offset = item.end
    log.streams[stream.id] = stream


def _undo_pending(store: Path, log: IngestLog) -> None:
    """A batch interrupted after its files moved but before its offsets were saved: remove it."""
    if not log.pending:
        return
    files = log.pending.get("files", [])
    for rel in files if isinstance(files, list) else []:
        (store / str(rel)).unlink(missing_ok=True)
    log.pending = None
    log.save()
