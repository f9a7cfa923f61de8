"""The LLM service's tracer against a real MLflow store: a sampled request is one root span
with a child per message; no message text unless content tracing is on; an unsampled
request writes nothing."""

from __future__ import annotations

import dataclasses
import os
from types import SimpleNamespace
from typing import Any

import mlflow
import pytest

from goldpath_runtime.llm.tracing import Tracer
from goldpath_runtime.store import StoreConfig, connect, ensure_experiment

MESSAGE = "bid 25mm EUR 5y IRS"


def connect_traces(store: StoreConfig) -> None:
    """The store, with the traces' experiment keeping its artifacts in the store's folder
    (one the tracer made itself would put them under the working directory)."""
    ensure_experiment(connect(store), dataclasses.replace(store, experiment_name="rfq_traces"))


def traces_of(store: StoreConfig, *, ratio: float, content: bool) -> list[Any]:
    connect_traces(store)
    settings = SimpleNamespace(
        trace_sample_ratio=ratio, trace_content=content, experiment_name="rfq_traces"
    )
    tracer = Tracer(settings)
    tracer.start()
    answer = {"input": MESSAGE, "output": {"side": "sell"}}
    with tracer.request("POST /extract") as root, tracer.message(root, answer) as attributes:
        attributes["gen_ai.usage.input_tokens"] = 12
    mlflow.flush_trace_async_logging()
    experiment = mlflow.get_experiment_by_name("rfq_traces")
    assert experiment is not None
    return list(mlflow.search_traces(locations=[experiment.experiment_id], return_type="list"))


def test_a_sampled_request_is_a_root_span_with_a_span_per_message(store: StoreConfig) -> None:
    (trace,) = traces_of(store, ratio=1.0, content=False)
    spans = {span.name: span for span in trace.data.spans}
    assert set(spans) == {"POST /extract", "extract_message"}
    message = spans["extract_message"]
    assert message.parent_id == spans["POST /extract"].span_id
    assert message.attributes["gen_ai.usage.input_tokens"] == 12
    assert MESSAGE not in trace.to_json()  # no content unless asked for


def test_content_tracing_keeps_the_message_and_the_answer(store: StoreConfig) -> None:
    (trace,) = traces_of(store, ratio=1.0, content=True)
    message = next(span for span in trace.data.spans if span.name == "extract_message")
    assert message.inputs == MESSAGE
    assert message.outputs == {"side": "sell"}


def test_an_unsampled_request_writes_nothing(store: StoreConfig) -> None:
    connect(store)  # no experiment: an unsampled service never makes one
    tracer = Tracer(SimpleNamespace(trace_sample_ratio=0.0, trace_content=True,
                                    experiment_name="rfq_traces"))  # fmt: skip
    tracer.start()
    with tracer.request("POST /extract") as root:
        assert root is None
        with tracer.message(root, {"input": MESSAGE}) as attributes:
            assert attributes == {"input": MESSAGE}
    assert mlflow.get_experiment_by_name("rfq_traces") is None  # not even made


def test_a_configured_collector_is_spoken_to_in_otlp_http_and_mlflow_keeps_its_copy(
    store: StoreConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    """MLflow exports over gRPC by default and drops its own copy once a collector is set;
    the service installs the HTTP exporter and keeps both (the project's service test
    sends spans to a collector stand-in)."""
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:9")
    for name in ("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "MLFLOW_TRACE_ENABLE_OTLP_DUAL_EXPORT"):
        monkeypatch.delenv(name, raising=False)
    connect_traces(store)
    Tracer(SimpleNamespace(trace_sample_ratio=1.0, trace_content=False,
                           experiment_name="rfq_traces")).start()  # fmt: skip
    assert os.environ["OTEL_EXPORTER_OTLP_TRACES_PROTOCOL"] == "http/protobuf"
    assert os.environ["MLFLOW_TRACE_ENABLE_OTLP_DUAL_EXPORT"] == "true"


def test_a_sqlite_store_is_written_by_one_export_thread(
    store: StoreConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SQLite serialises writers: more export threads only hold the GIL while they wait for
    its lock. A value the operator set is kept."""
    settings = SimpleNamespace(
        trace_sample_ratio=1.0, trace_content=False, experiment_name="rfq_traces"
    )
    connect_traces(store)
    monkeypatch.delenv("MLFLOW_ASYNC_TRACE_LOGGING_MAX_WORKERS", raising=False)
    assert mlflow.get_tracking_uri().startswith("sqlite:")
    Tracer(settings).start()
    assert os.environ["MLFLOW_ASYNC_TRACE_LOGGING_MAX_WORKERS"] == "1"
    monkeypatch.setenv("MLFLOW_ASYNC_TRACE_LOGGING_MAX_WORKERS", "4")
    Tracer(settings).start()
    assert os.environ["MLFLOW_ASYNC_TRACE_LOGGING_MAX_WORKERS"] == "4"


def test_a_traced_llm_call_never_fetches_a_price_catalog_from_a_third_party(
    store: StoreConfig, monkeypatch: pytest.MonkeyPatch
) -> None:
    """MLflow prices an LLM span from a catalog it downloads from github.com; the service
    counts its own cost, and a bank's service calls no third party per trace. The download
    is the boundary, recorded here instead of made."""
    import mlflow.utils.providers as catalog

    fetched: list[str] = []
    monkeypatch.delenv("MLFLOW_MODEL_CATALOG_URI", raising=False)
    monkeypatch.setattr(catalog, "_remote_cache", None)
    monkeypatch.setattr(catalog, "_fetch_http_provider", lambda p, url: fetched.append(url))
    connect_traces(store)
    settings = SimpleNamespace(
        trace_sample_ratio=1.0, trace_content=False, experiment_name="rfq_traces"
    )
    tracer = Tracer(settings)
    tracer.start()
    usage = {"gen_ai.request.model": "gpt-4o", "gen_ai.provider.name": "openai",
             "gen_ai.response.model": "gpt-4o", "gen_ai.usage.input_tokens": 12,
             "gen_ai.usage.output_tokens": 30}  # fmt: skip
    with tracer.request("POST /extract") as root, tracer.message(root, usage):
        pass
    mlflow.flush_trace_async_logging()
    assert fetched == []
    assert os.environ["MLFLOW_MODEL_CATALOG_URI"] == ""
