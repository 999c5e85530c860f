"""A scenario written as the TOML file ``load_scenario`` reads back to an equal config."""

from __future__ import annotations

import json
from typing import Any

from rfloc_core.data.scenario import ScenarioConfig


def scenario_toml(scenario: ScenarioConfig) -> str:
    """``scenario`` as TOML text: scalars, then one table per section, then ``[[receivers]]``;
    unset optional sections (None) are left out."""
    data = scenario.model_dump(mode="json")
    lines = [f"{key} = {json.dumps(value)}" for key, value in data.items() if _scalar(value)]
    for table, values in data.items():
        if isinstance(values, dict):
            lines += ["", f"[{table}]", *_pairs(values)]
    for receiver in data["receivers"]:
        lines += ["", "[[receivers]]", *_pairs(receiver)]
    return "\n".join(lines) + "\n"


def _scalar(value: Any) -> bool:
    return value is not None and not isinstance(value, dict | list)


def _pairs(table: dict[str, Any]) -> list[str]:
    lines = []
    for key, value in table.items():
        if value is None:
            continue
        if isinstance(value, dict):
            inline = ", ".join(f"{k} = {json.dumps(v)}" for k, v in value.items())
            lines.append(f"{key} = {{{inline}}}")
        else:
            lines.append(f"{key} = {json.dumps(value)}")
    return lines
