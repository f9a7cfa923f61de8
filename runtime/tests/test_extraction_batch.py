"""Batch extraction (pandas): every message of a file through the @champion prompt, in
order, stamped with the prompt version; a bounded number of calls in flight; provider
failures and bad rows recorded per row while the run goes on; the cost guard stops calls,
never the run, and a rerun pays only for what is left; bad files get one line."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

import pandas as pd
import pytest
from trade_project import TEMPLATE as ROOT
from trade_project import Settings, extract_frame, main

from goldpath_runtime.errors import ProjectError
from goldpath_runtime.llm import batch
from goldpath_runtime.llm.batch import budget_failures, output_columns, read_messages
from goldpath_runtime.llm.budget import BUDGET_REACHED
from goldpath_runtime.llm.fake_provider import FakeProvider
from goldpath_runtime.llm.output import ExtractionOutput
from goldpath_runtime.llm.prompts import Prompt, load_serving_prompt

MESSAGES = ROOT / "examples" / "messages.jsonl"
AT = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


def test_every_message_is_extracted_in_order_with_the_champion(
    served_settings: Settings, fake: FakeProvider
) -> None:
    messages = read_messages(MESSAGES)
    prompt = load_serving_prompt(served_settings)
    out = extract_frame(messages, served_settings, prompt, extracted_at=AT)
    assert list(out["message_id"]) == list(messages["message_id"])
    assert out["error"].isna().all(), out[out["error"].notna()]
    assert set(out["prompt_version"]) == {prompt.version}
    assert set(out["prompt_name"]) == {prompt.name}
    assert (out["extracted_at"] == pd.Timestamp(AT)).all()
    first = out.iloc[0]
    assert (first["side"], first["instrument"], first["currency"]) == ("sell", "IRS", "EUR")
    assert out.tail(2)["refused"].all()  # the file ends with two injection attempts
    assert (out["tokens_in"] > 0).sum() >= len(out) - 2  # screened injections cost nothing
    # Personal data is redacted before the provider sees it, and no message text is output.
    assert not any("@" in text for text in fake.received)
    assert "message" not in out.columns


def test_calls_in_flight_stay_within_the_bound(
    served_settings: Settings, fake: FakeProvider
) -> None:
    fake.latency_s = 0.05
    bounded = served_settings.model_copy(update={"batch_concurrency": 3})
    out = extract_frame(
        read_messages(MESSAGES), bounded, load_serving_prompt(bounded), extracted_at=AT
    )
    assert out["error"].isna().all()
    assert fake.peak_in_flight == 3


def test_a_provider_failure_is_recorded_on_its_message_and_the_rest_go_on(
    served_settings: Settings, fake: FakeProvider
) -> None:
    fake.fail_next, fake.fail_status = 2, 400  # rejected: not retried
    serial = served_settings.model_copy(update={"batch_concurrency": 1})
    out = extract_frame(
        read_messages(MESSAGES), serial, load_serving_prompt(serial), extracted_at=AT
    )
    failed = out[out["error"].notna()]
    assert list(failed["message_id"]) == ["msg-0001", "msg-0002"]
    assert failed["error"].str.startswith("rejected:").all()
    assert failed["side"].isna().all()
    assert out["error"].isna().sum() == len(out) - 2


def test_the_cost_guard_stops_calls_and_keeps_every_row(
    served_settings: Settings, fake: FakeProvider
) -> None:
    tight = served_settings.model_copy(update={"token_budget": 5_000, "batch_concurrency": 2})
    out = extract_frame(read_messages(MESSAGES), tight, load_serving_prompt(tight), extracted_at=AT)
    assert 0 < fake.tokens_billed <= 5_000
    assert len(out) == 24
    stopped = out["error"].fillna("").str.startswith(BUDGET_REACHED)
    assert 0 < stopped.sum() < len(out)
    assert out.loc[~stopped, "error"].isna().all()  # every paid call's answer is kept
    assert budget_failures(out) == stopped.sum()


def test_bad_rows_get_their_error_and_the_run_goes_on(
    served_settings: Settings, fake: FakeProvider
) -> None:
    """The issue's case: one 600,000-character row used to stop the whole run after ten
    paid calls, with no output."""
    huge = "bid 25mm EUR 5y IRS " * 30_000
    frame = pd.DataFrame(
        {
            "message_id": ["1", "2", "3", "4", "1", "5"],
            "message": ["bid 25mm EUR 5y IRS", huge, "   ", 42, "offer 10mm USD 7y", None],
        }
    )
    calls = fake.calls
    out = extract_frame(frame, served_settings, load_serving_prompt(served_settings),
                        extracted_at=AT)  # fmt: skip
    errors = dict(zip(range(len(out)), out["error"].fillna(""), strict=True))
    assert errors[0] == ""
    assert out.loc[0, "side"] == "sell"
    assert "more than MAX_MESSAGE_CHARS" in errors[1]
    assert errors[2] == "empty message"
    assert errors[3] == "not text (a int)"
    assert errors[4] == "duplicate message_id (extracted once, at row 0)"
    assert errors[5] == "empty message"
    assert fake.calls - calls == 1  # only the one good message was sent


def test_a_rerun_pays_only_for_what_is_left(
    served_settings: Settings,
    fake: FakeProvider,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A budget too small for the file: the command writes every row, fails in one line,
    and keeps what it extracted; the rerun with a larger budget calls only for the rest."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", served_settings.mlflow_tracking_uri)
    monkeypatch.setenv("TOKEN_BUDGET", "5000")
    # The suite's fake provider, reached as any OpenAI-compatible endpoint: its calls count.
    monkeypatch.setenv("PROVIDER", "openai")
    monkeypatch.setenv("PROVIDER_URL", served_settings.provider_url)
    output = tmp_path / "extracted.parquet"
    command = ["extract-batch", "--input", str(MESSAGES), "--output", str(output)]
    assert main(command) == 1
    assert "not extracted: token budget reached" in capsys.readouterr().err
    first = pd.read_parquet(output)
    extracted = int(first["error"].isna().sum())
    assert 0 < extracted < 24
    calls = fake.calls
    monkeypatch.setenv("TOKEN_BUDGET", "1000000")
    assert main(command) == 0
    assert f"({extracted} kept from the last run, not paid again)" in capsys.readouterr().out
    assert fake.calls - calls == 24 - extracted
    assert pd.read_parquet(output)["error"].isna().all()
    assert not list(tmp_path.glob("*.checkpoint.jsonl"))


@pytest.mark.parametrize(
    ("name", "content", "problem"),
    [
        ("empty.csv", b"", "is empty"),
        ("binary.parquet", b"\x00\x01\x02PAR1garbage", "not a readable messages file"),
        ("columns.csv", b"id,text\n1,bid 10mm\n", "lacks column(s) ['message_id', 'message']"),
        ("twice.csv", b"message_id,message,message\n1,a,b\n", "duplicated column(s) ['message']"),
        ("notes.txt", b"bid 10mm", "use a .csv, .parquet or .jsonl file"),
        ("bad.jsonl", b'{"message_id": 1, "message": "x"}\n{not json\n', "not a readable"),
    ],
    ids=lambda value: value if isinstance(value, str) and "." in value[-8:] else "",
)
def test_a_bad_messages_file_gets_one_line(
    tmp_path: Path, name: str, content: bytes, problem: str
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(ProjectError, match=re.escape(problem)):
        read_messages(path)


def test_duplicated_columns_of_a_frame_are_named() -> None:
    frame = pd.DataFrame([["1", "a", "b"]], columns=["message_id", "message", "message"])
    prompt = Prompt("extract_trade", "1", "Answer with one JSON object.")
    with pytest.raises(ProjectError, match=r"duplicated column\(s\) \['message'\]"):
        extract_frame(frame, Settings(), prompt, extracted_at=AT)


def test_the_command_writes_parquet_and_a_missing_input_is_an_error(
    served_settings: Settings,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", served_settings.mlflow_tracking_uri)
    output = tmp_path / "out" / "extracted.parquet"
    assert main(["extract-batch", "--input", str(MESSAGES), "--output", str(output)]) == 0
    written = pd.read_parquet(output)
    assert len(written) == len(read_messages(MESSAGES))
    assert not list(output.parent.glob("*.partial"))
    assert "0 failed" in capsys.readouterr().out

    missing = tmp_path / "typo.jsonl"
    assert main(["extract-batch", "--input", str(missing), "--output", str(output)]) == 1
    err = capsys.readouterr().err
    assert f"error: no messages file at {missing}" in err
    assert not missing.exists()  # nothing is generated in its place


class Counted(ExtractionOutput):
    quantity: int | None = None
    unit: Literal["lots", "shares"] | None = None


class Nested(ExtractionOutput):
    legs: dict[str, float] | None = None


def test_the_output_table_follows_the_project_schema() -> None:
    """A project's own schema decides the table: its fields first, with Spark types (an
    integer nullable, as a failed row has none); a field no table column can hold is named."""
    columns = dict(output_columns(Counted))
    assert list(columns)[:3] == ["message_id", "quantity", "unit"]
    kinds = (columns["quantity"], columns["unit"], columns["refused"])
    assert kinds == ("bigint", "string", "boolean")
    with pytest.raises(ProjectError, match="output schema field 'legs'"):
        output_columns(Nested)


def test_a_failed_row_leaves_an_integer_field_null() -> None:
    frame = pd.DataFrame({"message_id": ["a"], "message": [""]})
    rows = batch.extract_frame(frame, Settings(), Prompt("p", "1", "x"), Counted, extracted_at=AT)
    assert rows["quantity"].isna().all()
    assert str(rows["quantity"].dtype) == "Int64"
