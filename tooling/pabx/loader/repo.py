"""Load the whole repository into models, collecting every syntax and schema problem.

`load_repository` never raises for a user's mistake: it returns what it could load and a
report. `load_valid_repository` is for commands that need a valid repository (render, plan):
it runs the cross-file rules too and raises UserError with all problems when there are errors.
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import multiprocessing
import os
import pickle
import sys
import threading
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any, NamedTuple

from pydantic import BaseModel, TypeAdapter, ValidationError

from pabx.errors import Problem, Report, Severity, UserError
from pabx.loader.layout import Kind, discover, schema_reference, state_dir
from pabx.loader.yamlpos import YamlSyntaxError, field_label, locate, parse, parse_document
from pabx.model import HostVars, Inventory, NumberEntry, Plan, Platform, Route, Tenant, Trunk, Users

MODELS: dict[Kind, Any] = {
    Kind.PLATFORM: Platform,
    Kind.INVENTORY: Inventory,
    Kind.TRUNK: Trunk,
    Kind.PLAN: Plan,
    Kind.ROUTE: Route,
    Kind.TENANT: Tenant,
    Kind.NUMBERS: list[NumberEntry],
    Kind.USERS: Users,
}
_ADAPTERS: dict[Kind, TypeAdapter[Any]] = {kind: TypeAdapter(model) for kind, model in MODELS.items()}


def _code_fingerprint() -> str:
    """The cache is only as good as the code that filled it: key it by the loader and models."""
    digest = hashlib.sha256()
    package = Path(__file__).resolve().parent.parent
    for folder in ("loader", "model", "brazil"):
        for source in sorted((package / folder).glob("*.py")):
            digest.update(source.read_bytes())
    return digest.hexdigest()


CACHE_VERSION = _code_fingerprint()


class Document:
    """One YAML file: its path relative to the repo, its kind, and its positioned data.

    A file served from the parse cache comes without its data: it is parsed again from its
    bytes the first time `data` is read (a rule reporting a problem needs the positions), so
    an unchanged, valid repository is never parsed twice. `keys` holds every text key of the
    file, so a rule looking for a key can skip the files that cannot have it (None: unknown).
    """

    __slots__ = ("_data", "_raw", "keys", "kind", "path", "stem", "text_sha")

    def __init__(
        self,
        path: str,
        kind: Kind | None,
        data: Any,
        text_sha: str,
        keys: frozenset[str] | None = None,
    ) -> None:
        self.path = path
        self.kind = kind
        self._data = data
        self._raw: bytes | None = None
        self.text_sha = text_sha
        self.keys = keys
        self.stem = PurePosixPath(path).stem

    @classmethod
    def unparsed(
        cls, path: str, kind: Kind | None, raw: bytes, text_sha: str, keys: frozenset[str]
    ) -> Document:
        """A document whose data is parsed from `raw` (UTF-8 YAML known to parse) on first use."""
        doc = cls(path, kind, None, text_sha, keys)
        doc._raw = raw
        return doc

    @property
    def data(self) -> Any:
        if self._raw is not None:
            self._data = parse(self._raw.decode("utf-8"), self.path)[0]
            self._raw = None
        return self._data

    def __repr__(self) -> str:
        return f"Document(path={self.path!r}, kind={self.kind!r}, text_sha={self.text_sha!r})"

    def where(self, loc: Sequence[Any], *, key: bool = False) -> tuple[int, int]:
        return locate(self.data, loc, key=key)

    def problem(
        self,
        loc: Sequence[Any],
        message: str,
        rule: str,
        *,
        key: bool = False,
        severity: Severity = Severity.ERROR,
    ) -> Problem:
        line, col = self.where(loc, key=key)
        return Problem(self.path, line, col, field_label(self.data, loc), message, rule, severity)


_FOLDER_OF = {
    Kind.TENANT: "tenants",
    Kind.PLAN: "plans",
    Kind.ROUTE: "routes",
    Kind.TRUNK: "inventory/trunks",
}


@dataclass(slots=True)
class NumberSite:
    """Where one DID entry stands: its file, its index in the list, and the entry."""

    doc: Document
    index: int
    entry: NumberEntry


@dataclass
class Repository:
    root: Path
    docs: dict[str, Document] = field(default_factory=dict)
    platform: Platform | None = None
    inventory: Inventory | None = None
    servers: dict[str, HostVars] = field(default_factory=dict)
    trunks: dict[str, Trunk] = field(default_factory=dict)
    plans: dict[str, Plan] = field(default_factory=dict)
    routes: dict[str, Route] = field(default_factory=dict)
    tenants: dict[str, Tenant] = field(default_factory=dict)
    number_sites: list[NumberSite] = field(default_factory=list)
    users: Users | None = None
    other_docs: list[Document] = field(default_factory=list)
    invalid: set[str] = field(default_factory=set)

    @property
    def numbers(self) -> dict[str, NumberEntry]:
        """DIDs by number (the first entry wins when a number is duplicated, an error anyway)."""
        out: dict[str, NumberEntry] = {}
        for site in self.number_sites:
            out.setdefault(site.entry.number, site.entry)
        return out

    def doc_of(self, kind: Kind, slug: str) -> Document:
        return self.docs[f"{_FOLDER_OF[kind]}/{slug}.yaml"]

    def is_invalid(self, kind: Kind, slug: str) -> bool:
        """The file for `slug` exists but did not load (its own errors are already reported)."""
        return f"{_FOLDER_OF[kind]}/{slug}.yaml" in self.invalid

    def numbers_of(self, tenant: str) -> list[NumberEntry]:
        return [s.entry for s in self.number_sites if s.entry.owner == tenant]


def _pydantic_problems(doc: Document, exc: ValidationError) -> list[Problem]:
    problems = []
    for err in exc.errors(include_url=False):
        loc = list(err["loc"])
        is_key = False
        if loc and loc[-1] == "[key]":
            loc.pop()
            is_key = True
        kind = err["type"]
        message = str(err["msg"])
        if message.startswith("Value error, "):
            message = message[len("Value error, ") :]
        if kind == "extra_forbidden":
            is_key = True
            message = "unknown key" + _expected_keys(doc, loc)
        elif kind == "missing":
            message = "required field is missing"
        elif kind == "invalid_key" and loc:
            # pydantic reports the key True as 1: name and point at the key the user wrote
            loc[-1] = err["input"]
            is_key = True
            message = (
                f"key {err['input']!r} is not text: YAML reads unquoted yes/no/on/off as booleans "
                "and digits as numbers; quote it or fix the name"
            )
        problems.append(
            doc.problem(loc, message, "unknown-key" if kind == "extra_forbidden" else "schema", key=is_key)
        )
    return problems


def _expected_keys(doc: Document, loc: list[Any]) -> str:
    """Name the keys the model accepts at `loc`'s parent, to turn a typo into a fix."""
    if doc.kind is None:
        return ""
    schema_owner: Any = MODELS[doc.kind]
    fields: dict[str, Any] | None = None
    for part in loc[:-1]:
        model = _model_of(schema_owner)
        if model is not None and isinstance(part, str) and part in model.model_fields:
            schema_owner = model.model_fields[part].annotation
        elif isinstance(part, int | str):
            schema_owner = _inner(schema_owner)
    model = _model_of(schema_owner)
    if model is not None:
        fields = model.model_fields
    return f"; expected one of: {', '.join(fields)}" if fields else ""


def _model_of(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()):
        found = _model_of(arg)
        if found is not None:
            return found
    return None


def _inner(annotation: Any) -> Any:
    args = [a for a in getattr(annotation, "__args__", ()) if a is not type(None)]
    return args[-1] if args else annotation


def _read_file(
    rel: str, kind: Kind | None, raw: bytes, sha: str | None = None
) -> tuple[Document | None, Any, list[Problem]]:
    """Parse and model one file. Returns (document, model or None, problems)."""
    sha = sha or hashlib.sha256(raw).hexdigest()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        col = exc.start - raw.rfind(b"\n", 0, exc.start)
        message = f"not UTF-8 text ({exc.reason}, byte 0x{raw[exc.start]:02x}): save the file as UTF-8"
        return None, None, [Problem(rel, line, col, "", message, "yaml-syntax")]
    try:
        parsed = parse_document(text, rel)
    except YamlSyntaxError as exc:
        return None, None, [exc.problem]
    data, problems = parsed.data, parsed.problems
    doc = Document(rel, kind, data, sha, parsed.keys)
    if kind is None:
        return doc, None, problems
    problems = [*problems, *_schema_header(rel, kind, text)]
    if data is None:
        return doc, None, [*problems, Problem(rel, 1, 1, "", "the file is empty", "schema")]
    try:
        model = _ADAPTERS[kind].validate_python(data)
    except ValidationError as exc:
        return doc, None, [*problems, *_pydantic_problems(doc, exc)]
    return doc, model, problems


def _schema_header(rel: str, kind: Kind, text: str) -> list[Problem]:
    """SPEC 9: each data file starts with the comment that points editors at its JSON Schema."""
    expected = schema_reference(rel, kind)
    first = text.split("\n", 1)[0].strip()
    if first == expected:
        return []
    return [
        Problem(
            rel,
            1,
            1,
            "",
            f"the first line should be '{expected}' (editor validation)",
            "schema-header",
            Severity.WARNING,
        )
    ]


# What the cache keeps for one file: (parsed as YAML, model or None, problems, text keys).
# Not the positioned data: it is most of the size and load time, and a valid file never needs it.
_Entry = tuple[bool, Any, list[Problem], frozenset[str]]

# Entries are pickled in segments of this many: one pickle per file repeats every class and
# enum lookup (three times slower to load), one for the whole repository must be redone
# whenever one file changes.
_SEGMENT = 1000


def _entry(doc: Document | None, model: Any, problems: list[Problem]) -> _Entry:
    keys = doc.keys if doc is not None and doc.keys is not None else frozenset()
    return (doc is not None, model, problems, keys)


def _segments(entries: dict[str, _Entry]) -> list[bytes]:
    items = list(entries.items())
    return [
        pickle.dumps(dict(items[i : i + _SEGMENT]), protocol=pickle.HIGHEST_PROTOCOL)
        for i in range(0, len(items), _SEGMENT)
    ]


class _FileCache:
    """Models and problems keyed by file content, kept in the state directory.

    A hit skips YAML parsing and model validation for an unchanged file; a miss (or an
    unreadable cache) just reads the file, so a cold run is always correct. The file holds
    pickled segments: saving keeps the segments whose files are all unchanged as they are.
    """

    def __init__(self, root: Path, enabled: bool) -> None:
        self.path = state_dir(root) / "cache" / "repository.pickle"
        self.enabled = enabled
        self.entries: dict[str, _Entry] = {}
        self.segments: list[tuple[bytes, frozenset[str]]] = []
        self.fresh: dict[str, _Entry] = {}
        if not (enabled and self.path.is_file()):
            return
        try:
            with self.path.open("rb") as fh:
                stored = pickle.load(fh)
            blobs = stored["segments"] if stored.get("version") == CACHE_VERSION else []
        except Exception:  # a corrupt cache is only a slower run
            blobs = []
        for blob in blobs:
            try:
                part = pickle.loads(blob)
            except Exception:  # so is a corrupt segment
                continue
            self.add_segment(blob, part)

    def get(self, key: str) -> _Entry | None:
        return self.entries.get(key) if self.enabled else None

    def put(self, key: str, value: _Entry) -> None:
        if self.enabled:
            self.entries[key] = value
            self.fresh[key] = value

    def add_segment(self, blob: bytes, part: dict[str, _Entry]) -> None:
        """Entries that come pickled already (from the cache file, or from a worker)."""
        if self.enabled:
            self.entries.update(part)
            self.segments.append((blob, frozenset(part)))

    def save(self, keep: set[str]) -> None:
        if not self.enabled:
            return
        kept = [(blob, keys) for blob, keys in self.segments if keys <= keep]
        pending = {
            key: self.entries[key]
            for _, keys in self.segments
            if not keys <= keep
            for key in keys
            if key in keep
        }
        pending.update((key, entry) for key, entry in self.fresh.items() if key in keep)
        if not pending and len(kept) == len(self.segments):
            return
        blobs = [blob for blob, _ in kept] + _segments(pending)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(f".{os.getpid()}.tmp")
        with tmp.open("wb") as fh:
            pickle.dump({"version": CACHE_VERSION, "segments": blobs}, fh, protocol=pickle.HIGHEST_PROTOCOL)
        tmp.replace(self.path)


@contextlib.contextmanager
def paused_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector while building a big repository.

    Loading creates millions of small objects that all stay alive; every few hundred
    allocations the collector would walk them again, for nothing (it tripled the load time).
    On the way out they are frozen (gc.freeze) before the collector is enabled again: else its
    next young collection walks every one of them (a second per 10,000 tenants). Frozen
    objects are still freed when no longer referenced; only a reference cycle among them
    would outlive its use (loading makes a handful, a few hundred bytes).
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.freeze()
            gc.enable()


class _Source(NamedTuple):
    """One data file as read from disk."""

    rel: str
    kind: Kind | None
    raw: bytes
    sha: str

    @property
    def key(self) -> str:
        return f"{self.rel}\0{self.kind}\0{self.sha}"  # content-keyed: any change is a miss


# A worker process is worth its start (and pickling its results back) from this many files on.
_FILES_PER_JOB = 400


def _jobs(files: int) -> int:
    """Processes to read `files` files with: PABX_JOBS, else the CPUs this process may use.

    Workers are forked (the loaded code is shared, nothing is imported again), so this is one
    wherever fork is not the safe choice: not Linux, or other threads running.
    """
    configured = os.environ.get("PABX_JOBS", "").strip()
    if configured:
        if not configured.isdigit() or int(configured) < 1:
            raise UserError(f"PABX_JOBS must be a whole number of processes, not {configured!r}")
        jobs = int(configured)
    else:
        jobs = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    if not sys.platform.startswith("linux") or threading.active_count() > 1:
        return 1
    return max(1, min(jobs, files // _FILES_PER_JOB, 16))


_Read = tuple[Document | None, _Entry]


def _read_local(source: _Source) -> _Read:
    doc, model, problems = _read_file(source.rel, source.kind, source.raw, source.sha)
    return doc, _entry(doc, model, problems)


def _unparsed(source: _Source, entry: _Entry) -> _Read:
    """A file known from its entry alone (cache or worker): its data is parsed if ever needed."""
    parsed, _, _, keys = entry
    return (
        Document.unparsed(source.rel, source.kind, source.raw, source.sha, keys) if parsed else None
    ), entry


def _read_batch(sources: list[_Source]) -> list[bytes]:
    """In a worker process: the cache entries of `sources`, pickled in segments."""
    return _segments({source.key: _read_local(source)[1] for source in sources})


def _read_sources(sources: list[_Source], cache: _FileCache) -> list[_Read]:
    """Parse and model files, in order, and put their entries in the cache.

    With many files, forked workers take a share each while this process reads its own
    (keeping their positioned data); a worker's files come back as pickled cache entries,
    their data parsed again only if a rule asks for it.
    """
    jobs = _jobs(len(sources))
    if jobs == 1:
        return [_read_here(source, cache) for source in sources]
    shares = [sources[i::jobs] for i in range(jobs)]
    results: list[Any] = [None] * len(sources)
    for stream in (sys.stdout, sys.stderr):  # else a worker could write buffered output again
        if stream is not None:
            stream.flush()
    with ProcessPoolExecutor(jobs - 1, mp_context=multiprocessing.get_context("fork")) as pool:
        futures = [_submit(pool, share) for share in shares[1:]]
        results[0::jobs] = [_read_here(source, cache) for source in shares[0]]
        for i, (share, future) in enumerate(zip(shares[1:], futures, strict=True), start=1):
            results[i::jobs] = _worker_results(share, _outcome(future), cache)
    return results


def _read_here(source: _Source, cache: _FileCache) -> _Read:
    doc, entry = _read_local(source)
    cache.put(source.key, entry)
    return doc, entry


def _worker_results(share: list[_Source], blobs: list[bytes] | None, cache: _FileCache) -> list[_Read]:
    if blobs is None:  # the worker failed: its share is read here
        return [_read_here(source, cache) for source in share]
    entries: dict[str, _Entry] = {}
    for blob in blobs:
        part = pickle.loads(blob)
        cache.add_segment(blob, part)
        entries.update(part)
    return [_unparsed(source, entries[source.key]) for source in share]


def _submit(pool: ProcessPoolExecutor, share: list[_Source]) -> Future[list[bytes]] | None:
    try:
        return pool.submit(_read_batch, share)
    except Exception:  # no worker could start: this process reads the share
        return None


def _outcome(future: Future[list[bytes]] | None) -> list[bytes] | None:
    if future is None:
        return None
    try:
        return future.result()
    except Exception:  # the worker died (out of memory…) or failed: read its share here, where
        return None  # a bug shows its traceback as it would without workers


def load_repository(root: Path, report: Report, *, use_cache: bool = True) -> Repository:
    """Read every data file of the repository at `root`; problems go into `report`."""
    with paused_gc():
        return _load_repository(root, report, use_cache)


def _load_repository(root: Path, report: Report, use_cache: bool) -> Repository:
    root = root.resolve()
    repo = Repository(root=root)
    modeled, others, unexpected = discover(root)
    cache = _FileCache(root, use_cache and os.environ.get("PABX_NO_CACHE") != "1")
    used: set[str] = set()
    for rel in unexpected:
        report.add(
            Problem(
                rel,
                1,
                1,
                "",
                "not a .yaml file: pabx ignores it (rename it to .yaml or move it)",
                "unexpected-file",
                Severity.WARNING,
            )
        )
    sources: list[_Source] = []
    for rel, kind in [*modeled, *((rel, None) for rel in others)]:
        with open(os.path.join(root, rel), "rb") as fh:
            raw = fh.read()
        sources.append(_Source(rel, kind, raw, hashlib.sha256(raw).hexdigest()))
    read: dict[str, _Read] = {}
    misses: list[_Source] = []
    for source in sources:
        entry = cache.get(source.key)
        if entry is None:
            misses.append(source)
        else:
            read[source.key] = _unparsed(source, entry)
    read.update(zip((source.key for source in misses), _read_sources(misses, cache), strict=True))
    for source in sources:
        rel, kind, key = source.rel, source.kind, source.key
        doc, (_, model, problems, _) = read[key]
        used.add(key)
        report.extend(problems)
        if doc is None:
            repo.invalid.add(rel)
            continue
        if kind is None:
            repo.other_docs.append(doc)
            continue
        repo.docs[rel] = doc
        if model is not None:
            _attach(repo, doc, kind, model)
        else:
            repo.invalid.add(rel)
    cache.save(used)
    if repo.inventory is not None:
        repo.servers = repo.inventory.servers()
    return repo


def _attach(repo: Repository, doc: Document, kind: Kind, model: Any) -> None:
    stem = doc.stem
    if kind is Kind.PLATFORM:
        repo.platform = model
    elif kind is Kind.INVENTORY:
        repo.inventory = model
    elif kind is Kind.TRUNK:
        repo.trunks[stem] = model
    elif kind is Kind.PLAN:
        repo.plans[stem] = model
    elif kind is Kind.ROUTE:
        repo.routes[stem] = model
    elif kind is Kind.TENANT:
        repo.tenants[stem] = model
    elif kind is Kind.NUMBERS:
        repo.number_sites.extend(NumberSite(doc, i, entry) for i, entry in enumerate(model))
    elif kind is Kind.USERS:
        repo.users = model


def load_valid_repository(root: Path) -> tuple[Repository, Report]:
    """Load and validate; raise UserError carrying every problem when anything is an error."""
    from pabx.validate import run_rules  # the rules need the loaded repository

    report = Report()
    repo = load_repository(root, report)
    run_rules(repo, report)
    if not report.ok:
        raise UserError(
            f"the repository at {root} is not valid ({len(report.errors)} errors)", report.sorted()
        )
    return repo, report
