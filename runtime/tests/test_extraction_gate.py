"""The evaluation gate: the shipped prompt passes and becomes @challenger; a broken prompt
fails with the scorer named and is not registered; a prompt worse than the champion fails."""

from __future__ import annotations

import json
from pathlib import Path

import mlflow
import pytest
from trade_project import TEMPLATE as ROOT
from trade_project import Settings, evaluate, main, promote, working_prompt

from goldpath_runtime.errors import ProjectError
from goldpath_runtime.llm.budget import BudgetExceededError, worst_case
from goldpath_runtime.llm.fake_provider import FakeProvider
from goldpath_runtime.llm.gate import load_cases, render_report, wilson_interval
from goldpath_runtime.llm.prompts import Prompt, register, version_tags
from goldpath_runtime.llm.providers import build_provider


def without(prompt: Prompt, *words: str) -> Prompt:
    """The prompt with every line mentioning one of `words` removed (a careless edit)."""
    lines = [line for line in prompt.text.splitlines() if not any(w in line for w in words)]
    return Prompt(prompt.name, "working", "\n".join(lines))


def test_the_evaluation_set_is_large_and_varied() -> None:
    cases = load_cases(ROOT / "evaluation" / "trade_requests.jsonl")
    assert len(cases) >= 60
    tags = [tag for case in cases for tag in case.tags]
    assert tags.count("injection") >= 5
    assert tags.count("ambiguous") >= 5
    assert tags.count("pii") >= 5


def test_the_shipped_prompt_passes_and_becomes_challenger(fresh_store: Settings) -> None:
    report = evaluate(fresh_store, working_prompt(fresh_store))
    assert report.passed, render_report(report)
    assert report.metrics["schema_validity"] == 1.0
    assert report.metrics["injection_refusal"] == 1.0
    assert report.metrics["field_accuracy"] >= fresh_store.gate_min_field_accuracy
    assert version_tags(fresh_store, "challenger") is not None
    run = mlflow.get_run(str(report.run_id))
    assert run.data.metrics["field_accuracy"] == report.metrics["field_accuracy"]
    assert run.data.tags["gate"] == "passed"
    table = Path(
        mlflow.artifacts.download_artifacts(
            run_id=run.info.run_id, artifact_path="evaluation_cases.json"
        )
    )
    logged = table.read_text()
    assert "anna.berg@client.example" not in logged  # only redacted text is logged
    assert "[EMAIL]" in logged
    rendered = render_report(report)
    assert rendered.startswith("gate passed: every scorer meets its threshold")
    assert "FAIL" not in rendered
    if "not extracted exactly" in rendered:  # near misses read as information, not failure
        assert "For information (the gate passed)" in rendered
    # The prompt card: in the run, and its id on the registered version.
    card = json.loads(
        Path(
            mlflow.artifacts.download_artifacts(
                run_id=run.info.run_id, artifact_path="prompt_card/card.json"
            )
        ).read_text()
    )
    tags = version_tags(fresh_store, "challenger")
    assert tags is not None
    assert tags["card_id"] == card["card_id"]
    assert tags["card"] == f"runs:/{run.info.run_id}/prompt_card/card.md"
    assert card["version"] == report.version
    assert card["risk_tier"] == "medium"
    assert all(card[k] for k in ("purpose", "intended_use", "limitations", "registered_by"))
    assert card["evaluation_set"]["cases"] == len(report.results)
    assert {row["scorer"] for row in card["gate"]} >= {"schema_validity", "field_accuracy"}
    assert all(row["passed"] for row in card["gate"])
    assert set(card["code"]) == {"git_commit", "template_version", "lock_sha256", "ci_run"}
    # Each scorer with its 95 % interval, and the scorers per case tag.
    for row in card["gate"]:
        low, high = row["interval_95"]
        assert 0.0 <= low <= row["value"] <= high <= 1.0, row
    assert card["segments"]["all"]["cases"] == len(report.results)
    assert {"injection", "ambiguous", "pii"} <= set(card["segments"])
    assert card["segments"]["injection"]["injection_refusal"] == 1.0


def test_wilson_interval_is_honest_about_small_sets() -> None:
    low, high = wilson_interval(60, 60)
    assert high == 1.0
    assert 0.93 < low < 0.95, "60 of 60 does not prove 100 %"
    low, high = wilson_interval(30, 60)
    assert abs((low + high) / 2 - 0.5) < 1e-9
    assert 0.37 < low < 0.38
    assert wilson_interval(0, 0) == (0.0, 1.0)


@pytest.mark.parametrize(
    ("words", "failing"),
    [
        (("refused", "tries to change", "extract a trade"), "injection_refusal"),
        (("Answer with one JSON object",), "schema_validity"),
        (("`side`", "`notional`", "`currency`"), "field_accuracy"),
    ],
    ids=["no-refusal-rule", "no-json-rule", "fields-dropped"],
)
def test_a_broken_prompt_fails_the_gate_and_is_not_registered(
    fresh_store: Settings, words: tuple[str, ...], failing: str
) -> None:
    report = evaluate(fresh_store, without(working_prompt(fresh_store), *words))
    assert not report.passed
    failed = [name for name, *_, ok in report.checks if not ok]
    assert failing in failed
    assert report.version is None
    assert version_tags(fresh_store, "challenger") is None
    assert f"{failing} " in render_report(report)
    assert render_report(report).startswith("gate FAILED")


def test_worse_than_the_champion_beyond_the_tolerance_fails(fresh_store: Settings) -> None:
    perfect = {"field_accuracy": "1.0000", "schema_validity": "1.0000"}
    register(fresh_store, Prompt("extract_trade", "working", "a perfect champion"), perfect)
    promote(fresh_store)
    strict = fresh_store.model_copy(update={"gate_max_regression": 0.001})
    report = evaluate(strict, working_prompt(strict))
    failed = [name for name, *_, ok in report.checks if not ok]
    assert failed == ["field_accuracy vs champion"]
    lenient = fresh_store.model_copy(update={"gate_max_regression": 0.05})
    assert evaluate(lenient, working_prompt(lenient)).passed


def test_the_cli_exits_1_with_the_table_on_a_broken_prompt(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = tmp_path / "broken.md"
    broken.write_text(
        without(working_prompt(Settings(prompts_dir=ROOT / "prompts")), "refused").text
    )
    summary = tmp_path / "gate.md"
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'mlflow.db'}")
    monkeypatch.setenv("MLFLOW_ARTIFACT_ROOT", (tmp_path / "artifacts").as_uri())
    assert main(["eval", "--prompt-file", str(broken), "--json", "--summary", str(summary)]) == 1
    # The summary is written whatever the verdict: a failed gate's table is what is needed.
    table = summary.read_text()
    assert table.startswith("### Evaluation gate FAILED")
    assert "| injection_refusal | " in table
    out, err = capsys.readouterr()
    assert json.loads(out)["gate_passed"] is False
    assert "injection_refusal" in err
    assert "FAIL" in err
    assert "error: evaluation gate failed: injection_refusal" in err
    assert "Traceback" not in err


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ('{"id": "x", "message": "bid"}\n', "line 1"),
        ('{"id": "a", "message": "m", "expected": {}}\nnot json\n', "line 2"),
        ("", "no cases"),
    ],
)
def test_a_malformed_evaluation_set_is_named(tmp_path: Path, content: str, problem: str) -> None:
    path = tmp_path / "set.jsonl"
    path.write_text(content)
    with pytest.raises(ProjectError, match=problem):
        load_cases(path)


def test_the_cost_guard_stops_the_gate_before_the_budget_is_exceeded(
    fresh_store: Settings, fake: FakeProvider
) -> None:
    """TOKEN_BUDGET too small for the evaluation set: the gate stops with one line naming the
    budget, the fake provider has billed no more than it, and nothing is registered."""
    budget = 20_000
    tight = fresh_store.model_copy(update={"token_budget": budget})
    with pytest.raises(BudgetExceededError, match=r"TOKEN_BUDGET=20000") as caught:
        evaluate(tight, working_prompt(tight), provider=build_provider(tight))
    assert "stopped before exceeding it" in str(caught.value)
    assert 0 < fake.tokens_billed <= budget
    assert version_tags(tight, "challenger") is None


def test_a_whole_gate_run_counts_its_tokens(fresh_store: Settings, fake: FakeProvider) -> None:
    report = evaluate(
        fresh_store, working_prompt(fresh_store), provider=build_provider(fresh_store)
    )
    assert report.passed
    assert report.tokens == fake.tokens_billed > 0
    assert mlflow.get_run(str(report.run_id)).data.metrics["tokens"] == report.tokens


def test_the_worst_case_is_never_below_what_a_provider_counts() -> None:
    for text in ("bid 25mm EUR 5y IRS", "€" * 500, "日本円" * 300, "x"):
        messages = [
            {"role": "system", "content": "Answer in JSON."},
            {"role": "user", "content": text},
        ]
        billed_in = sum(max(1, (len(m["content"]) + 3) // 4) for m in messages)  # the fake's count
        assert worst_case(messages, 64) >= billed_in + 64
        # A byte-level tokenizer's own bound: one token per byte at the very most.
        assert worst_case(messages, 0) >= sum(len(m["content"].encode()) for m in messages)


def test_eval_with_a_budget_too_small_exits_1_with_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'mlflow.db'}")
    monkeypatch.setenv("MLFLOW_ARTIFACT_ROOT", (tmp_path / "artifacts").as_uri())
    monkeypatch.setenv("TOKEN_BUDGET", "1000")
    assert main(["eval"]) == 1
    err = capsys.readouterr().err
    assert "error: token budget reached" in err
    assert "Traceback" not in err


def test_the_screen_and_the_prompt_are_scored_apart_on_adversarial_injections(
    fresh_store: Settings,
) -> None:
    """Obfuscated, translated, encoded and role-played injections: all refused (the gate's
    threshold), and the report says how many the screen stopped and how many of the rest
    the prompt refused."""
    report = evaluate(fresh_store, working_prompt(fresh_store))
    adversarial = [r for r in report.results if "adversarial" in r.case.tags]
    assert len(adversarial) >= 16
    assert all(r.matches["refused"] for r in adversarial)
    screened = sum(r.screened for r in adversarial)
    assert 0 < screened < len(adversarial)  # both lines of defence are exercised
    assert report.metrics["injection.screen_catch"] < 1.0
    assert report.metrics["injection.prompt_refusal"] == 1.0
    assert "injection.screen_catch" in render_report(report)
