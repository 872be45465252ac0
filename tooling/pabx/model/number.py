"""Numbers (`numbers/<DDD>.yaml`): DIDs with route, owner, reverse billing and destination."""

from __future__ import annotations

from pydantic import Field

from pabx.model.common import Destination, Did, Slug, Strict, Text


class NumberEntry(Strict):
    model_config = Strict.model_config | {"title": "Número"}

    number: Did = Field(title="DDD+Número", description="DDD followed by the subscriber number, digits only")
    route: Slug = Field(title="Rota", description="Route used by this number for outbound calls")
    owner: Slug | None = Field(None, title="Proprietário", description="Owning tenant; null = Disponível")
    reverse_billing: bool = Field(
        False, title="Tarifação reversa", description="Accept collect calls to this number (the owner pays)"
    )
    destination: Destination | None = Field(
        None,
        title="Destino",
        description="Inbound destination inside the owner: extension:, queue:, ivr:, voicemail:",
    )
    description: Text | None = Field(None, title="Descrição")

    @property
    def ddd(self) -> str:
        return self.number[:2]

    @property
    def subscriber(self) -> str:
        return self.number[2:]
