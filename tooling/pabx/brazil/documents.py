"""CPF and CNPJ check digits (alphanumeric CNPJ of IN RFB 2.229/2024 included).

Each CNPJ character counts as its ASCII code minus 48 (A = 17 ... Z = 42), so numeric CNPJs
keep their historic check digits. A = 10 is a common, wrong, shortcut.
"""

from __future__ import annotations

import re
from enum import StrEnum

CPF_FORMAT = re.compile(r"^(?:\d{3}\.\d{3}\.\d{3}-\d{2}|\d{11})$")
CNPJ_FORMAT = re.compile(r"^(?:[0-9A-Z]{2}\.[0-9A-Z]{3}\.[0-9A-Z]{3}/[0-9A-Z]{4}-\d{2}|[0-9A-Z]{12}\d{2})$")


class DocumentKind(StrEnum):
    CPF = "cpf"
    CNPJ = "cnpj"


def _mod11(values: list[int], weights: list[int]) -> int:
    remainder = sum(v * w for v, w in zip(values, weights, strict=True)) % 11
    return 0 if remainder < 2 else 11 - remainder


def strip(document: str) -> str:
    return re.sub(r"[.\-/\s]", "", document).upper()


def cpf_check_digits(first9: str) -> str:
    digits = [int(c) for c in first9]
    dv1 = _mod11(digits, list(range(10, 1, -1)))
    dv2 = _mod11([*digits, dv1], list(range(11, 1, -1)))
    return f"{dv1}{dv2}"


def cnpj_check_digits(first12: str) -> str:
    values = [ord(c) - 48 for c in first12]
    dv1 = _mod11(values, [5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2])
    dv2 = _mod11([*values, dv1], [6, 5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2])
    return f"{dv1}{dv2}"


def is_valid_cpf(document: str) -> bool:
    if not CPF_FORMAT.match(document.strip()):
        return False
    raw = strip(document)
    if len(set(raw)) == 1:
        return False
    return cpf_check_digits(raw[:9]) == raw[9:]


def is_valid_cnpj(document: str) -> bool:
    if not CNPJ_FORMAT.match(document.strip().upper()):
        return False
    raw = strip(document)
    if len(set(raw)) == 1:
        return False
    return cnpj_check_digits(raw[:12]) == raw[12:]


def document_kind(document: str) -> DocumentKind | None:
    """Which kind of document the text is shaped like (regardless of check digits)."""
    text = document.strip().upper()
    if CPF_FORMAT.match(text):
        return DocumentKind.CPF
    if CNPJ_FORMAT.match(text):
        return DocumentKind.CNPJ
    return None


def format_cpf(raw11: str) -> str:
    return f"{raw11[:3]}.{raw11[3:6]}.{raw11[6:9]}-{raw11[9:]}"


def format_cnpj(raw14: str) -> str:
    return f"{raw14[:2]}.{raw14[2:5]}.{raw14[5:8]}/{raw14[8:12]}-{raw14[12:]}"


def make_cpf(first9: str) -> str:
    """A valid, formatted CPF from nine digits (for demo and synthetic data)."""
    return format_cpf(first9 + cpf_check_digits(first9))


def make_cnpj(first12: str) -> str:
    """A valid, formatted CNPJ from twelve characters (for demo and synthetic data)."""
    return format_cnpj(first12 + cnpj_check_digits(first12))
