"""The pt-BR labels of the report pages, from the seed's words (Cliente, Ramal, Rota…)."""

from __future__ import annotations

from pabx.model.common import CALL_CLASSES, CLASS_LABELS
from pabx.model.tenant import PersonType, QueueStrategy, Status

DIRECTIONS: dict[str, str] = {"entrada": "Entrada", "saida": "Saída", "interna": "Interna"}

# Outbound classes first (the route columns), then where a call in or inside went first.
CLASSES: dict[str, str] = {c.value: CLASS_LABELS[c] for c in CALL_CLASSES} | {
    "ramal": "Ramal",
    "fila": "Grupo",
    "ura": "Pré-atendimento",
    "correio": "Correio de voz",
}

STATUS: dict[Status, str] = {
    Status.ATIVO: "Ativo",
    Status.INATIVO: "Inativo",
    Status.PENDENTE: "Pendente",
    Status.REMOVIDO: "Removido",
}

PERSON_TYPE: dict[PersonType, str] = {PersonType.JURIDICA: "Jurídica", PersonType.FISICA: "Física"}

STRATEGY: dict[QueueStrategy, str] = {
    QueueStrategy.RINGALL: "Tocar todos",
    QueueStrategy.LEASTRECENT: "Menos recente",
    QueueStrategy.FEWESTCALLS: "Menos chamadas",
    QueueStrategy.RANDOM: "Aleatória",
    QueueStrategy.RRMEMORY: "Rodízio com memória",
    QueueStrategy.LINEAR: "Linear",
    QueueStrategy.WRANDOM: "Aleatória ponderada",
}

DESTINATION_KINDS: dict[str, str] = {
    "extension": "Ramal",
    "queue": "Grupo",
    "ivr": "Pré-atendimento",
    "voicemail": "Correio de voz",
    "hangup": "Desligar",
}


def class_label(key: str) -> str:
    return CLASSES.get(key, key)


def destination_label(destination: str | None) -> str:
    """'queue:600' -> 'Grupo 600'; None -> '—'."""
    if not destination:
        return "—"
    kind, _, target = destination.partition(":")
    label = DESTINATION_KINDS.get(kind, kind)
    return f"{label} {target}".strip()
