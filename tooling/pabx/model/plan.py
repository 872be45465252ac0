"""Plans (`plans/<slug>.yaml`): limits, allowed call classes, tariffs, billing cadence."""

from __future__ import annotations

from decimal import Decimal

from pydantic import Field, field_validator

from pabx.model.common import CALL_CLASSES, CallClass, ClassKey, Strict, Text


class Limits(Strict):
    model_config = Strict.model_config | {"title": "Limites"}

    extensions: int = Field(ge=0, title="Ramais", description="Maximum number of extensions")
    queues: int = Field(ge=0, title="Grupos", description="Maximum number of queues (filas)")
    ivrs: int = Field(ge=0, title="Pré-atendimentos", description="Maximum number of IVRs (URAs)")
    concurrent_calls: int = Field(
        ge=1, title="Chamadas simultâneas", description="Concurrent calls of the whole tenant"
    )


class Billing(Strict):
    """The billing cadence, 30/6 by default: free under 3 s, minimum 30 s, then 6 s steps."""

    model_config = Strict.model_config | {"title": "Cadência de tarifação"}

    free_under_s: int = Field(
        3, ge=0, title="Franquia (s)", description="Calls with billsec below this are free"
    )
    minimum_s: int = Field(30, ge=0, title="Mínimo (s)", description="Minimum billed seconds")
    increment_s: int = Field(6, ge=1, title="Incremento (s)", description="Billing step after the minimum")


class Plan(Strict):
    model_config = Strict.model_config | {"title": "Plano"}

    name: Text = Field(title="Plano")
    monthly_fee: Decimal = Field(ge=0, decimal_places=2, title="Mensalidade (R$)")
    limits: Limits = Field(title="Limites")
    allowed_classes: list[ClassKey] = Field(title="Classes de chamada permitidas")
    tariffs: dict[ClassKey, Decimal] = Field(
        title="Tarifas (R$/min)", description="Price per minute for each call class"
    )
    connection_fee: Decimal = Field(
        Decimal("0"), ge=0, title="Taxa de conexão (R$)", description="Charged once per answered, billed call"
    )
    billing: Billing = Field(default_factory=Billing, title="Cadência de tarifação")

    @field_validator("allowed_classes")
    @classmethod
    def _no_repeats(cls, classes: list[CallClass]) -> list[CallClass]:
        if len(set(classes)) != len(classes):
            raise ValueError("allowed_classes lists a class twice")
        return classes

    @field_validator("tariffs")
    @classmethod
    def _every_tariff(cls, tariffs: dict[CallClass, Decimal]) -> dict[CallClass, Decimal]:
        missing = [c.value for c in CALL_CLASSES if c not in tariffs]
        if missing:
            raise ValueError(f"tariffs must give a price for every class; missing: {', '.join(missing)}")
        if any(v < 0 for v in tariffs.values()):
            raise ValueError("tariffs must not be negative")
        return tariffs

    def allows(self, call_class: CallClass) -> bool:
        return call_class in self.allowed_classes
