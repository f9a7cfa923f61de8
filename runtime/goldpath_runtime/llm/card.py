"""The prompt card of a registered prompt version (an LLM project's model card): what it is
for, which evaluation it passed, against which model, compared with the champion, and
what made it. The gate writes it (`prompt_card/` in its run) when it registers a version,
and tags the version with the card's id.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from ..governance import Record, card_record_section, provenance, with_card_id


def build_prompt_card(**facts: Any) -> dict[str, Any]:
    record: Record = facts["record"]
    evaluation_set: Path = facts["evaluation_set"]
    card = {
        "prompt": facts["prompt_name"],
        "version": facts["version"],
        "prompt_digest": facts["prompt_digest"],
        **record.card_fields(),
        "registered_by": facts["registered_by"],
        "evaluation_set": {
            "path": str(evaluation_set),
            "cases": facts["cases"],
            "sha256": hashlib.sha256(evaluation_set.read_bytes()).hexdigest(),
        },
        "provider": facts["provider"],
        "provider_model": facts["provider_model"],
        "tokens": facts["tokens"],
        "gate": [
            {
                "scorer": name,
                "value": value,
                "interval_95": _rounded(facts["intervals"].get(name.removesuffix(" vs champion"))),
                "required": requirement,
                "passed": ok,
            }
            for name, value, requirement, ok in facts["checks"]
        ],
        "metrics": facts["metrics"],
        "intervals_95": {name: _rounded(i) for name, i in facts["intervals"].items()},
        "segments": facts["segments"],
        "champion": facts["champion"],
        "code": provenance(facts["code_root"]),
        "mlflow_run_id": facts["run_id"],
    }
    return with_card_id(card)


def _rounded(interval: tuple[float, float] | None) -> list[float] | None:
    return None if interval is None else [round(interval[0], 4), round(interval[1], 4)]


def _interval_text(interval: list[float] | None) -> str:
    return "-" if interval is None else f"{interval[0]:.4f} to {interval[1]:.4f}"


def render_prompt_card(card: dict[str, Any]) -> str:
    data = card["evaluation_set"]
    champion = card["champion"]
    scorers = [name for name in card["segments"]["all"] if name != "cases"]
    lines = [
        f"# Prompt card: {card['prompt']} v{card['version']}",
        "",
        f"Card `{card['card_id']}`; owner {card['owner']} ({card['owner_email']}); risk tier "
        f"**{card['risk_tier']}**; registered by {card['registered_by']}; prompt digest "
        f"`{card['prompt_digest']}`.",
        "",
        *card_record_section(card),
        "## Evaluation",
        "",
        f"{data['cases']} cases from `{data['path']}` (sha256 `{data['sha256']}`), against "
        f"{card['provider']} / {card['provider_model'] or 'its default model'}; "
        f"{card['tokens']} tokens.",
        "",
        "| scorer | value | 95% interval (Wilson) | required | result |",
        "|---|---|---|---|---|",
        *(
            f"| {row['scorer']} | {row['value']:.4f} | {_interval_text(row['interval_95'])} | "
            f"{row['required']} | {'pass' if row['passed'] else 'FAIL'} |"
            for row in card["gate"]
        ),
        "",
        "## By case tag",
        "",
        "| tag | cases | " + " | ".join(scorers) + " |",
        "|---|---|" + "---|" * len(scorers),
        *(
            f"| {tag} | {row['cases']} | "
            + " | ".join(f"{row[s]:.4f}" if s in row else "-" for s in scorers)
            + " |"
            for tag, row in card["segments"].items()
        ),
        "",
        "## Champion at evaluation",
        "",
        "none" if not champion else ", ".join(f"{k} {v}" for k, v in sorted(champion.items())),
        "",
        "## Code",
        "",
        *(f"- {name}: {value or '-'}" for name, value in card["code"].items()),
        f"- MLflow run: {card['mlflow_run_id']}",
        "",
    ]
    return "\n".join(lines)
