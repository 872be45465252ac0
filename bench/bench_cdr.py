"""CDR store benchmark: 10 million Master.csv rows through ingest, the dataset and a re-run.

1. `pabx cdr simulate` writes one day of calls for this repository; DuckDB replicates it over
   30 days (times shifted, ids renumbered) into one Master.csv of `--rows` rows, with cdr_csv's
   quoting.
2. Baseline, same run: a bare DuckDB `read_csv` + group-by of that file (child process).
3. `pabx cdr ingest` (child process, fresh state dir), `build_dataset` for the 30 days from
   the store, and `pabx cdr ingest` again with nothing new.
Each step prints wall time and peak RSS (os.wait4) and its ratio to the target. Exit 1 only
when an answer is wrong (rows lost, malformed rows, an empty dataset), never for slowness.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
_BESIDE = Path(sys.executable).parent / "pabx"
PABX = [str(_BESIDE)] if _BESIDE.exists() else [shutil.which("pabx") or "pabx"]
END = dt.date(2026, 3, 31)


def child(cmd: list[str], env: dict[str, str]) -> tuple[float, float, str]:
    """Run `cmd`; (wall seconds, peak RSS MiB, stdout)."""
    start = time.perf_counter()
    with tempfile.TemporaryFile() as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=ROOT)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        out.seek(0)
        text = out.read().decode("utf-8", errors="replace")
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"failed: {' '.join(cmd)}\n{text}")
    return wall, usage.ru_maxrss / 1024, text


def make_master(work: Path, rows: int, env: dict[str, str]) -> Path:
    day_file = work / "day.csv"
    child(
        [*PABX, "cdr", "simulate", "--days", "1", "--calls-per-day", "60000", "--out", str(day_file),
         "--end", END.isoformat(), "--seed", "1"],
        env,
    )  # fmt: skip
    master = work / "Master.csv"
    child([sys.executable, __file__, "--generate", str(day_file), str(master), str(rows)], env)
    return master


def generate(day_file: Path, master: Path, rows: int) -> None:
    """Copies of one day's rows, day after day (oldest first), as cdr_csv appends them."""
    import duckdb

    con = duckdb.connect()
    con.execute(
        f"CREATE TABLE t AS SELECT *, row_number() OVER () AS rn FROM read_csv('{day_file}', header=false, "
        "all_varchar=true, quote='\"', escape='\"')"
    )
    n = con.execute("SELECT count(*) FROM t").fetchone()[0]  # type: ignore[index]
    copies = -(-rows // n)
    per_day = -(-copies // 30)
    left = rows
    with master.open("wb") as out:
        for i in range(copies):
            shift = f"- to_days({(copies - 1 - i) // per_day}) + to_seconds({(i % per_day) * 7})"
            part = master.with_suffix(f".part{i}")
            times = ", ".join(
                f"strftime(column{c:02d}::TIMESTAMP {shift}, '%Y-%m-%d %H:%M:%S') AS c{c:02d}"
                for c in (9, 10, 11)
            )
            con.execute(
                f"""
                COPY (
                  SELECT column00 AS c00, column01 AS c01, column02 AS c02, column03 AS c03, column04 AS c04,
                    column05 AS c05, column06 AS c06, column07 AS c07, column08 AS c08, {times},
                    column12::INTEGER AS c12, column13::INTEGER AS c13, column14 AS c14, column15 AS c15,
                    column16 || '{i:04d}' AS c16, column17 AS c17, column18 AS c18,
                    column19 || '{i:04d}' AS c19, column20::BIGINT + {i * 1_000_000} AS c20
                  FROM t ORDER BY rn LIMIT {min(left, n)}
                ) TO '{part}' (FORMAT csv, HEADER false, QUOTE '"', ESCAPE '"',
                  FORCE_QUOTE (c00, c01, c02, c03, c04, c05, c06, c07, c08, c09, c10, c11, c14, c15, c16, c17,
                               c18, c19))
                """
            )
            left -= min(left, n)
            with part.open("rb") as fh:
                shutil.copyfileobj(fh, out, 1 << 22)
            part.unlink()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--keep", type=Path, default=None, help="work in DIR and leave it there")
    parser.add_argument(
        "--reuse", action="store_true", help="with --keep: reuse DIR/Master.csv if it is there"
    )
    parser.add_argument("--generate", nargs=3, metavar=("DAY", "MASTER", "ROWS"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.generate:
        generate(Path(args.generate[0]), Path(args.generate[1]), int(args.generate[2]))
        return 0
    work = args.keep or Path(tempfile.mkdtemp(prefix="bench-cdr-"))
    work.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, PABX_STATE_DIR=str(work / "state"))
    shutil.rmtree(work / "state", ignore_errors=True)
    try:
        t0 = time.perf_counter()
        master = work / "Master.csv"
        if not (args.reuse and master.exists()):
            master = make_master(work, args.rows, env)
        size = master.stat().st_size / 2**20
        print(f"Master.csv: {args.rows:,} rows, {size:,.0f} MiB (made in {time.perf_counter() - t0:.1f} s)")
        baseline_sql = (
            "import duckdb; print(duckdb.connect().execute("
            f'"SELECT column00, count(*), sum(column13) FROM read_csv({str(master)!r}, header=false) GROUP BY ALL"'
            ").fetchall()[:1])"
        )
        base, base_rss, _ = child([sys.executable, "-c", baseline_sql], env)
        print(f"baseline  read_csv + group-by: {base:6.1f} s  peak {base_rss:6.0f} MiB")
        ingest, ingest_rss, out = child([*PABX, "cdr", "ingest", "--format", "json", str(master)], env)
        result = json.loads(out)
        if result["rows_new"] != args.rows or result["malformed"]:
            print(
                f"WRONG: ingest stored {result['rows_new']} rows, {result['malformed']} malformed",
                file=sys.stderr,
            )
            return 1
        print(
            f"ingest    {result['rows_new']:,} rows:      {ingest:6.1f} s  peak {ingest_rss:6.0f} MiB  "
            f"{ingest / base:.2f}x baseline (target 3x)"
        )
        code = (
            "import datetime as dt, time, json, sys; from pathlib import Path\n"
            "from pabx.loader import load_valid_repository; from pabx.cdr.dataset import build_dataset\n"
            "from pabx.cdr.store import store_dir\n"
            "repo, _ = load_valid_repository(Path('.'))\n"
            "t = time.perf_counter()\n"
            f"d = build_dataset(repo, store_dir(Path('.')), tenant=None, date_from=dt.date.fromisoformat('{END - dt.timedelta(days=29)}'), "
            f"date_to=dt.date.fromisoformat('{END}'), today=dt.date.fromisoformat('{END}'))\n"
            "print(json.dumps({'seconds': time.perf_counter() - t, 'calls': sum(r['calls'] for r in d['daily'])}))\n"
        )
        wall, ds_rss, out = child([sys.executable, "-c", code], env)
        figures = json.loads(out.strip().splitlines()[-1])
        if figures["calls"] <= 0:
            print("WRONG: the dataset counted no calls", file=sys.stderr)
            return 1
        print(
            f"dataset   30 days, {figures['calls']:,} calls: {figures['seconds']:6.1f} s  peak {ds_rss:6.0f} MiB  "
            f"(process {wall:.1f} s; target 5 s)"
        )
        rerun, rerun_rss, out = child([*PABX, "cdr", "ingest", "--format", "json", str(master)], env)
        if json.loads(out)["rows_new"] != 0:
            print("WRONG: the re-run stored rows again", file=sys.stderr)
            return 1
        print(f"re-run    nothing new:        {rerun:6.1f} s  peak {rerun_rss:6.0f} MiB  (target 2 s)")
        peak = max(ingest_rss, ds_rss, rerun_rss)
        print(f"peak memory of pabx: {peak:,.0f} MiB (target 2048 MiB)")
    finally:
        if args.keep is None:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
