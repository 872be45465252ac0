"""Routes (`routes/<slug>.yaml`): one outbound trunk for each Brazilian call class."""

from __future__ import annotations

from pydantic import Field, field_validator

from pabx.model.common import CALL_CLASSES, CallClass, ClassKey, Slug, Strict, Text


class Route(Strict):
    model_config = Strict.model_config | {"title": "Rota"}

    name: Text = Field(title="Nome")
    trunks: dict[ClassKey, Slug | None] = Field(
        title="Troncos de saída",
        description="Trunk (inventory/trunks/<name>.yaml) for each class; null blocks the class",
    )

    @field_validator("trunks")
    @classmethod
    def _every_class(cls, trunks: dict[CallClass, str | None]) -> dict[CallClass, str | None]:
        missing = [c.value for c in CALL_CLASSES if c not in trunks]
        if missing:
            raise ValueError(
                f"trunks must name a trunk (or null) for every class; missing: {', '.join(missing)}"
            )
        if trunks.get(CallClass.SERVICOS) is None:
            raise ValueError("servicos needs a trunk: emergency numbers (190-199) go out through it")
        return trunks

    def trunk_for(self, call_class: CallClass) -> str | None:
        return self.trunks.get(call_class)
