"""CPF/CNPJ check digits and the classification of dialed numbers (domain/brazil.md)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pabx.brazil.ddd import ddd_table, is_real_ddd, uf_of
from pabx.brazil.documents import (
    cnpj_check_digits,
    is_valid_cnpj,
    is_valid_cpf,
    make_cnpj,
    make_cpf,
)
from pabx.brazil.numbering import Outcome, classify
from pabx.model import CallClass


@pytest.mark.parametrize("cpf", ["529.982.247-25", "111.444.777-35", "123.456.789-09", "52998224725"])
def test_valid_cpf(cpf: str) -> None:
    assert is_valid_cpf(cpf)


@pytest.mark.parametrize("cpf", ["529.982.247-24", "111.111.111-11", "529.982.247-2", "abc.def.ghi-jk"])
def test_invalid_cpf(cpf: str) -> None:
    assert not is_valid_cpf(cpf)


@pytest.mark.parametrize(
    "cnpj", ["12.ABC.345/01DE-35", "A1.B2C.3D4/0001-93", "11.222.333/0001-81", "11.444.777/0001-61"]
)
def test_valid_cnpj(cnpj: str) -> None:
    assert is_valid_cnpj(cnpj)


@pytest.mark.parametrize("cnpj", ["12.ABC.345/01DE-36", "11.222.333/0001-80", "00.000.000/0000-00"])
def test_invalid_cnpj(cnpj: str) -> None:
    assert not is_valid_cnpj(cnpj)


def test_cnpj_letters_count_from_ascii_48() -> None:
    # A = 17 (ASCII 65 - 48); a table mapping A = 10 would give other digits for this example
    assert cnpj_check_digits("12ABC34501DE") == "35"


@given(st.text(alphabet="0123456789", min_size=9, max_size=9).filter(lambda s: len(set(s)) > 1))
def test_made_cpf_is_valid_and_one_digit_off_is_not(first9: str) -> None:
    cpf = make_cpf(first9)
    assert is_valid_cpf(cpf)
    last = int(cpf[-1])
    assert not is_valid_cpf(cpf[:-1] + str((last + 1) % 10))


@given(st.text(alphabet="0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=12, max_size=12))
def test_made_cnpj_is_valid(first12: str) -> None:
    cnpj = make_cnpj(first12)
    if len(set(first12)) > 1:
        assert is_valid_cnpj(cnpj)


def test_ddd_table_has_the_67_real_ddds() -> None:
    assert len(ddd_table()) == 67
    assert is_real_ddd("11") and uf_of("11") == "SP"
    assert uf_of("61") == "DF"
    for fake in (
        "20",
        "23",
        "25",
        "26",
        "29",
        "30",
        "36",
        "39",
        "40",
        "50",
        "52",
        "56",
        "57",
        "58",
        "59",
        "60",
    ):
        assert not is_real_ddd(fake), fake


@pytest.mark.parametrize(
    ("dialed", "outcome", "cls"),
    [
        ("190", Outcome.EMERGENCY, CallClass.SERVICOS),
        ("193", Outcome.EMERGENCY, CallClass.SERVICOS),
        ("102", Outcome.OUTBOUND, CallClass.SERVICOS),
        ("10315", Outcome.OUTBOUND, CallClass.SERVICOS),
        ("33334444", Outcome.OUTBOUND, CallClass.LOCAL_FIXO),
        ("987654321", Outcome.OUTBOUND, CallClass.LOCAL_MOVEL),
        ("02133334444", Outcome.OUTBOUND, CallClass.LDN_FIXO),
        ("021987654321", Outcome.OUTBOUND, CallClass.LDN_MOVEL),
        ("0318522222222", Outcome.OUTBOUND, CallClass.LDN_FIXO),
        ("04121987654321", Outcome.OUTBOUND, CallClass.LDN_MOVEL),
        ("03001234567", Outcome.OUTBOUND, CallClass.C0300),
        ("0300123456", Outcome.OUTBOUND, CallClass.C0300),
        ("05001234567", Outcome.OUTBOUND, CallClass.C0300),
        ("08007778080", Outcome.OUTBOUND, CallClass.C0800),
        ("00211212555123", Outcome.OUTBOUND, CallClass.LDI),
        ("+5511987654321", Outcome.OUTBOUND, CallClass.LOCAL_MOVEL),
        ("+552133334444", Outcome.OUTBOUND, CallClass.LDN_FIXO),
        ("+12125551234", Outcome.OUTBOUND, CallClass.LDI),
        ("1133334444", Outcome.OUTBOUND, CallClass.LOCAL_FIXO),
        ("21987654321", Outcome.OUTBOUND, CallClass.LDN_MOVEL),
        ("909033334444", Outcome.COLLECT, None),
        ("9090987654321", Outcome.COLLECT, None),
        ("90212133334444", Outcome.COLLECT, None),
        ("2001", Outcome.UNKNOWN, None),
        ("0", Outcome.UNKNOWN, None),
    ],
)
def test_classify(dialed: str, outcome: Outcome, cls: CallClass | None) -> None:
    result = classify(dialed, own_ddd="11")
    assert result.outcome is outcome
    assert result.call_class == cls


def test_ddd_without_zero_can_be_turned_off() -> None:
    assert classify("1133334444", own_ddd="11", accept_ddd_without_zero=False).outcome is Outcome.UNKNOWN


def test_csp_and_ddd_are_extracted() -> None:
    result = classify("04121987654321", own_ddd="11")
    assert (result.csp, result.ddd, result.subscriber) == ("41", "21", "987654321")
