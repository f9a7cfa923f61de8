"""A deterministic stand-in for an LLM provider: a real HTTP server speaking the OpenAI
chat-completions protocol, so a service, its tests, its demo and its benchmark exercise the
same client code as production, with no network and no model weights.

What it answers is the project's: a `StandInModel`, a function of the system prompt and
the user message, written the way the team's real model should behave (its project's
`fake_provider` module). Everything else is the platform's and the same for every project:
latency, bearer-token checks, usage counts and `max_tokens` cuts, and the controls tests
steer it through: `POST /_control` (latency, failures, malformed answers), `scripted`
(verbatim answers, for a misbehaving provider) and `GET /_received` (what reached it, to
prove personal data never does).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import threading
import time
from collections import deque
from collections.abc import Awaitable, Callable, Iterator, MutableMapping
from contextlib import contextmanager
from typing import Any, TypeVar

import uvicorn

# The model a project's stand-in plays: (system prompt, user message) -> the answer's text.
StandInModel = Callable[[str, str], str]


def _tokens(text: str) -> int:
    return max(1, (len(text) + 3) // 4)


class FakeProvider:
    """The ASGI app. State is per instance: latency, queued failures, received messages."""

    def __init__(
        self,
        model: StandInModel,
        latency_ms: float = 0,
        require_token: str | None = None,
        name: str = "fake-model",
    ) -> None:
        self.model = model
        self.name = name  # answered as the model when a request names none
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
        # What this call gets is settled as it arrives: a call still sleeping from an
        # earlier test must not take an answer or a failure queued for the next one.
        scripted = self.scripted.popleft() if self.scripted else None
        failing = scripted is None and self.fail_next > 0
        self.fail_next -= failing
        cut = scripted is None and not failing and self.malformed_next > 0
        self.malformed_next -= cut
        if self.latency_s:
            self.in_flight += 1
            self.peak_in_flight = max(self.peak_in_flight, self.in_flight)
            try:
                await asyncio.sleep(self.latency_s)
            finally:
                self.in_flight -= 1
        if scripted is not None:
            return scripted
        if failing:
            return (
                self.fail_status,
                {"error": {"message": "injected failure"}},
                [(b"retry-after", b"0")],
            )
        system = next((m["content"] for m in messages if m["role"] == "system"), "")
        user = next(m["content"] for m in messages if m["role"] == "user")
        content = self.model(system, user)
        if cut:
            content = content[: max(1, len(content) // 2)]  # cut mid-answer: not JSON
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
                "model": request.get("model") or self.name,
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


App = TypeVar("App", bound=FakeProvider)


@contextmanager
def running(app: App, port: int) -> Iterator[App]:
    """`app` on 127.0.0.1:`port` in a background thread, for tests and scripts."""
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


def main(make: Callable[[float, str | None], FakeProvider], argv: list[str] | None = None) -> None:
    """Serve the fake provider `make(latency_ms, require_token)` builds (a project's
    `python -m <package>.fake_provider`)."""
    parser = argparse.ArgumentParser(description="A deterministic fake LLM provider.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8900)
    parser.add_argument("--latency-ms", type=float, default=0, help="added to every completion")
    parser.add_argument("--require-token", default=None, help="answer 401 without this bearer")
    args = parser.parse_args(argv)
    uvicorn.run(
        make(args.latency_ms, args.require_token),
        host=args.host,
        port=args.port,
        log_level="warning",
        access_log=False,
        lifespan="on",
        workers=1,  # one event loop; WEB_CONCURRENCY, meant for the service, must not apply
    )
