"""Benchmark: the audit trail on a generated history of 10,000 commits over a 1,000-tenant platform.

Not a test: it prints wall times and their ratio to the targets, and stops with an error when an
answer is wrong (the followed number's history must list exactly the commits that changed it; the
point-in-time answer must name the owner the generator gave it at that moment).
Run it with `python bench/bench_audit.py` (or `make bench`, which runs every bench).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import git

from pabx.generate import GeneratorSpec, generate_platform

HISTORY_TARGET_S = 2.0
AT_TARGET_S = 1.0
START = dt.datetime(2024, 1, 2, 9, 0, tzinfo=dt.timezone(dt.timedelta(hours=-3)))
AUTHORS = (
    ("Maria Souza", "maria.souza@pabx.example.com.br"),
    ("João Lima", "joao.lima@pabx.example.com.br"),
    ("Ana Ferreira", "ana.ferreira@pabx.example.com.br"),
    ("Rodrigo Batista", "rodrigo.batista@pabx.example.com.br"),
)
_NUMBER_LINE = re.compile(r'^- \{number: "(\d+)", route: ([\w-]+), owner: ([\w-]+|null)(.*)\}$')


@dataclass
class History:
    """What the generator wrote, to check the answers against."""

    commits: int = 0
    followed: str = ""
    followed_changes: list[tuple[dt.datetime, str]] = field(default_factory=list)  # (time, owner after)


def _data(text: str) -> bytes:
    raw = text.encode("utf-8")
    return b"data %d\n" % len(raw) + raw + b"\n"


class Writer:
    """A `git fast-import` stream: one commit per call, files given as full texts."""

    def __init__(self, proc: subprocess.Popen[bytes]) -> None:
        assert proc.stdin is not None
        self.out = proc.stdin
        self.mark = 0
        self.main: int | None = None

    def commit(
        self,
        ref: str,
        files: dict[str, str],
        message: str,
        when: dt.datetime,
        author: tuple[str, str],
        parent: int | None,
        merge: int | None = None,
    ) -> int:
        self.mark += 1
        stamp = f"{int(when.timestamp())} -0300"
        head = (
            f"commit {ref}\nmark :{self.mark}\n"
            f"author {author[0]} <{author[1]}> {stamp}\ncommitter {author[0]} <{author[1]}> {stamp}\n"
        )
        self.out.write(head.encode("utf-8") + _data(message))
        if parent is not None:
            self.out.write(f"from :{parent}\n".encode())
        if merge is not None:
            self.out.write(f"merge :{merge}\n".encode())
        for path, text in files.items():
            self.out.write(f"M 100644 inline {path}\n".encode() + _data(text))
        self.out.write(b"\n")
        return self.mark


def build_history(root: Path, commits: int, tenants: int, seed: int = 7) -> History:
    """A repository whose main has `commits` commits: the generated platform, then everyday
    changes (numbers assigned and released, status and plan changes, new extensions, route and
    plan edits), one in ten through a pull request merged with GitHub's message."""
    platform = root.parent / "platform"
    generate_platform(GeneratorSpec(tenants=tenants, seed=1), platform)
    files: dict[str, str] = {}
    for path in sorted(platform.rglob("*")):
        if path.is_file():
            files[path.relative_to(platform).as_posix()] = path.read_text(encoding="utf-8")
    shutil.rmtree(platform)
    repo = git.Repo.init(root, initial_branch="main")
    rng = random.Random(seed)
    tenant_files = sorted(p for p in files if p.startswith("tenants/"))
    slugs = [p[len("tenants/") : -len(".yaml")] for p in tenant_files]
    number_files = sorted(p for p in files if p.startswith("numbers/"))
    followed_file = "numbers/11.yaml"
    followed = _NUMBER_LINE.match(files[followed_file].splitlines()[1])
    assert followed is not None
    result = History(followed=followed.group(1))
    proc = subprocess.Popen(["git", "fast-import", "--quiet", "--done"], cwd=root, stdin=subprocess.PIPE)
    writer = Writer(proc)
    when = START
    main = writer.commit("refs/heads/main", files, "Plataforma inicial", when, AUTHORS[0], None)
    made = 1
    pr = 100

    def change() -> tuple[dict[str, str], str]:
        kind = rng.random()
        if kind < 0.04 or made % 97 == 0:  # the followed number moves between tenants and back
            text = files[followed_file]
            lines = text.split("\n")
            i = next(n for n, line in enumerate(lines) if f'"{result.followed}"' in line)
            match = _NUMBER_LINE.match(lines[i])
            assert match is not None
            owner = "null" if match.group(3) != "null" else rng.choice(slugs)
            tail = ", reverse_billing: false" + ("" if owner == "null" else ', destination: "extension:2001"')
            lines[i] = f'- {{number: "{result.followed}", route: {match.group(2)}, owner: {owner}{tail}}}'
            result.followed_changes.append((when, "Disponível" if owner == "null" else owner))
            return {followed_file: "\n".join(lines)}, f"{result.followed}: {owner}"
        if kind < 0.35:  # another number assigned or released
            path = rng.choice(number_files)
            lines = files[path].split("\n")
            candidates = [
                n for n, line in enumerate(lines) if line.startswith("- {") and result.followed not in line
            ]
            i = rng.choice(candidates)
            match = _NUMBER_LINE.match(lines[i])
            if match is None:
                return {}, ""
            owner = "null" if match.group(3) != "null" else rng.choice(slugs)
            tail = ", reverse_billing: false" + ("" if owner == "null" else ', destination: "extension:2002"')
            lines[i] = f'- {{number: "{match.group(1)}", route: {match.group(2)}, owner: {owner}{tail}}}'
            return {path: "\n".join(lines)}, f"{match.group(1)}: {owner}"
        path = rng.choice(tenant_files)
        text = files[path]
        if kind < 0.6:
            status = rng.choice(["ativo", "inativo", "pendente"])
            text = re.sub(r"(?m)^status: \w+$", f"status: {status}", text)
            message = f"{path}: status {status}"
        elif kind < 0.75:
            plan = rng.choice(["basico", "empresarial", "corporativo"])
            text = re.sub(r"(?m)^plan: [\w-]+$", f"plan: {plan}", text)
            message = f"{path}: plano {plan}"
        elif kind < 0.95:
            number = 3000 + made % 5000
            text = text.replace(
                "extensions:\n", f'extensions:\n  - {{number: {number}, name: "Ramal {number}"}}\n', 1
            )
            message = f"{path}: ramal {number}"
        else:
            day = rng.randint(1, 28)
            text = re.sub(r"(?m)^due_date: .*$", f"due_date: 2026-12-{day:02d}", text)
            message = f"{path}: vencimento"
        return {path: text}, message

    while made < commits:
        when += dt.timedelta(minutes=rng.randint(20, 240))
        author = rng.choice(AUTHORS)
        if made + 2 <= commits and rng.random() < 0.1:  # a pull request: a branch commit, then the merge
            changed, message = change()
            if not changed:
                continue
            files.update(changed)
            branch = writer.commit(f"refs/heads/pr-{pr}", changed, message, when, author, main)
            when += dt.timedelta(minutes=rng.randint(5, 60))
            main = writer.commit(  # fast-import starts a commit from its first parent's tree
                "refs/heads/main",
                changed,
                f"Merge pull request #{pr} from acme-org/pr-{pr}\n\n{message}",
                when,
                ("GitHub", "noreply@github.com"),
                main,
                merge=branch,
            )
            if (
                result.followed_changes
                and result.followed_changes[-1][0] < when
                and message.startswith(result.followed)
            ):
                result.followed_changes[-1] = (when, result.followed_changes[-1][1])
            pr += 1
            made += 2
        else:
            changed, message = change()
            if not changed:
                continue
            files.update(changed)
            main = writer.commit("refs/heads/main", changed, message, when, author, main)
            made += 1
    writer.out.write(b"done\n")
    writer.out.close()
    if proc.wait() != 0:
        raise SystemExit("git fast-import failed")
    repo.git.checkout("-f", "main")
    for branch in [h for h in repo.heads if h.name != "main"]:
        repo.delete_head(branch, force=True)
    result.commits = int(repo.git.rev_list("--count", "main"))
    repo.close()
    return result


def _pabx_command() -> list[str]:
    script = Path(sys.executable).with_name("pabx")
    if script.is_file():
        return [str(script)]
    return [sys.executable, "-c", "from pabx.cli import main; main()"]


def run(args: list[str], repo: Path, state: Path, pycache: Path) -> tuple[float, float, str]:
    """(wall s, CPU s of pabx and the git processes it ran, output) of one `pabx` child."""
    env = {**os.environ, "PABX_STATE_DIR": str(state), "PYTHONPYCACHEPREFIX": str(pycache)}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(
        [*_pabx_command(), *args, "--repo", str(repo)], env=env, capture_output=True, text=True
    )
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise SystemExit(f"pabx {' '.join(args)} failed:\n{done.stderr}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, done.stdout


def check_history(output: str, history: History) -> None:
    data = json.loads(output)
    owners = [
        c["after"]
        for event in data["events"]
        for c in event["changes"]
        if c["field"] == "owner" and c["action"] == "changed"
    ]
    expected = [owner for _, owner in history.followed_changes]
    if owners != expected:
        raise SystemExit(
            f"wrong history: {len(owners)} owner changes, expected {len(expected)}:\n{owners}\n{expected}"
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--commits", type=int, default=10_000)
    parser.add_argument("--tenants", type=int, default=1_000)
    parser.add_argument("--keep", action="store_true", help="keep the generated repository")
    options = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="pabx-bench-audit-"))
    try:
        root = work / "repo"
        start = time.perf_counter()
        history = build_history(root, options.commits, options.tenants)
        print(
            f"history: {history.commits} commits over {options.tenants} tenants, generated in "
            f"{time.perf_counter() - start:.1f} s; number {history.followed} changed owner "
            f"{len(history.followed_changes)} times"
        )
        pycache = work / "pycache"
        env = {**os.environ, "PYTHONPYCACHEPREFIX": str(pycache)}
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        warm_up = "import pabx.cli.audit, pabx.cli.history, pabx.audit.output"
        subprocess.run([sys.executable, "-c", warm_up], env=env, check=True)  # bytecode, as installed
        state = work / "state"
        ask = ["history", "--number", history.followed, "--format", "json"]
        # the moment half-way through the followed number's changes: its owner then is known
        moment, owner = history.followed_changes[len(history.followed_changes) // 2]
        moment += dt.timedelta(minutes=1)
        at = ["audit", "at", "--number", history.followed, "--when", moment.isoformat(), "--format", "json"]

        figures: list[tuple[str, float, float, float]] = []
        wall, cpu, out = run(ask, root, state, pycache)
        check_history(out, history)
        figures.append(("number history, cold (builds the index)", wall, cpu, HISTORY_TARGET_S))
        for label in ("warm", "warm again"):
            wall, cpu, out = run(ask, root, state, pycache)
            check_history(out, history)
            figures.append((f"number history, {label}", wall, cpu, HISTORY_TARGET_S))

        cold_state = work / "state-at"
        for label, where in (("cold (builds the index)", cold_state), ("warm", cold_state)):
            wall, cpu, out = run(at, root, where, pycache)
            answer = json.loads(out)
            if answer["record"]["owner"] != owner:
                raise SystemExit(
                    f"wrong point in time: owner {answer['record']['owner']!r}, expected {owner!r}"
                )
            figures.append((f"point in time, {label}", wall, cpu, AT_TARGET_S))

        # new commits: the index notices them and reads only those
        repo = git.Repo(root)
        target = root / "tenants" / sorted(os.listdir(root / "tenants"))[0]
        for n in range(10):
            target.write_text(target.read_text(encoding="utf-8") + f"# {n}\n")
            repo.index.add([str(target.relative_to(root))])
            repo.index.commit(f"comentário {n}")
        repo.close()
        wall, cpu, out = run(ask, root, state, pycache)
        check_history(out, history)
        figures.append(("number history after 10 new commits", wall, cpu, HISTORY_TARGET_S))
        wall, cpu, out = run(at, root, state, pycache)
        figures.append(("point in time after 10 new commits", wall, cpu, AT_TARGET_S))

        width = max(len(label) for label, _, _, _ in figures)
        for label, wall, cpu, target_s in figures:
            print(
                f"{label:<{width}}  wall {wall:6.2f} s  cpu {cpu:6.2f} s  target {target_s:.0f} s  "
                f"ratio {wall / target_s:.2f}"
            )
        if options.keep:
            print(f"kept: {work}")
    finally:
        if not options.keep:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
