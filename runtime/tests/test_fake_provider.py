"""The fake provider every LLM project's tests, demo and benchmark run against: a real HTTP
server speaking chat completions, answering as the project's stand-in model, with the
controls that make a provider misbehave on cue."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from local_ports import free_port

from goldpath_runtime.llm.fake_provider import FakeProvider, running


def echo(system: str, user: str) -> str:
    return json.dumps({"system": system, "user": user})


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeProvider]:
    with running(FakeProvider(echo, name="stand-in"), free_port()) as provider:
        yield provider


@pytest.fixture(autouse=True)
def _healthy(fake: FakeProvider) -> Iterator[None]:
    yield
    fake.reset()


def call(
    url: str, path: str, body: Any = None, token: str | None = None
) -> tuple[int, Any, dict[str, str]]:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url.removesuffix("/v1") + path, data=data)  # noqa: S310
    request.add_header("content-type", "application/json")
    if token:
        request.add_header("authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310
            return response.status, json.loads(response.read()), dict(response.headers)
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read()), dict(error.headers)


def chat(user: str, **extra: Any) -> dict[str, Any]:
    return {"messages": [{"role": "system", "content": "be brief"},
                         {"role": "user", "content": user}], **extra}  # fmt: skip


def test_it_answers_as_the_stand_in_model_with_usage(fake: FakeProvider) -> None:
    status, body, _ = call(fake.url, "/v1/chat/completions", chat("bid 25mm"))
    assert status == 200
    answer = body["choices"][0]
    assert json.loads(answer["message"]["content"]) == {"system": "be brief", "user": "bid 25mm"}
    assert answer["finish_reason"] == "stop"
    assert body["model"] == "stand-in"  # no model asked for: the stand-in's name
    usage = body["usage"]
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"] > 0
    assert fake.tokens_billed == usage["total_tokens"]
    assert list(fake.received) == ["bid 25mm"]


def test_an_answer_longer_than_max_tokens_is_cut_as_a_model_cuts_it(fake: FakeProvider) -> None:
    _, body, _ = call(fake.url, "/v1/chat/completions", chat("x" * 400, max_tokens=10))
    assert body["choices"][0]["finish_reason"] == "length"
    assert len(body["choices"][0]["message"]["content"]) == 40


def test_controls_inject_failures_then_malformed_answers(fake: FakeProvider) -> None:
    status, _, _ = call(fake.url, "/_control", {"fail_next": 1, "fail_status": 429})
    assert status == 200
    status, _, headers = call(fake.url, "/v1/chat/completions", chat("a"))
    assert (status, headers.get("retry-after")) == (429, "0")
    call(fake.url, "/_control", {"malformed_next": 1})
    _, body, _ = call(fake.url, "/v1/chat/completions", chat("a"))
    with pytest.raises(json.JSONDecodeError):
        json.loads(body["choices"][0]["message"]["content"])
    _, body, _ = call(fake.url, "/v1/chat/completions", chat("a"))
    assert json.loads(body["choices"][0]["message"]["content"])["user"] == "a"  # healthy again


def test_scripted_answers_are_given_verbatim_in_order(fake: FakeProvider) -> None:
    fake.scripted.append((200, {"choices": "not a list"}, []))
    fake.scripted.append((503, {"error": {}}, [(b"retry-after", b"nan")]))
    assert call(fake.url, "/v1/chat/completions", chat("a"))[1] == {"choices": "not a list"}
    status, _, headers = call(fake.url, "/v1/chat/completions", chat("a"))
    assert (status, headers["retry-after"]) == (503, "nan")


def test_a_bearer_token_is_required_when_one_is_set() -> None:
    right, wrong = "right", "wrong"
    guarded = FakeProvider(echo, require_token=right)
    with running(guarded, free_port()):
        assert call(guarded.url, "/v1/chat/completions", chat("a"), token=wrong)[0] == 401
        assert call(guarded.url, "/v1/chat/completions", chat("a"), token=right)[0] == 200
    assert guarded.calls == 1  # the refused call never reached the model


def test_what_it_received_is_readable_and_clearable(fake: FakeProvider) -> None:
    call(fake.url, "/v1/chat/completions", chat("first"))
    assert call(fake.url, "/_received")[1] == ["first"]
    call(fake.url, "/_control", {"clear_received": True})
    assert call(fake.url, "/_received")[1] == []
    assert call(fake.url, "/nowhere")[0] == 404


def test_a_call_still_waiting_does_not_take_what_is_queued_for_the_next(
    fake: FakeProvider,
) -> None:
    """A call from a timed-out test that wakes later used to take the next test's scripted
    answer; what a call gets is settled when it arrives."""
    fake.latency_s = 0.5
    with ThreadPoolExecutor(1) as pool:
        slow = pool.submit(call, fake.url, "/v1/chat/completions", chat("early"))
        time.sleep(0.1)  # the early call is in, and waiting
        fake.latency_s = 0
        fake.scripted.append((200, {"queued": "for the next call"}, []))
        assert call(fake.url, "/v1/chat/completions", chat("next"))[1] == {
            "queued": "for the next call"
        }
        assert slow.result()[1]["choices"][0]["finish_reason"] == "stop"
