"""Reading the repository: YAML with positions, then models, with every problem collected."""

from pabx.loader.repo import Document, Repository, load_repository, load_valid_repository
from pabx.loader.yamlpos import YList, YMap, field_label, locate, parse

__all__ = [
    "Document",
    "Repository",
    "YList",
    "YMap",
    "field_label",
    "load_repository",
    "load_valid_repository",
    "locate",
    "parse",
]
