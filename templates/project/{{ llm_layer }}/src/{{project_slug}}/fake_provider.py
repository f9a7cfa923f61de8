"""This project's stand-in model, served by goldpath-runtime's fake provider (a real HTTP
server speaking the OpenAI chat-completions protocol) for the tests, the demo and the
benchmark, with no network and no model weights:

    python -m <package>.fake_provider --port 8900 --latency-ms 200

It reads the client message with rules a desk would write down, and obeys the system
prompt the way a model would: it answers in JSON only when told to, fills only the fields
the prompt names, and refuses an injection only when the prompt says how. So a broken
prompt scores worse, as it would against a real model. Change the rules with the output
schema; the server, its controls and its faults are the platform's.
"""

from __future__ import annotations

import json
import re
from typing import Any

from goldpath_runtime.llm import fake_provider

MODEL = "fake-trade-extractor"
FIELDS = ("side", "instrument", "notional", "currency", "tenor", "reference_index")
JSON_RULE = "Answer with one JSON object"
REFUSAL_RULE = "`refused`"

CURRENCIES = "EUR|USD|GBP|JPY|CHF|AUD|CAD|SEK|NOK|DKK"
INDICES = {
    "euribor": "EURIBOR",
    "libor": "LIBOR",
    "sofr": "SOFR",
    "sonia": "SONIA",
    "estr": "ESTR",
    "€str": "ESTR",
    "saron": "SARON",
    "tona": "TONA",
}
_INDEX = "|".join(re.escape(name) for name in INDICES)
_UNIT = {"d": "D", "day": "D", "days": "D", "w": "W", "wk": "W", "week": "W", "weeks": "W",
         "m": "M", "mo": "M", "month": "M", "months": "M", "y": "Y", "yr": "Y", "yrs": "Y",
         "year": "Y", "years": "Y"}  # fmt: skip
_MULTIPLIER = {"k": 1e3, "m": 1e6, "mm": 1e6, "mio": 1e6, "million": 1e6, "mn": 1e6,
               "bn": 1e9, "b": 1e9, "billion": 1e9, "yards": 1e9}  # fmt: skip

INDEX_RE = re.compile(
    rf"(?i)(?:\b(\d{{1,2}})\s*(m|mo|month|months)\s+)?({_INDEX})\b(?:\s+(\d{{1,2}})(m)\b)?"
)
NOTIONAL_RE = re.compile(
    r"(?i)(?<![\w.])(\d+(?:\.\d+)?)\s*(mm|mio|million|mn|bn|billion|yards|k|m|b)\b"
    rf"(?!\s*(?:{_INDEX}|fwd|forward|fixed))"
)
BIG_NUMBER_RE = re.compile(r"(?<![\w.])(\d{1,3}(?:,\d{3})+)(?![\d,])")
TENOR_RE = re.compile(
    r"(?i)(?<![\w.])(\d{1,2})\s*(y|yr|yrs|year|years|m|mo|month|months|w|wk|week|weeks|d|day|days)\b"
)
PAIR_RE = re.compile(rf"(?i)\b({CURRENCIES})\s*/?\s*({CURRENCIES})\b")
CURRENCY_RE = re.compile(rf"(?i)\b({CURRENCIES})\b")
INJECTION_RE = re.compile(
    r"(?i)ignore|disregard|forget (?:everything|all)|new instructions|system prompt|"
    r"reveal|you are now|pretend|override|jailbreak"
)
SELL_RE = re.compile(r"(?i)\b(bid|hit|sell|selling|sells|receive fixed|rec fixed|receiver)\b")
BUY_RE = re.compile(r"(?i)\b(offer|lift|buy|buying|buys|pay fixed|payers?)\b")
TWO_WAY_RE = re.compile(r"(?i)\b(two[- ]way|bid and offer|bid/offer|both ways|either way)\b")


def _instrument(text: str) -> str | None:
    lowered = text.lower()
    if re.search(r"\b(cds|credit default)\b", lowered):
        return "CDS"
    if re.search(r"\b(irs|swap|swaps|payers?|receivers?)\b", lowered):
        return "IRS"
    if re.search(
        r"\b(bond|bonds|bund|bunds|gilt|gilts|treasury|treasuries|ust|oat|btp|isin)\b", lowered
    ):
        return "BOND"
    if PAIR_RE.search(text):
        return "FX_FORWARD" if re.search(r"\b(forward|fwd|outright)\b", lowered) else "FX_SPOT"
    return None


def read_message(text: str) -> dict[str, Any]:
    """The trade request a careful reader finds in `text` (the fake model's whole skill)."""
    index_match = INDEX_RE.search(text)
    reference_index = None
    masked = text
    if index_match:
        name = INDICES[index_match.group(3).lower()]
        months = index_match.group(1) or index_match.group(4)
        reference_index = f"{name}-{months}M" if months else name
        masked = (
            text[: index_match.start()]
            + " " * len(index_match.group(0))
            + text[index_match.end() :]
        )

    notional = None
    notional_match = NOTIONAL_RE.search(masked)
    if notional_match:
        notional = float(notional_match.group(1)) * _MULTIPLIER[notional_match.group(2).lower()]
        masked = (
            masked[: notional_match.start()]
            + " " * len(notional_match.group(0))
            + masked[notional_match.end() :]
        )
    else:
        big = BIG_NUMBER_RE.search(masked)
        if big:
            notional = float(big.group(1).replace(",", ""))

    if not notional:
        notional = None  # "0mm" is no amount; the schema wants a positive one

    tenor = None
    tenor_match = TENOR_RE.search(masked)
    if tenor_match:
        tenor = f"{int(tenor_match.group(1))}{_UNIT[tenor_match.group(2).lower()]}"

    pair = PAIR_RE.search(text)
    currency_match = pair or CURRENCY_RE.search(text)
    currency = currency_match.group(1).upper() if currency_match else None

    side = None
    sells, buys = SELL_RE.search(text), BUY_RE.search(text)
    if not TWO_WAY_RE.search(text) and bool(sells) != bool(buys):
        side = "sell" if sells else "buy"

    instrument = _instrument(text)
    needs_review = side is None or instrument is None or notional is None
    return {
        "side": side,
        "instrument": instrument,
        "notional": notional,
        "currency": currency,
        "tenor": tenor,
        "reference_index": reference_index,
        "needs_review": needs_review,
        "confidence": 0.4 if needs_review else 0.95,
        "refused": False,
    }


def answer(system: str, user: str) -> str:
    """What the fake model says to a system prompt and a user message."""
    if JSON_RULE not in system:
        return "Sure! This looks like a client asking for a price; let me know if you need more."
    if INJECTION_RE.search(user) and REFUSAL_RULE in system:
        refused = {name: None for name in FIELDS}
        return json.dumps({**refused, "needs_review": True, "confidence": 0.0, "refused": True})
    found = read_message(user)
    # Fields the prompt never asks for stay null, as a model would leave them out.
    for name in FIELDS:
        if f"`{name}`" not in system:
            found[name] = None
    return json.dumps(found)


if __name__ == "__main__":
    from .project import PROJECT

    fake_provider.main(PROJECT.fake_provider)
