"""Routes (`routes/<slug>.yaml`): one outbound trunk for each Brazilian call class."""

from __future__ import annotations

from pydantic import Field, model_validator

from pabx.model.common import CALL_CLASSES, CallClass, ClassKey, Slug, Strict, Text


class Route(Strict):
    model_config = Strict.model_config | {"title": "Rota"}

    name: Text = Field(title="Nome")
    trunks: dict[ClassKey, Slug | None] = Field(
        title="Troncos de saída",
        description="Trunk (inventory/trunks/<name>.yaml) for each class; null blocks the class",
    )

    @model_validator(mode="after")
    def _every_class(self) -> Route:
        missing = [c.value for c in CALL_CLASSES if c not in self.trunks]
        if missing:
            raise ValueError(
                f"trunks must name a trunk (or null) for every class; missing: {', '.join(missing)}"
            )
        return self

    def trunk_for(self, call_class: CallClass) -> str | None:
        return self.trunks.get(call_class)
