"""Ingest: every cdr_csv layout, gzip, malformed rows with file:line, only new data read."""

from __future__ import annotations

import gzip
import json
import os
from pathlib import Path

import duckdb
import pytest
from click.testing import CliRunner

from pabx.cdr.columns import LAYOUTS, Layout
from pabx.cdr.ingest import ingest
from pabx.cdr.reader import Malformed, Record, read_records
from pabx.cdr.store import create_cdr_view, partitions
from pabx.cli import main


def row(n: int, layout: Layout = LAYOUTS[-1], *, start: str = "2026-03-02 12:00:00", clid: str = "") -> str:
    """One row as cdr_csv writes it: strings quoted (quotes doubled), numbers bare."""
    values: dict[str, str] = {
        "accountcode": '"acme"',
        "src": '"2001"',
        "dst": '"2002"',
        "dcontext": '"t_acme_phones"',
        "clid": '"' + (clid or '"Recepcao" <2001>').replace('"', '""') + '"',
        "channel": f'"PJSIP/acme_2001-{n:08x}"',
        "dstchannel": f'"PJSIP/acme_2002-{n + 1:08x}"',
        "lastapp": '"Dial"',
        "lastdata": '"PJSIP/acme_2002,30"',
        "start": f'"{start}"',
        "answer": f'"{start[:-2]}05"',
        "end": f'"{start[:-2]}35"',
        "duration": "35",
        "billsec": "30",
        "disposition": '"ANSWERED"',
        "amaflags": '"DOCUMENTATION"',
        "uniqueid": f'"1772452800.{n}"',
        "userfield": '"interna:ramal"',
        "peeraccount": '"acme"',
        "linkedid": f'"1772452800.{n}"',
        "sequence": str(n),
    }
    return ",".join(values[c] for c in layout.columns) + "\n"


def stored(store: Path) -> list[tuple[object, ...]]:
    con = duckdb.connect()
    create_cdr_view(con, store)
    return con.execute(
        "SELECT channel, uniqueid, userfield, linkedid, sequence, source FROM cdr ORDER BY 1"
    ).fetchall()


@pytest.mark.parametrize("layout", LAYOUTS, ids=lambda layout: layout.name)
def test_every_layout(tmp_path: Path, layout: Layout) -> None:
    master = tmp_path / "Master.csv"
    master.write_text(row(1, layout) + row(3, layout), encoding="utf-8")
    result = ingest([master], tmp_path / "store")
    assert (result.rows_read, result.rows_new, result.malformed) == (2, 2, 0)
    first = stored(tmp_path / "store")[0]
    assert first[0] == "PJSIP/acme_2001-00000001"
    assert first[1] == ("1772452800.1" if layout.uniqueid else None)
    assert first[2] == ("interna:ramal" if layout.userfield else None)
    assert first[3:5] == (("1772452800.1", 1) if layout.newcolumns else (None, None))
    assert first[5] == str(master.resolve())


def test_widths_16_to_21() -> None:
    assert sorted({layout.width for layout in LAYOUTS}) == [16, 17, 18, 19, 20, 21]


def test_gzip_input_and_many_files(tmp_path: Path) -> None:
    plain = tmp_path / "in" / "Master.csv"
    plain.parent.mkdir()
    plain.write_text(row(1), encoding="utf-8")
    with gzip.open(tmp_path / "in" / "Master.csv.1.gz", "wt", encoding="utf-8") as fh:
        fh.write(row(11) + row(13))
    result = ingest([tmp_path / "in"], tmp_path / "store")
    assert (len(result.files), result.rows_new) == (2, 3)
    assert [r[0] for r in stored(tmp_path / "store")][-1] == "PJSIP/acme_2001-0000000d"


def test_malformed_rows_reported_with_file_and_line(tmp_path: Path) -> None:
    master = tmp_path / "Master.csv"
    lines = [
        row(1),
        row(2).replace("35,30,", "3x5,30,"),  # 2: duration not a number
        row(3, clid='Multi\nline "name"'),  # 3-4: one record on two lines (valid)
        row(5).replace('"2026-03-02 12:00:00"', '"2026-03-32 12:00:00"', 1),  # 5: impossible date
        row(6).replace('"Dial"', '"Dial"x'),  # 6: text after a closing quote
        row(7).rstrip("\n") + ',"extra"\n',  # 7: 22 fields
        row(8).replace('"ANSWERED"', '"MAYBE"'),  # 8: unknown disposition
        row(9).replace('"2026-03-02 12:00:00"', "", 1),  # 9: no start time
        row(10, Layout(True, True, False)),  # 10: 18 columns in a 21-column file: still a CDR
        row(11),
    ]
    master.write_text("".join(lines), encoding="utf-8")
    result = ingest([master], tmp_path / "store")
    assert (result.rows_new, result.malformed) == (4, 6)
    assert [p.line for p in result.problems] == [2, 5, 6, 7, 8, 9]
    assert all(p.path == str(master.resolve()) for p in result.problems)
    assert "duration" in result.problems[0].reason
    # The plain-Python reader agrees, row for row.
    python = list(read_records(master))
    assert [m.line for m in python if isinstance(m, Malformed)] == [2, 5, 6, 7, 8, 9]
    assert [r.line for r in python if isinstance(r, Record)] == [1, 3, 10, 11]  # 10 = the 18-column row
    channels = [r[0] for r in stored(tmp_path / "store")]
    assert len(channels) == 4 and "PJSIP/acme_2001-0000000a" in channels


def test_rerun_reads_nothing_and_append_reads_only_new_rows(tmp_path: Path) -> None:
    master, store = tmp_path / "Master.csv", tmp_path / "store"
    master.write_text(row(1) + row(2), encoding="utf-8")
    assert ingest([master], store).rows_new == 2
    again = ingest([master], store)
    assert (again.rows_read, again.unchanged) == (0, 1)
    with master.open("a", encoding="utf-8") as fh:
        fh.write(row(3) + row(4)[:40])  # Asterisk is still writing row 4
    appended = ingest([master], store)
    assert (appended.files[0].status, appended.rows_new, appended.files[0].waiting_bytes) == (
        "appended",
        1,
        40,
    )
    with master.open("a", encoding="utf-8") as fh:
        fh.write(row(4)[40:])
    assert ingest([master], store).rows_new == 1
    assert [r[4] for r in stored(store)] == [1, 2, 3, 4]


def test_rotated_copy_adds_nothing_but_its_extra_rows(tmp_path: Path) -> None:
    master, store = tmp_path / "Master.csv", tmp_path / "store"
    master.write_text(row(1) + row(2), encoding="utf-8")
    ingest([master], store)
    rotated = tmp_path / "Master.csv.1.gz"
    with gzip.open(rotated, "wt", encoding="utf-8") as fh:
        fh.write(row(1) + row(2) + row(3))  # one row was written before the rotation
    master.write_text(row(4), encoding="utf-8")  # the new Master.csv
    result = ingest([rotated, master], store)
    assert result.rows_new == 2
    assert [r[4] for r in stored(store)] == [1, 2, 3, 4]


def test_partitions_by_utc_date_hive_layout(tmp_path: Path) -> None:
    master, store = tmp_path / "Master.csv", tmp_path / "store"
    master.write_text(
        row(1, start="2026-03-02 23:59:59") + row(2, start="2026-03-03 00:00:00"), encoding="utf-8"
    )
    ingest([master], store)
    assert [d.isoformat() for d in partitions(store)] == ["2026-03-02", "2026-03-03"]
    files = sorted(p.relative_to(store).as_posix() for p in store.glob("date=*/*.parquet"))
    assert len(files) == 2
    assert all(f.startswith("date=2026-03-0") and "/part-" in f for f in files)
    # Any engine reads the directory: hive partitioning, hidden _pabx/ ignored.
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    got = con.execute(
        f"SELECT date, start FROM read_parquet('{store}/*/*.parquet', hive_partitioning = true) ORDER BY start"
    ).fetchall()
    assert [str(d) for d, _ in got] == ["2026-03-02", "2026-03-03"]
    assert str(got[0][1]) == "2026-03-02 23:59:59+00:00"


def test_interrupted_batch_is_undone(tmp_path: Path) -> None:
    master, store = tmp_path / "Master.csv", tmp_path / "store"
    master.write_text(row(1), encoding="utf-8")
    ingest([master], store)
    log_path = store / "_pabx" / "ingest-log.json"
    stray = store / "date=2026-03-02" / "part-crashed-0.parquet"
    stray.write_bytes((next((store / "date=2026-03-02").glob("*.parquet"))).read_bytes())
    log = json.loads(log_path.read_text())
    log["pending"] = {"batch": "crashed", "files": ["date=2026-03-02/part-crashed-0.parquet"]}
    log_path.write_text(json.dumps(log))
    ingest([master], store)
    assert not stray.exists() and len(stored(store)) == 1


def test_cli_ingest_prints_counts_and_first_problems(tmp_path: Path, runner: CliRunner) -> None:
    master = tmp_path / "Master.csv"
    master.write_text(row(1) + "garbage\n" + row(2), encoding="utf-8")
    result = runner.invoke(main, ["cdr", "ingest", str(master), "--repo", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "rows read: 3, new: 2, malformed: 1" in result.output
    assert f"{master.resolve()}:2:" in result.output
    assert Path(os.environ["PABX_STATE_DIR"], "cdr").is_dir()
    again = runner.invoke(main, ["cdr", "ingest", str(master), "--repo", str(tmp_path)])
    assert "rows read: 0, new: 0, malformed: 0" in again.output


def test_cli_missing_path_is_a_user_error(tmp_path: Path, runner: CliRunner) -> None:
    result = runner.invoke(main, ["cdr", "ingest", str(tmp_path / "nope.csv")])
    assert result.exit_code == 2
    assert "Traceback" not in result.output
