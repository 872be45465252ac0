"""Real git histories for the audit tests, written with GitPython: authors, dates, renames,
deletions, branches merged as pull requests, shallow clones."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import git
from git import Actor

from tests.conftest import ROOT

MARIA = Actor("Maria Souza", "maria.souza@pabx.example.com.br")
JOAO = Actor("João Lima", "joao.lima@pabx.example.com.br")
ANA = Actor("Ana Ferreira", "ana.ferreira@pabx.example.com.br")
BOT = Actor("GitHub", "noreply@github.com")

DATA = ("inventory", "tenants", "numbers", "routes", "plans", "schemas")


class Timeline:
    """A git repository in a folder, built commit by commit with explicit authors and dates."""

    def __init__(self, path: Path, *, demo: bool = True) -> None:
        self.root = path
        path.mkdir(parents=True, exist_ok=True)
        self.repo = git.Repo.init(path, initial_branch="main")
        with self.repo.config_writer() as config:
            config.set_value("user", "name", "Test Runner")
            config.set_value("user", "email", "runner@example.com")
            config.set_value("commit", "gpgsign", "false")
        if demo:
            for folder in DATA:
                shutil.copytree(ROOT / folder, path / folder)

    # --- files --------------------------------------------------------------------------------

    def read(self, rel: str) -> str:
        return (self.root / rel).read_text(encoding="utf-8")

    def write(self, rel: str, text: str) -> None:
        target = self.root / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")

    def edit(self, rel: str, old: str, new: str, count: int = 1) -> None:
        text = self.read(rel)
        assert text.count(old) >= count, f"{old!r} not in {rel}"
        self.write(rel, text.replace(old, new, count))

    def delete(self, rel: str) -> None:
        self.repo.index.remove([rel], working_tree=True)

    def rename(self, old: str, new: str) -> None:
        self.repo.index.move([old, new])

    # --- commits ------------------------------------------------------------------------------

    def commit(self, message: str, author: Actor, when: str, *, committer: Actor | None = None) -> str:
        """Stage every change of the work tree and commit it at `when` (ISO 8601 with offset)."""
        self.repo.git.add("-A")
        commit = self.repo.index.commit(
            message,
            author=author,
            committer=committer or author,
            author_date=dt.datetime.fromisoformat(when),
            commit_date=dt.datetime.fromisoformat(when),
        )
        return commit.hexsha

    def branch(self, name: str, start: str = "main") -> None:
        self.repo.git.checkout("-b", name, start)

    def checkout(self, name: str) -> None:
        self.repo.git.checkout(name)

    def merge_pr(self, branch: str, number: int, when: str, *, into: str = "main") -> str:
        """Merge `branch` into main with GitHub's merge commit message and identity."""
        self.repo.git.checkout(into)
        env = {
            "GIT_AUTHOR_NAME": BOT.name or "",
            "GIT_AUTHOR_EMAIL": BOT.email or "",
            "GIT_COMMITTER_NAME": BOT.name or "",
            "GIT_COMMITTER_EMAIL": BOT.email or "",
            "GIT_AUTHOR_DATE": when,
            "GIT_COMMITTER_DATE": when,
        }
        self.repo.git.merge(
            "--no-ff",
            "-m",
            f"Merge pull request #{number} from acme-org/{branch}\n\n{branch}",
            branch,
            env=env,
        )
        return self.repo.head.commit.hexsha

    def head(self) -> str:
        return self.repo.head.commit.hexsha

    def note(self, commit: str, records: list[dict[str, str]]) -> None:
        """Deploy records as the apply writes them: JSON lines in refs/notes/pabx-deploy."""
        try:
            existing = self.repo.git.notes("--ref", "pabx-deploy", "show", commit)
        except git.GitCommandError:
            existing = ""
        lines = [line for line in existing.splitlines() if line.strip()]
        lines += [json.dumps(r, sort_keys=True) for r in records]
        self.repo.git.notes("--ref", "pabx-deploy", "add", "-f", "-m", "\n".join(lines), commit)

    def fingerprint(self) -> tuple[str, str, str]:
        """What a read-only tool must leave untouched: refs, index file and work-tree status."""
        refs = self.repo.git.for_each_ref("--format=%(refname) %(objectname)")
        index = (Path(self.repo.git_dir) / "index").read_bytes()
        status = self.repo.git.status("--porcelain", "--untracked-files=all")
        return refs, str(hash(index)), status


def record(server: str, revision: str, time: str, result: str = "ok") -> dict[str, str]:
    return {
        "server": server,
        "revision": revision,
        "checksum": "c" * 64,
        "time": time,
        "result": result,
        "actor": "ci (github actions)",
        "release": f"{revision[:12]}-cccccccc",
    }


NUMBER = "1130010030"
ACME_LINE = '- {number: "1130010030", route: sp-principal, owner: null, reverse_billing: false}'


def _owner_line(owner: str, destination: str) -> str:
    return f'- {{number: "1130010030", route: sp-principal, owner: {owner}, reverse_billing: false, destination: "{destination}"}}'


def build_scenario(path: Path) -> dict[str, str]:
    """The history the audit tests share: the demo data, then a year of changes by three people
    (see tests/test_audit.py for what each commit is for). Returns the commit ids by name."""
    t = Timeline(path)
    shas = {"root": t.commit("Dados iniciais da plataforma", MARIA, "2026-01-05T10:00:00-03:00")}
    t.edit("tenants/acme.yaml", "status: ativo", "status: inativo")
    t.edit("numbers/11.yaml", ACME_LINE, _owner_line("acme", "extension:2001"))
    shas["suspend"] = t.commit("acme: suspende e recebe 1130010030", JOAO, "2026-01-20T09:00:00-03:00")
    t.branch("plano-acme")
    t.edit("tenants/acme.yaml", "plan: empresarial", "plan: corporativo")
    shas["plan"] = t.commit("acme: plano corporativo", ANA, "2026-02-10T15:00:00-03:00")
    shas["merge"] = t.merge_pr("plano-acme", 12, "2026-02-15T12:00:00-03:00")
    t.edit(
        "numbers/11.yaml", _owner_line("acme", "extension:2001"), _owner_line("conecta-telecom", "queue:600")
    )
    shas["to-conecta"] = t.commit("1130010030 para conecta-telecom", MARIA, "2026-03-01T09:00:00-03:00")
    t.edit(
        "numbers/11.yaml", _owner_line("conecta-telecom", "queue:600"), _owner_line("acme", "extension:2001")
    )
    shas["back"] = t.commit("1130010030 de volta para acme", JOAO, "2026-03-10T09:00:00-03:00")
    t.edit("routes/sp-principal.yaml", "ldn_movel: embratel", "ldn_movel: claro-rj")
    shas["route"] = t.commit(
        "Rota sp-principal: LDN móvel pela Claro (#15)", JOAO, "2026-04-01T11:00:00-03:00"
    )
    t.rename("tenants/acme.yaml", "tenants/acme-comercio.yaml")
    t.edit("numbers/11.yaml", "owner: acme,", "owner: acme-comercio,", count=5)
    shas["rename"] = t.commit("acme passa a acme-comercio", ANA, "2026-05-04T10:00:00-03:00")
    t.edit(
        "numbers/11.yaml",
        '- {number: "1130010033", route: sp-principal, owner: null, reverse_billing: false}\n',
        "",
    )
    shas["delete"] = t.commit("remove 1130010033", MARIA, "2026-06-01T10:00:00-03:00")
    t.edit(
        "numbers/11.yaml",
        '- {number: "1130010040"',
        '- {number: "1130010033", route: sp-principal, owner: null, reverse_billing: true}\n- {number: "1130010040"',
    )
    shas["readd"] = t.commit("1130010033 de volta, com tarifação reversa", JOAO, "2026-07-01T10:00:00-03:00")
    moved = '- {number: "2130020003", route: rj-principal, owner: construtora-horizonte, reverse_billing: false, destination: "extension:2001"}\n'
    t.edit("numbers/21.yaml", moved, "")
    t.write("numbers/11.yaml", t.read("numbers/11.yaml") + moved)
    shas["move"] = t.commit("2130020003 no arquivo errado", MARIA, "2026-07-15T10:00:00-03:00")
    t.edit("plans/corporativo.yaml", "ldi: 0.90", "ldi: 0.75")
    t.write(
        "inventory/group_vars/asterisk.yml",
        t.read("inventory/group_vars/asterisk.yml") + "api_token: s3cr3t\n",
    )
    shas["tariff"] = t.commit("corporativo: LDI mais barata", ANA, "2026-08-01T10:00:00-03:00")
    # a pull request and a commit on main touching the same tenant, merged without conflict
    t.branch("email-mercadinho")
    text = t.read("tenants/mercadinho-bom-preco.yaml")
    t.write("tenants/mercadinho-bom-preco.yaml", text.replace("email: ", "email: novo.", 1))
    shas["email"] = t.commit("mercadinho: novo e-mail", MARIA, "2026-08-10T10:00:00-03:00")
    t.checkout("main")
    t.edit("tenants/mercadinho-bom-preco.yaml", "due_date: ", "due_date: 2027-01-15\n#was: ", count=1)
    shas["due"] = t.commit("mercadinho: vencimento", JOAO, "2026-08-11T10:00:00-03:00")
    shas["merge2"] = t.merge_pr("email-mercadinho", 21, "2026-08-12T10:00:00-03:00")
    shas["path"] = str(t.root)
    return shas
