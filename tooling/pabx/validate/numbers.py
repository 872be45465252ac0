"""DID rules: unique across files, real DDD, in the file of its DDD, destination when owned."""

from __future__ import annotations

from collections.abc import Iterator

from pabx.brazil.ddd import is_real_ddd
from pabx.errors import Problem
from pabx.loader.repo import NumberSite, Repository
from pabx.validate.registry import rule


@rule("number-unique", "a number appears once across all numbers/ files")
def number_unique(repo: Repository) -> Iterator[Problem]:
    first: dict[str, NumberSite] = {}
    for site in repo.number_sites:
        earlier = first.setdefault(site.entry.number, site)
        if earlier is not site:
            # positions only for a duplicate: finding them means parsing the file again
            where = f"{earlier.doc.path}:{earlier.doc.where([earlier.index])[0]}"
            yield site.doc.problem(
                [site.index, "number"],
                f"{site.entry.number} is already defined at {where}",
                "number-unique",
            )


@rule("number-ddd", "a number's DDD is one of the 67 real DDDs")
def number_ddd(repo: Repository) -> Iterator[Problem]:
    for site in repo.number_sites:
        if not is_real_ddd(site.entry.ddd):
            yield site.doc.problem(
                [site.index, "number"], f"DDD {site.entry.ddd} does not exist in Brazil", "number-ddd"
            )


@rule("number-file-ddd", "numbers/<DDD>.yaml holds only numbers of that DDD")
def number_file_ddd(repo: Repository) -> Iterator[Problem]:
    for site in repo.number_sites:
        if site.entry.ddd != site.doc.stem:
            yield site.doc.problem(
                [site.index, "number"],
                f"{site.entry.number} has DDD {site.entry.ddd}: move it to numbers/{site.entry.ddd}.yaml",
                "number-file-ddd",
            )


@rule("number-destination", "an owned number has an inbound destination; an available one has none")
def number_destination(repo: Repository) -> Iterator[Problem]:
    for site in repo.number_sites:
        entry = site.entry
        if entry.owner and not entry.destination:
            yield site.doc.problem(
                [site.index],
                f"{entry.number} is owned by {entry.owner} but has no destination",
                "number-destination",
            )
        if not entry.owner and entry.destination:
            yield site.doc.problem(
                [site.index, "destination"],
                f"{entry.number} is Disponível (no owner): remove its destination",
                "number-destination",
            )
