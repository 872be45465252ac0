"""Field-level history from real git repositories: several authors and dates, a pull request
merged with GitHub's message and a squash, a number moving between tenants and back, a tenant
file renamed, a number deleted and added again, an entry moving between files."""

from __future__ import annotations

import csv
import io
import json
import shutil
from pathlib import Path

import git
import pytest
from click.testing import CliRunner
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from pabx.audit import parts
from pabx.audit.diff import CREATED, DELETED, MOVED, RENAMED, diff_texts
from pabx.audit.fields import Entity
from pabx.audit.history import History, Selector, history
from pabx.audit.index import AuditIndex
from pabx.cli import main
from tests.audit_support import ANA, DATA, JOAO, MARIA, NUMBER, Timeline, build_scenario
from tests.conftest import ROOT


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """One history shared by the read-only tests; returns the commit ids by name."""
    return build_scenario(tmp_path_factory.mktemp("audit") / "repo")


EVERYTHING = Selector()


def _history(scenario: dict[str, str], selector: Selector = EVERYTHING, **kw: object) -> History:
    return history(Path(scenario["path"]), selector, **kw)  # type: ignore[arg-type]


def _field(found: History, name: str) -> list[tuple[str, str | None, str | None]]:
    return [(e.commit.sha, c.before, c.after) for e in found.events for c in e.changes if c.field == name]


def test_number_moves_between_tenants_and_back(scenario: dict[str, str]) -> None:
    found = _history(scenario, Selector(kind="number", key=NUMBER))
    owners = _field(found, "owner")
    assert owners == [
        (scenario["root"], None, "Disponível"),
        (scenario["suspend"], "Disponível", "acme"),
        (scenario["to-conecta"], "acme", "conecta-telecom"),
        (scenario["back"], "conecta-telecom", "acme"),
        (scenario["rename"], "acme", "acme-comercio"),
    ]
    destinations = _field(found, "destination")
    assert destinations[0] == (scenario["suspend"], "—", "extension:2001")
    assert destinations[1] == (scenario["to-conecta"], "extension:2001", "queue:600")
    authors = [e.commit.author_name for e in found.events]
    assert authors == ["Maria Souza", "João Lima", "Maria Souza", "João Lima", "Ana Ferreira"]


def test_number_history_accepts_any_spelling(scenario: dict[str, str]) -> None:
    plain = _history(scenario, Selector(kind="number", key=NUMBER))
    spelled = _history(scenario, Selector(kind="number", key="+55 (11) 3001-0030"))
    assert [e.commit.sha for e in spelled.events] == [e.commit.sha for e in plain.events]


def test_pull_request_of_merged_commits_and_squashes(scenario: dict[str, str]) -> None:
    found = _history(scenario, Selector(kind="tenant", key="acme-comercio"))
    plan = [e for e in found.events if any(c.field == "plan" and c.action == "changed" for c in e.changes)]
    assert len(plan) == 1
    commit = plan[0].commit
    assert commit.sha == scenario["plan"]  # the change belongs to its author's commit, not the merge
    assert commit.author_name == "Ana Ferreira"
    assert commit.pull_request == 12
    assert commit.effective.isoformat() == "2026-02-15T15:00:00+00:00"  # when it reached main
    assert commit.authored.isoformat() == "2026-02-10T15:00:00-03:00"
    assert all(e.commit.sha != scenario["merge"] for e in found.events)
    route = _history(scenario, Selector(kind="route", key="sp-principal"))
    squash = [e for e in route.events if e.commit.sha == scenario["route"]]
    assert squash[0].commit.pull_request == 15
    assert [(c.field, c.before, c.after) for c in squash[0].changes] == [
        ("trunks.ldn_movel", "embratel", "claro-rj")
    ]


def test_merge_without_conflict_has_no_changes_of_its_own(scenario: dict[str, str]) -> None:
    found = _history(scenario, Selector(kind="tenant", key="mercadinho-bom-preco"))
    by_commit = {e.commit.sha: [(c.field, c.after) for c in e.changes] for e in found.events}
    assert scenario["merge2"] not in by_commit
    assert by_commit[scenario["email"]] == [("email", "novo.gerencia@mercadinhobompreco.com.br")]
    assert by_commit[scenario["due"]] == [("due_date", "2027-01-15")]
    email = next(e for e in found.events if e.commit.sha == scenario["email"])
    assert email.commit.pull_request == 21


def test_tenant_rename_followed_both_ways(scenario: dict[str, str]) -> None:
    new = _history(scenario, Selector(kind="tenant", key="acme-comercio"))
    fields = [
        (c.entity.key, c.field or c.action)
        for e in new.events
        for c in e.changes
        if c.entity.kind == "tenant"
    ]
    assert ("acme", "status") in fields
    assert ("acme", "plan") in fields
    assert ("acme-comercio", RENAMED) in fields
    assert {Entity("tenant", "acme"), Entity("tenant", "acme-comercio")} <= set(new.entities)
    rename = next(c for e in new.events for c in e.changes if c.action == RENAMED)
    assert (rename.before, rename.after, rename.path) == (
        "acme",
        "acme-comercio",
        "tenants/acme-comercio.yaml",
    )
    old = _history(scenario, Selector(kind="tenant", key="acme"))
    assert [e.commit.sha for e in old.events] == [e.commit.sha for e in new.events]


def test_tenant_by_id_or_service_code(scenario: dict[str, str]) -> None:
    by_slug = _history(scenario, Selector(kind="tenant", key="acme-comercio"))
    for key in ("1001", "ACM-0001"):
        found = _history(scenario, Selector(kind="tenant", key=key))
        assert [e.commit.sha for e in found.events] == [e.commit.sha for e in by_slug.events]


def test_tenant_history_shows_the_numbers_it_received_and_gave_up(scenario: dict[str, str]) -> None:
    found = _history(scenario, Selector(kind="tenant", key="conecta-telecom"))
    owners = [
        (c.entity.key, c.before, c.after) for e in found.events for c in e.changes if c.field == "owner"
    ]
    assert (NUMBER, "acme", "conecta-telecom") in owners
    assert (NUMBER, "conecta-telecom", "acme") in owners


def test_deleted_then_added_again(scenario: dict[str, str]) -> None:
    found = _history(scenario, Selector(kind="number", key="1130010033"))
    actions = [(e.commit.sha, c.action) for e in found.events for c in e.changes if not c.field]
    assert actions == [
        (scenario["root"], CREATED),
        (scenario["delete"], DELETED),
        (scenario["readd"], CREATED),
    ]
    readded = next(e for e in found.events if e.commit.sha == scenario["readd"])
    assert ("reverse_billing", None, "true") in [(c.field, c.before, c.after) for c in readded.changes]


def test_entry_moving_between_files(scenario: dict[str, str]) -> None:
    found = _history(scenario, Selector(kind="number", key="2130020003"))
    moved = [c for e in found.events for c in e.changes if c.action == MOVED]
    assert [(c.before, c.after) for c in moved] == [("numbers/21.yaml", "numbers/11.yaml")]
    assert [c for e in found.events for c in e.changes if c.action == DELETED] == []
    by_path = _history(scenario, Selector(path="numbers/21.yaml"))
    assert any(c.action == MOVED for e in by_path.events for c in e.changes)


def test_plan_and_secret_values(scenario: dict[str, str]) -> None:
    plan = _history(scenario, Selector(kind="plan", key="corporativo"))
    assert _field(plan, "tariffs.ldi") == [
        (scenario["root"], None, "0.9"),
        (scenario["tariff"], "0.9", "0.75"),
    ]
    secret = _history(scenario, Selector(path="inventory/group_vars/asterisk.yml"))
    token = _field(secret, "api_token")
    assert token == [(scenario["tariff"], None, "(oculto)")]
    everything = json.dumps([c.after for e in _history(scenario).events for c in e.changes])
    assert "s3cr3t" not in everything


def test_since_until(scenario: dict[str, str]) -> None:
    import datetime as dt

    since = dt.datetime.fromisoformat("2026-03-01T00:00:00-03:00")
    until = dt.datetime.fromisoformat("2026-03-31T23:59:59-03:00")
    found = _history(scenario, since=since, until=until)
    assert [e.commit.sha for e in found.events] == [scenario["to-conecta"], scenario["back"]]


def test_read_only(scenario: dict[str, str], tmp_path: Path) -> None:
    t = Timeline.__new__(Timeline)
    t.root = Path(scenario["path"])
    t.repo = git.Repo(t.root)
    before = t.fingerprint()
    _history(scenario, Selector(kind="number", key=NUMBER))
    runner = CliRunner()
    for args in (
        ["history", "--tenant", "acme"],
        ["audit", "at", "--when", "2026-03-05T12:00", "--number", NUMBER],
        [
            "audit",
            "report",
            "--since",
            "2026-01-01",
            "--until",
            "2026-12-31",
            "--out",
            str(tmp_path / "r.csv"),
        ],
    ):
        assert runner.invoke(main, [*args, "--repo", scenario["path"]]).exit_code == 0
    assert t.fingerprint() == before
    objects = t.repo.git.count_objects("-v")
    _history(scenario)
    assert t.repo.git.count_objects("-v") == objects


# --- command line ---------------------------------------------------------------------------


def test_cli_text(scenario: dict[str, str], runner: CliRunner) -> None:
    result = runner.invoke(main, ["history", "--number", NUMBER, "--repo", scenario["path"]])
    assert result.exit_code == 0, result.output
    assert "owner: Disponível → acme" in result.output
    assert "owner: acme → conecta-telecom" in result.output
    assert "20/01/2026 09:00" in result.output  # the platform time zone
    assert scenario["suspend"][:7] in result.output
    assert "João Lima <joao.lima@pabx.example.com.br>" in result.output
    tenant = runner.invoke(main, ["history", "--tenant", "acme-comercio", "--repo", scenario["path"]])
    assert "PR #12" in tenant.output
    assert "plan: empresarial → corporativo" in tenant.output
    assert "renomeado: acme → acme-comercio" in tenant.output


def test_cli_csv_json_markdown(scenario: dict[str, str], runner: CliRunner) -> None:
    args = ["history", "--route", "sp-principal", "--since", "2026-02-01", "--repo", scenario["path"]]
    out = runner.invoke(main, [*args, "--format", "csv"]).output
    assert out.startswith("\ufeff")
    table = list(csv.reader(io.StringIO(out.lstrip("\ufeff")), delimiter=";"))
    assert table[0] == [
        "Data",
        "Autor",
        "Commit",
        "Pull request",
        "Arquivo",
        "Entidade",
        "Campo",
        "Antes",
        "Depois",
    ]
    assert table[1] == [
        "01/04/2026 11:00",
        "João Lima <joao.lima@pabx.example.com.br>",
        scenario["route"][:7],
        "#15",
        "routes/sp-principal.yaml",
        "Rota sp-principal",
        "trunks.ldn_movel",
        "embratel",
        "claro-rj",
    ]
    data = json.loads(runner.invoke(main, [*args, "--format", "json"]).output)
    assert data["timezone"] == "America/Sao_Paulo"
    (event,) = data["events"]
    assert event["commit"] == scenario["route"]
    assert event["pull_request"] == 15
    assert event["date"] == "2026-04-01T11:00:00-03:00"
    assert event["changes"][0]["field"] == "trunks.ldn_movel"
    markdown = runner.invoke(main, [*args, "--format", "markdown"]).output
    assert "| Data | Autor |" in markdown
    assert "| trunks.ldn_movel | embratel | claro-rj |" in markdown


def test_cli_user_errors(scenario: dict[str, str], runner: CliRunner, tmp_path: Path) -> None:
    both = runner.invoke(
        main, ["history", "--tenant", "acme", "--number", NUMBER, "--repo", scenario["path"]]
    )
    assert both.exit_code == 2
    assert "choose one of" in both.output
    assert "Traceback" not in both.output
    unknown = runner.invoke(main, ["history", "--tenant", "nao-existe", "--repo", scenario["path"]])
    assert unknown.exit_code == 2
    assert "no tenant 'nao-existe'" in unknown.output
    when = runner.invoke(main, ["history", "--since", "ontem", "--repo", scenario["path"]])
    assert when.exit_code == 2
    assert "not a date or time" in when.output
    outside = tmp_path / "not-git"
    outside.mkdir()
    nogit = runner.invoke(main, ["history", "--repo", str(outside)])
    assert nogit.exit_code == 2
    assert "not inside a git repository" in nogit.output


# --- index ----------------------------------------------------------------------------------


def test_index_follows_new_commits_and_rewrites(tmp_path: Path) -> None:
    t = Timeline(tmp_path / "repo")
    t.commit("início", MARIA, "2026-01-05T10:00:00-03:00")
    with AuditIndex(t.root) as index:
        assert index.status.rebuilt
        assert index.status.new_commits == 1
    with AuditIndex(t.root) as index:
        assert index.status.new_commits == 0
    t.edit("tenants/acme.yaml", "status: ativo", "status: pendente")
    second = t.commit("acme pendente", JOAO, "2026-01-06T10:00:00-03:00")
    with AuditIndex(t.root) as index:
        assert (index.status.new_commits, index.status.rebuilt) == (1, False)
    found = history(t.root, Selector(kind="tenant", key="acme"))
    assert found.events[-1].commit.sha == second
    # history rewritten: main no longer contains the indexed tip
    t.repo.git.reset("--hard", "HEAD~1")
    t.edit("tenants/acme.yaml", "status: ativo", "status: inativo")
    third = t.commit("acme inativo", ANA, "2026-01-07T10:00:00-03:00")
    with AuditIndex(t.root) as index:
        assert index.status.rebuilt
    found = history(t.root, Selector(kind="tenant", key="acme"))
    assert [(c.before, c.after) for c in found.events[-1].changes] == [("ativo", "inativo")]
    assert found.events[-1].commit.sha == third
    assert second not in [e.commit.sha for e in found.events]


def test_index_lives_in_the_state_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    t = Timeline(tmp_path / "repo")
    t.commit("início", MARIA, "2026-01-05T10:00:00-03:00")
    monkeypatch.setenv("PABX_STATE_DIR", str(tmp_path / "elsewhere"))
    with AuditIndex(t.root) as index:
        assert index.path.parent == tmp_path / "elsewhere" / "audit"
    assert list((tmp_path / "elsewhere" / "audit").glob("index-*.sqlite"))
    assert not (t.root / "state").exists()


def test_shallow_clone(scenario: dict[str, str], tmp_path: Path, runner: CliRunner) -> None:
    clone = tmp_path / "clone"
    git.Repo.clone_from(f"file://{scenario['path']}", clone, depth=3, branch="main")
    found = history(clone, Selector(kind="number", key=NUMBER))
    assert found.notes and "not in this clone (shallow)" in found.notes[0]
    assert "git fetch --unshallow" in found.notes[0]
    result = runner.invoke(main, ["history", "--number", NUMBER, "--repo", str(clone)])
    assert result.exit_code == 0
    assert "note: history before 2026-08-" in result.output
    early = runner.invoke(
        main, ["audit", "at", "--when", "2026-02-01T12:00", "--number", NUMBER, "--repo", str(clone)]
    )
    assert early.exit_code == 2
    assert "history before 2026-08-" in early.output
    assert "is not in this clone (shallow): run git fetch --unshallow" in early.output
    assert "Traceback" not in early.output
    # the boundary commit's own changes are unknown: none is invented
    full = history(Path(scenario["path"]), Selector())
    shallow = history(clone, Selector())
    assert {e.commit.sha for e in shallow.events} <= {e.commit.sha for e in full.events}
    assert len(shallow.events) < len(full.events)


def test_repository_in_a_subfolder(tmp_path: Path) -> None:
    top = tmp_path / "mono"
    for folder in DATA:
        shutil.copytree(ROOT / folder, top / "pbx" / folder)
    repo = git.Repo.init(top, initial_branch="main")
    repo.git.add("-A")
    repo.index.commit("monorepo")
    (top / "pbx" / "tenants" / "acme.yaml").write_text(
        (top / "pbx" / "tenants" / "acme.yaml").read_text().replace("status: ativo", "status: inativo")
    )
    repo.git.add("-A")
    repo.index.commit("acme inativo")
    found = history(top / "pbx", Selector(kind="tenant", key="acme"))
    assert [(c.path, c.before, c.after) for c in found.events[-1].changes] == [
        ("tenants/acme.yaml", "ativo", "inativo")
    ]


# --- documents cut into parts ---------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "a: 1\nb:\n  - {number: 1, name: x}\n  - number: 2\n    name: y\n# comment\nc: [1, 2]\n",
        "- {number: '1', owner: null}\n# between\n- {number: '2', owner: x}  # trailing\n",
        "base: &b {x: 1}\nother: *b\n",  # an anchor ties two parts: parsed whole
        "key:\n- a\n- b\nnext: 1\n",  # a list at its key's indentation
        "---\na: 1\n",
        "a: |\n  text\n\n  more\nb: 2\n",
        "ivrs:\n  - name: P\n    options: {'1': 'queue:600'}\n  # closing comment\n",
        "due: 2026-02-30\nok: 2026-02-10\n",
    ],
)
def test_parts_equal_the_whole(text: str) -> None:
    whole = parts.load(text)
    doc = parts.split(text)
    if doc is None:
        return
    try:
        values = [p.value for p in doc.parts]
    except parts.NotSplittable:
        return
    assert (dict(values) if doc.shape == parts.MAP else values) == whole


def test_parts_equal_the_whole_on_real_files() -> None:
    root = Path(__file__).resolve().parent.parent
    for path in sorted(
        [*root.glob("tenants/*.yaml"), *root.glob("numbers/*.yaml"), *root.glob("inventory/**/*.y*ml")]
    ):
        text = path.read_text(encoding="utf-8")
        doc = parts.split(text)
        assert doc is not None, path
        values = [p.value for p in doc.parts]
        assert (dict(values) if doc.shape == parts.MAP else values) == parts.load(text), path


def test_copies_kept_equal_to_their_sources() -> None:
    """The audit keeps its own copies of three tiny things, to answer quickly without importing
    the loader, the rules and the models: they must stay equal to the originals."""
    from pabx.audit import fields, index
    from pabx.loader import layout
    from pabx.validate import secrets

    assert fields.SECRET_WORDS.pattern == secrets.SECRET_WORDS.pattern
    assert fields.SECRET_WORDS.flags == secrets.SECRET_WORDS.flags
    assert fields.SAFE_SUFFIXES == secrets.SAFE_SUFFIXES
    assert index.DATA_FOLDERS == layout.DATA_FOLDERS
    root = Path("/some/repo")
    assert index.state_dir(root) == layout.state_dir(root)


def test_commands_have_help_with_an_example(runner: CliRunner) -> None:
    for args in (["history"], ["audit"], ["audit", "at"], ["audit", "report"]):
        result = runner.invoke(main, [*args, "--help"])
        assert result.exit_code == 0
        assert "Example: pabx " in result.output


def test_conflict_resolution_is_the_merge_own_change(tmp_path: Path) -> None:
    t = Timeline(tmp_path / "repo")
    t.commit("início", MARIA, "2026-01-05T10:00:00-03:00")
    t.branch("email")
    t.edit("tenants/acme.yaml", "email: ti@acmecomercio.com.br", "email: compras@acmecomercio.com.br")
    branch = t.commit("acme: e-mail de compras", ANA, "2026-01-06T10:00:00-03:00")
    t.checkout("main")
    t.edit("tenants/acme.yaml", "email: ti@acmecomercio.com.br", "email: diretoria@acmecomercio.com.br")
    main_side = t.commit("acme: e-mail da diretoria", JOAO, "2026-01-07T10:00:00-03:00")
    with pytest.raises(git.GitCommandError):
        t.repo.git.merge("--no-ff", "email")  # both changed the same line
    t.repo.git.checkout("--theirs", "tenants/acme.yaml")  # then resolved by hand to the old address
    t.edit("tenants/acme.yaml", "email: compras@acmecomercio.com.br", "email: ti@acmecomercio.com.br")
    env = {"GIT_AUTHOR_DATE": "2026-01-08T10:00:00-03:00", "GIT_COMMITTER_DATE": "2026-01-08T10:00:00-03:00"}
    t.repo.git.add("tenants/acme.yaml")
    t.repo.git.commit("--no-edit", "-m", "Merge pull request #30 from acme-org/email", env=env)
    merge = t.head()
    found = history(t.root, Selector(kind="tenant", key="acme"))
    by_commit = {e.commit.sha: [(c.field, c.before, c.after) for c in e.changes] for e in found.events}
    assert by_commit[branch] == [("email", "ti@acmecomercio.com.br", "compras@acmecomercio.com.br")]
    assert by_commit[main_side] == [("email", "ti@acmecomercio.com.br", "diretoria@acmecomercio.com.br")]
    # the resolution kept neither side: that is the merge's own change, against main's side
    assert by_commit[merge] == [("email", "diretoria@acmecomercio.com.br", "ti@acmecomercio.com.br")]
    assert next(e for e in found.events if e.commit.sha == branch).commit.pull_request == 30


def test_an_unreadable_version_is_reported_without_its_text(tmp_path: Path) -> None:
    t = Timeline(tmp_path / "repo")
    t.commit("início", MARIA, "2026-01-05T10:00:00-03:00")
    t.edit("tenants/acme.yaml", "status: ativo", "status: [ativo\nsenha: hunter2 ]: x")
    broken = t.commit("quebrado", JOAO, "2026-01-06T10:00:00-03:00")
    t.edit("tenants/acme.yaml", "status: [ativo\nsenha: hunter2 ]: x", "status: inativo")
    t.commit("consertado", JOAO, "2026-01-07T10:00:00-03:00")
    found = history(t.root, Selector(kind="tenant", key="acme"))
    unreadable = [c for e in found.events for c in e.changes if e.commit.sha == broken]
    assert [c.action for c in unreadable] == ["unreadable"]
    assert "line" in (unreadable[0].after or "")
    assert "hunter2" not in json.dumps([c.after for e in found.events for c in e.changes])


def test_unwritable_state_dir_is_a_user_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    t = Timeline(tmp_path / "repo")
    t.commit("início", MARIA, "2026-01-05T10:00:00-03:00")
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("PABX_STATE_DIR", str(blocker))
    result = CliRunner().invoke(main, ["history", "--repo", str(t.root)])
    assert result.exit_code == 2
    assert "cannot open the audit index" in result.output


def test_path_given_absolute_or_relative(scenario: dict[str, str], runner: CliRunner) -> None:
    root = Path(scenario["path"])
    relative = runner.invoke(main, ["history", "--path", "./routes/sp-principal.yaml", "--repo", str(root)])
    absolute = runner.invoke(
        main, ["history", "--path", str(root / "routes/sp-principal.yaml"), "--repo", str(root)]
    )
    assert relative.exit_code == absolute.exit_code == 0
    assert "trunks.ldn_movel: embratel → claro-rj" in relative.output
    assert relative.output == absolute.output
    outside = runner.invoke(main, ["history", "--path", "/etc/hosts", "--repo", str(root)])
    assert outside.exit_code == 2
    assert "not inside the repository" in outside.output


# --- the fast diff equals the slow one ------------------------------------------------------

_FILES = (
    "tenants/acme.yaml",
    "tenants/construtora-horizonte.yaml",
    "numbers/11.yaml",
    "routes/sp-principal.yaml",
    "plans/corporativo.yaml",
    "inventory/users.yaml",
    "inventory/hosts.yml",
    "inventory/platform.yaml",
)
_EDITS = st.lists(
    st.tuples(
        st.sampled_from(["delete", "duplicate", "swap", "tweak", "comment", "indent"]),
        st.integers(min_value=0, max_value=10_000),
        st.integers(min_value=0, max_value=10_000),
    ),
    min_size=1,
    max_size=4,
)


def _mutate(text: str, edits: list[tuple[str, int, int]]) -> str:
    lines = text.split("\n")
    for op, a, b in edits:
        i, j = a % len(lines), b % len(lines)
        if op == "delete":
            del lines[i]
        elif op == "duplicate":
            lines.insert(j, lines[i])
        elif op == "swap":
            lines[i], lines[j] = lines[j], lines[i]
        elif op == "tweak":  # change one character of a value: a digit, a letter, a flag
            line = lines[i]
            k = b % (len(line) or 1)
            ch = line[k : k + 1]
            repl = "7" if ch.isdigit() and ch != "7" else "x" if ch.isalpha() and ch != "x" else ch
            lines[i] = line[:k] + repl + line[k + 1 :]
            lines[i] = lines[i].replace("false", "true", 1) if b % 3 == 0 else lines[i]
        elif op == "comment":
            lines.insert(i, "# nota" if b % 2 else "  # nota")
        else:
            lines[i] = "  " + lines[i] if b % 2 else lines[i].removeprefix("  ")
        if not lines:
            lines = [""]
    return "\n".join(lines)


def _changes(path: str, old: str, new: str, whole: bool) -> list[tuple[str, ...]]:
    return sorted(
        (c.entity.kind, c.entity.key, c.field, c.action, c.before or "", c.after or "")
        for c in diff_texts(path, old, new, whole=whole)
        if c.action != "unreadable"
    )


@settings(max_examples=200, deadline=None, derandomize=True)
@given(st.sampled_from(_FILES), _EDITS)
def test_fast_diff_equals_whole_parse(path: str, edits: list[tuple[str, int, int]]) -> None:
    old = (ROOT / path).read_text(encoding="utf-8")
    new = _mutate(old, edits)
    try:
        data = parts.load(new)
    except parts.Unreadable:
        assume(False)
    if isinstance(data, list):  # the same number twice is an error of its own (number-unique)
        numbers = [item.get("number") for item in data if isinstance(item, dict)]
        assume(len(numbers) == len(set(numbers)))
    assert _changes(path, old, new, whole=False) == _changes(path, old, new, whole=True)
