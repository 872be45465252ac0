"""Benchmark: the e-mail outbox at the scale of a busy day of missed calls.

Not a test: it prints wall and CPU times and the ratio to each target. It does fail when the
answer is wrong (a notice queued twice, a message lost or received twice).
1. render and queue 20,000 missed-call notices (the repository's own extensions with an e-mail,
   synthetic calls) into a fresh outbox, then queue the same calls again (all covered: 0 queued);
2. send 2,000 of them to an SMTP server on 127.0.0.1 (aiosmtpd, in-process, another thread);
3. `pabx mail list --search` over the 20,000-message log, as a child process.
Run it with `python bench/bench_mail.py` (or `make bench`).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET_QUEUE_S = 20.0  # 20,000 notices rendered and queued (1 ms each)
TARGET_SEND_PER_S = 100.0  # messages handed to a local SMTP server per second
TARGET_LIST_S = 3.0  # pabx mail list --search over 20,000 messages


def cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def line(label: str, wall: float, cpu_s: float, target: str, ratio: float) -> None:
    print(f"{label:<44} wall {wall:7.2f} s  cpu {cpu_s:7.2f} s  target {target:<12} ratio {ratio:5.2f}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--notices", type=int, default=20_000)
    parser.add_argument("--send", type=int, default=2_000)
    args = parser.parse_args()
    state = Path(tempfile.mkdtemp(prefix="pabx-bench-mail-"))
    os.environ["PABX_STATE_DIR"] = str(state)
    os.environ.setdefault("PABX_SECRET_KEY", "bench-throwaway-key")

    from pabx.loader import load_valid_repository
    from pabx.mail import MailStatus, Outbox
    from pabx.mail.localsmtp import LocalSmtp
    from pabx.mail.missed import MissedCall, queue_missed
    from pabx.mail.sender import send_due
    from pabx.mail.smtp import SmtpSettings
    from pabx.model.platform import SmtpSecurity

    repo, _ = load_valid_repository(ROOT)
    targets = [
        (slug, ext.number)
        for slug, tenant in sorted(repo.tenants.items())
        if tenant.status.value != "removido"
        for ext in tenant.extensions
        if ext.email
    ]
    start = dt.datetime(2026, 5, 14, 11, 0, tzinfo=dt.UTC)
    calls = [
        MissedCall(
            f"{1_700_000_000 + n}.{n}",
            targets[n % len(targets)][0],
            targets[n % len(targets)][1],
            f"119{n % 100_000_000:08d}",
            None,
            start + dt.timedelta(seconds=n),
        )
        for n in range(args.notices)
    ]
    with Outbox.for_repo(ROOT) as outbox:
        wall, before = time.perf_counter(), cpu()
        first = queue_missed(repo, outbox, calls, digest=False)
        wall, used = time.perf_counter() - wall, cpu() - before
        if len(first.queued) != args.notices:
            print(f"error: {len(first.queued)} queued, expected {args.notices}", file=sys.stderr)
            return 1
        line(
            f"queue {args.notices:,} notices", wall, used, f"< {TARGET_QUEUE_S:.0f} s", wall / TARGET_QUEUE_S
        )
        wall, before = time.perf_counter(), cpu()
        again = queue_missed(repo, outbox, calls, digest=False)
        wall, used = time.perf_counter() - wall, cpu() - before
        if again.queued or again.already != args.notices:
            print(f"error: the rerun queued {len(again.queued)}", file=sys.stderr)
            return 1
        line(f"queue the same {args.notices:,} again (0 queued)", wall, used, "-", 0.0)
        # only the first `--send` are due now; the others wait an hour
        later = dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)
        outbox.con.execute(
            "UPDATE messages SET next_attempt_at = ? WHERE id > ?",
            (later.strftime("%Y-%m-%dT%H:%M:%SZ"), args.send),
        )
        with LocalSmtp() as server:
            settings = SmtpSettings("127.0.0.1", server.port, SmtpSecurity.NONE, "bench@pabx.invalid")
            wall, before = time.perf_counter(), cpu()
            result = send_due(outbox, settings, None)
            wall, used = time.perf_counter() - wall, cpu() - before
            received = len(server.received)
        rate = len(result.sent) / wall
        if len(result.sent) != args.send or received != args.send:
            print(
                f"error: {len(result.sent)} sent, {received} received, expected {args.send}", file=sys.stderr
            )
            return 1
        line(
            f"send {args.send:,} to a local SMTP ({rate:,.0f}/s)",
            wall,
            used,
            f"> {TARGET_SEND_PER_S:.0f}/s",
            TARGET_SEND_PER_S / rate,
        )
        assert outbox.counts()[str(MailStatus.SENT)] == args.send
    pabx = Path(sys.executable).parent / "pabx"
    wall = time.perf_counter()
    child = subprocess.run(
        [str(pabx), "mail", "list", "--search", "recepcao acme", "--repo", str(ROOT)],
        capture_output=True,
        text=True,
        check=True,
    )
    wall = time.perf_counter() - wall
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    shown = child.stdout.strip().splitlines()[-1]
    line(
        f"pabx mail list --search ({shown})",
        wall,
        children.ru_utime + children.ru_stime,
        f"< {TARGET_LIST_S:.0f} s",
        wall / TARGET_LIST_S,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
