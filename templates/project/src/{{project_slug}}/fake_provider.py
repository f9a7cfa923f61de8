"""A deterministic stand-in for an LLM: a real HTTP server speaking the OpenAI
chat-completions protocol, so the service, its tests, the demo and the benchmark exercise
the same client code as production, with no network and no model weights.

    python -m <package>.fake_provider --port 8900 --latency-ms 200

Its "model" reads the client message with rules a desk would write down, and obeys the
system prompt the way a model would: it answers in JSON only when told to, fills only the
fields the prompt names, and refuses an injection only when the prompt says how. So a
broken prompt scores worse, as it would against a real model. Tests steer it through
`POST /_control` (latency, failures, malformed answers) and read what it received through
`GET /_received` (to prove personal data never reaches it).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import threading
import time
from collections import deque
from collections.abc import Awaitable, Callable, Iterator, MutableMapping
from contextlib import contextmanager
from typing import Any

import uvicorn

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


def _tokens(text: str) -> int:
    return max(1, (len(text) + 3) // 4)


class FakeProvider:
    """The ASGI app. State is per instance: latency, queued failures, received messages."""

    def __init__(self, latency_ms: float = 0, require_token: str | None = None) -> None:
        self.latency_s = latency_ms / 1000
        self.require_token = require_token
        self.fail_next = 0
        self.fail_status = 503
        self.malformed_next = 0
        # Answers given verbatim to the next calls (a misbehaving provider, for the tests).
        self.scripted: deque[tuple[int, Any, list[tuple[bytes, bytes]]]] = deque()
        self.received: deque[str] = deque(maxlen=10_000)
        self.calls = 0
        self.tokens_billed = 0  # what a real provider would invoice: the cost guard's check
        self.in_flight = self.peak_in_flight = 0  # concurrent calls: the batch bound's check
        self.url = ""  # set by running(): the base URL clients use (PROVIDER_URL)

    def reset(self) -> None:
        """Back to a healthy provider with no delay (tests call it between cases)."""
        self.latency_s = 0
        self.fail_next = self.malformed_next = 0
        self.fail_status = 503
        self.scripted.clear()
        self.received.clear()
        self.tokens_billed = 0
        self.peak_in_flight = 0

    async def __call__(
        self,
        scope: MutableMapping[str, Any],
        receive: Callable[[], Awaitable[MutableMapping[str, Any]]],
        send: Callable[[MutableMapping[str, Any]], Awaitable[None]],
    ) -> None:
        if scope["type"] == "lifespan":
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        status, payload, headers = await self.handle(scope, body)
        raw = json.dumps(payload).encode()
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [(b"content-type", b"application/json"), *headers],
            }
        )
        await send({"type": "http.response.body", "body": raw})

    async def handle(
        self, scope: MutableMapping[str, Any], body: bytes
    ) -> tuple[int, Any, list[tuple[bytes, bytes]]]:
        path, method = scope["path"], scope["method"]
        if path == "/healthz":
            return 200, {"status": "ok"}, []
        if path == "/_received" and method == "GET":
            return 200, list(self.received), []
        if path == "/_control" and method == "POST":
            control = json.loads(body or b"{}")
            self.latency_s = control.get("latency_ms", self.latency_s * 1000) / 1000
            self.fail_next = control.get("fail_next", self.fail_next)
            self.fail_status = control.get("fail_status", self.fail_status)
            self.malformed_next = control.get("malformed_next", self.malformed_next)
            if control.get("clear_received"):
                self.received.clear()
            return 200, {"calls": self.calls}, []
        if not (path.endswith("/chat/completions") and method == "POST"):
            return 404, {"error": {"message": f"no route {method} {path}"}}, []
        if self.require_token is not None:
            auth = dict(scope["headers"]).get(b"authorization", b"").decode()
            if auth != f"Bearer {self.require_token}":
                return 401, {"error": {"message": "missing or wrong bearer token"}}, []
        self.calls += 1
        request = json.loads(body)
        messages = request["messages"]
        for message in messages:
            if message["role"] == "user":
                self.received.append(message["content"])
        if self.latency_s:
            self.in_flight += 1
            self.peak_in_flight = max(self.peak_in_flight, self.in_flight)
            try:
                await asyncio.sleep(self.latency_s)
            finally:
                self.in_flight -= 1
        if self.scripted:
            return self.scripted.popleft()
        if self.fail_next > 0:
            self.fail_next -= 1
            return (
                self.fail_status,
                {"error": {"message": "injected failure"}},
                [(b"retry-after", b"0")],
            )
        system = next((m["content"] for m in messages if m["role"] == "system"), "")
        user = next(m["content"] for m in messages if m["role"] == "user")
        content = answer(system, user)
        if self.malformed_next > 0:
            self.malformed_next -= 1
            content = '{"side": "buy", "notional": '
        finish = "stop"
        limit = request.get("max_tokens")
        if isinstance(limit, int) and _tokens(content) > limit:
            content, finish = content[: limit * 4], "length"  # cut, as a real model is
        prompt_tokens = sum(_tokens(m["content"]) for m in messages)
        self.tokens_billed += prompt_tokens + _tokens(content)
        return (
            200,
            {
                "id": f"chatcmpl-fake-{self.calls}",
                "object": "chat.completion",
                "created": int(time.time()),
                "model": request.get("model") or MODEL,
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": content},
                        "finish_reason": finish,
                    }
                ],
                "usage": {
                    "prompt_tokens": prompt_tokens,
                    "completion_tokens": _tokens(content),
                    "total_tokens": prompt_tokens + _tokens(content),
                },
            },
            [],
        )


@contextmanager
def running(
    port: int, latency_ms: float = 0, require_token: str | None = None
) -> Iterator[FakeProvider]:
    """The fake provider on 127.0.0.1:`port` in a background thread, for tests and scripts."""
    app = FakeProvider(latency_ms, require_token)
    app.url = f"http://127.0.0.1:{port}/v1"
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="fake-provider", daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError(f"the fake provider did not start on port {port}")
        time.sleep(0.01)
    try:
        yield app
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8900)
    parser.add_argument("--latency-ms", type=float, default=0, help="added to every completion")
    parser.add_argument("--require-token", default=None, help="answer 401 without this bearer")
    args = parser.parse_args(argv)
    uvicorn.run(
        FakeProvider(args.latency_ms, args.require_token),
        host=args.host,
        port=args.port,
        log_level="warning",
        access_log=False,
        lifespan="on",
        workers=1,  # one event loop; WEB_CONCURRENCY, meant for the service, must not apply
    )


if __name__ == "__main__":
    main()
