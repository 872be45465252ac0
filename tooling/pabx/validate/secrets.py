"""Secret rule: no literal password, secret, senha or token anywhere in the data folders.

Secrets come from the environment (a key named `*_env` names the variable) or derive from
PABX_SECRET_KEY; a literal value in git is refused wherever it appears, models or not.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from pabx.errors import Problem
from pabx.loader.repo import Document, Repository
from pabx.validate.registry import rule

SECRET_WORDS = re.compile(
    r"(?:^|[_\-.])(password|passwd|pass|pwd|passphrase|secret|senha|token|api[_-]?key|private[_-]?key|credentials?)(?:$|[_\-.])",
    re.IGNORECASE,
)
SAFE_SUFFIXES = ("_env", "_file", "_path", "_var")


def _is_secret_key(key: str) -> bool:
    lowered = key.lower()
    return bool(SECRET_WORDS.search(lowered)) and not lowered.endswith(SAFE_SUFFIXES)


def _is_literal(value: Any) -> bool:
    if value is None or isinstance(value, bool):
        return False
    if isinstance(value, str):
        stripped = value.strip()
        # an Ansible expression that looks the value up (env, vault) is not a literal
        return bool(stripped) and not stripped.startswith("{{")
    return isinstance(value, int | float)


def _walk(doc: Document, node: Any, path: list[Any]) -> Iterator[Problem]:
    if isinstance(node, dict):
        for key, value in node.items():
            here = [*path, key]
            if isinstance(key, str) and _is_secret_key(key) and _is_literal(value):
                yield doc.problem(
                    here,
                    "looks like a secret written in git: put it in the environment and name the variable "
                    f"with {key}_env (or derive it from PABX_SECRET_KEY)",
                    "secret-literal",
                    key=True,
                )
            yield from _walk(doc, value, here)
    elif isinstance(node, list):
        for i, item in enumerate(node):
            yield from _walk(doc, item, [*path, i])


@rule(
    "secret-literal",
    "no secret-looking key (password, secret, senha, token…) with a literal value in data files",
)
def secret_literal(repo: Repository) -> Iterator[Problem]:
    verdicts: dict[str, bool] = {}  # files share most of their keys: judge each key once
    for doc in [*repo.docs.values(), *repo.other_docs]:
        # the loader lists every text key of a file: most files have no secret-looking key at
        # all, and need not be walked (nor parsed again when they came from the cache)
        if doc.keys is None or _may_hold_secret(doc.keys, verdicts):
            yield from _walk(doc, doc.data, [])


def _may_hold_secret(keys: frozenset[str], verdicts: dict[str, bool]) -> bool:
    for key in keys:
        verdict = verdicts.get(key)
        if verdict is None:
            verdict = verdicts[key] = _is_secret_key(key)
        if verdict:
            return True
    return False
