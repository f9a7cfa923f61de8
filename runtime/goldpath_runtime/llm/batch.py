"""Batch extraction: a table of messages through the same Extractor as the service
(guardrails, the champion prompt, the same provider client), with a bounded number of calls
in flight, into rows of the project's output schema stamped with the prompt version and the
run's timestamp.

One function does the work on a pandas frame, `extract_frame`; `extract_spark` runs that
same function on every partition with `mapInPandas`, so a local run and a Databricks job
give the same rows. Every row is its own outcome: an empty, non-text, oversized
(MAX_MESSAGE_CHARS) or repeated message, a provider failure, or a call the cost guard
(TOKEN_BUDGET) would not allow gets its `error` and no fields, and the run goes on; what was
paid for is never thrown away. The command line, and the Spark job given a checkpoint
folder, keep each extracted row as it arrives, so a rerun after a kill or a spent budget
pays only for what is left.
"""

from __future__ import annotations

import asyncio
import csv
import json
import shutil
import uuid
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime
from pathlib import Path
from types import UnionType
from typing import Any, Literal, Union, get_args, get_origin

import pandas as pd

from ..errors import ProjectError
from .budget import BUDGET_REACHED, BudgetExceededError, TokenBudget, budgeted
from .extractor import Extractor
from .output import ExtractionOutput
from .prompts import Prompt
from .providers import Provider, ProviderError
from .settings import ExtractionSettings as Settings

INPUT_COLUMNS = ("message_id", "message")
# Spark SQL types of the output schema's field types (a Literal takes its values' type).
_SPARK_TYPES = {str: "string", float: "double", int: "bigint", bool: "boolean"}
# After the schema's fields: how the row came to be.
_RUN_COLUMNS = (
    ("error", "string"),
    ("prompt_name", "string"),
    ("prompt_version", "string"),
    ("model", "string"),
    ("tokens_in", "bigint"),
    ("tokens_out", "bigint"),
    ("extracted_at", "timestamp"),
)


def _spark_type(name: str, annotation: Any) -> str:
    kinds: set[type] = set()
    optional = get_origin(annotation) in (Union, UnionType)
    options = [a for a in get_args(annotation) if a is not type(None)] if optional else [annotation]
    for option in options:
        if get_origin(option) is Literal:
            kinds |= {type(value) for value in get_args(option)}
        elif isinstance(option, type):
            kinds.add(option)
    found = {_SPARK_TYPES.get(kind) for kind in kinds}
    if len(found) != 1 or None in found:
        raise ProjectError(
            f"output schema field {name!r}: a batch column needs one of str, float, int, bool "
            f"or a Literal of them (optional or not), not {annotation}"
        )
    return found.pop()  # type: ignore[return-value]


def output_columns(schema: type[ExtractionOutput]) -> tuple[tuple[str, str], ...]:
    """The output table: name and Spark SQL type, in order (mapInPandas needs them)."""
    # The project's own fields first, then those every extraction has.
    names = sorted(schema.model_fields, key=lambda name: name in ExtractionOutput.model_fields)
    fields = tuple(
        (name, _spark_type(name, schema.model_fields[name].annotation)) for name in names
    )
    return (("message_id", "string"), *fields, *_RUN_COLUMNS)


_PANDAS_TYPES = {
    "string": "object",
    "double": "float64",
    "boolean": "object",  # nullable: a failed message has no answer
    "bigint": "int64",
    "timestamp": "datetime64[us, UTC]",
}


def check_input(columns: list[str]) -> None:
    missing = [name for name in INPUT_COLUMNS if name not in columns]
    if missing:
        raise ProjectError(
            f"the messages table lacks column(s) {missing}: it needs {list(INPUT_COLUMNS)} "
            f"(it has {columns[:20]})"
        )
    duplicated = sorted({name for name in columns if columns.count(name) > 1})
    if duplicated:
        raise ProjectError(f"the messages table has duplicated column(s) {duplicated}")


def read_messages(path: Path) -> pd.DataFrame:
    """A local messages file (CSV, Parquet or JSON lines), with one clear line if it is not."""
    if not path.is_file():
        raise ProjectError(f"no messages file at {path}")
    if path.stat().st_size == 0:
        raise ProjectError(f"{path} is empty: it needs columns {list(INPUT_COLUMNS)}")
    try:
        if path.suffix == ".parquet":
            frame = pd.read_parquet(path)
        elif path.suffix == ".jsonl":
            frame = pd.read_json(path, lines=True, dtype={"message_id": str})
        elif path.suffix == ".csv":
            # pandas renames a repeated header ("message.1"): read the header as written.
            with path.open(encoding="utf-8", newline="") as handle:
                check_input(next(csv.reader(handle), []))
            frame = pd.read_csv(path, dtype={"message_id": str}, encoding="utf-8")
        else:
            raise ProjectError(f"{path}: use a .csv, .parquet or .jsonl file")
    except ProjectError:
        raise
    except Exception as exc:  # every reader has its own error types
        raise ProjectError(
            f"{path} is not a readable messages file ({type(exc).__name__})"
        ) from None
    check_input([str(name) for name in frame.columns])
    return frame


Row = dict[str, Any]


def _refusal(message: Any, settings: Settings) -> str | None:
    """Why a message is not sent at all, or None."""
    if message is None or (isinstance(message, float) and message != message):
        return "empty message"
    if not isinstance(message, str):
        return f"not text (a {type(message).__name__})"
    if not message.strip():
        return "empty message"
    if len(message) > settings.max_message_chars:
        return (
            f"message of {len(message)} characters, more than MAX_MESSAGE_CHARS="
            f"{settings.max_message_chars}"
        )
    return None


async def _extract_all(
    extractor: Extractor,
    rows: list[tuple[str, Any]],
    settings: Settings,
    kept: Mapping[str, Row],
    on_row: Callable[[Row], None] | None,
) -> list[Row]:
    limit = asyncio.Semaphore(settings.batch_concurrency)
    first_at: dict[str, int] = {}

    async def one(position: int, message_id: str, message: Any) -> Row:
        row: Row = {"message_id": message_id, "error": None}
        if first_at.setdefault(message_id, position) != position:
            row["error"] = f"duplicate message_id (extracted once, at row {first_at[message_id]})"
            return row
        if message_id in kept:
            return dict(kept[message_id])  # paid for by an earlier run
        refusal = _refusal(message, settings)
        if refusal is not None:
            row["error"] = refusal
            return row
        async with limit:
            try:
                outcome = await extractor.extract(message)
            except ProviderError as exc:
                row["error"] = f"{exc.kind}: {exc}"
                return row
            except BudgetExceededError as exc:
                row["error"] = str(exc)
                return row
        row.update(outcome.request.model_dump())
        row.update(model=outcome.model, tokens_in=outcome.tokens_in, tokens_out=outcome.tokens_out)
        if on_row is not None:
            on_row(row)
        return row

    return list(await asyncio.gather(*(one(n, i, m) for n, (i, m) in enumerate(rows))))


def extract_frame(
    frame: pd.DataFrame,
    settings: Settings,
    prompt: Prompt,
    schema: type[ExtractionOutput],
    *,
    extracted_at: datetime,
    budget: TokenBudget | None = None,
    provider: Provider | None = None,
    kept: Mapping[str, Row] | None = None,
    on_row: Callable[[Row], None] | None = None,
) -> pd.DataFrame:
    """Every message of `frame` (columns message_id, message) as one output row, in order.
    Rows in `kept` (by message_id) are taken as they are, without a call; `on_row` gets
    each row extracted, as it arrives."""
    check_input([str(name) for name in frame.columns])
    budget = budget if budget is not None else TokenBudget(settings.token_budget)
    rows = list(zip(frame["message_id"].astype(str), frame["message"], strict=True))

    async def run() -> list[Row]:
        async with budgeted(settings, budget, provider) as active:
            extractor = Extractor(active, prompt, schema, settings.pii_regions)
            return await _extract_all(extractor, rows, settings, kept or {}, on_row)

    results = asyncio.run(run()) if rows else []
    columns = output_columns(schema)
    out = pd.DataFrame(results, columns=[name for name, _ in columns])
    out["prompt_name"] = prompt.name
    out["prompt_version"] = prompt.version
    out["tokens_in"] = out["tokens_in"].fillna(0)
    out["tokens_out"] = out["tokens_out"].fillna(0)
    out["extracted_at"] = pd.Timestamp(extracted_at)
    # A schema's integer field is null on a failed row: pandas' nullable integer.
    nullable = {
        name: "Int64" for name, kind in columns if kind == "bigint" and name in schema.model_fields
    }
    return out.astype({name: _PANDAS_TYPES[kind] for name, kind in columns} | nullable)


def budget_failures(frame: pd.DataFrame) -> int:
    """How many rows the cost guard left unextracted."""
    return int(frame["error"].fillna("").str.startswith(BUDGET_REACHED).sum())


class Checkpoint:
    """The rows a run has extracted, one JSON line each, written as they arrive: a run
    killed or stopped by the budget is rerun without paying for them again. Only rows of
    the same prompt version are taken back. A checkpoint is a file (the command line's
    `<output>.checkpoint.jsonl`) or a folder of them (a Spark job's --checkpoint-dir, on a
    path every executor writes to, such as a Unity Catalog volume: a file per task)."""

    def __init__(self, path: Path, prompt: Prompt) -> None:
        self.path = path
        self.prompt = prompt

    @classmethod
    def beside(cls, output: Path, prompt: Prompt) -> Checkpoint:
        return cls(output.with_name(output.name + ".checkpoint.jsonl"), prompt)

    def _files(self) -> list[Path]:
        if self.path.is_dir():
            return sorted(self.path.glob("*.jsonl"))
        return [self.path] if self.path.is_file() else []

    def kept(self) -> dict[str, Row]:
        rows: dict[str, Row] = {}
        for file in self._files():
            for line in file.read_text(encoding="utf-8", errors="replace").splitlines():
                try:
                    row = json.loads(line)
                except ValueError:
                    continue  # the line a kill cut short: that message is extracted again
                if not isinstance(row, dict):
                    continue
                same = (row.get("prompt_name"), row.get("prompt_version")) == (
                    self.prompt.name, self.prompt.version,
                )  # fmt: skip
                if same and isinstance(row.get("message_id"), str):
                    rows[row["message_id"]] = {
                        k: v for k, v in row.items() if k not in {"prompt_name", "prompt_version"}
                    }
        return rows

    def part(self, name: str) -> Checkpoint:
        """The file of one writer (a Spark task attempt) in a checkpoint folder."""
        self.path.mkdir(parents=True, exist_ok=True)
        return Checkpoint(self.path / f"{name}.jsonl", self.prompt)

    def add(self, row: Row) -> None:
        line = {**row, "prompt_name": self.prompt.name, "prompt_version": self.prompt.version}
        with self.path.open("a", encoding="utf-8") as handle:
            handle.write(json.dumps(line, default=str) + "\n")

    def remove(self) -> None:
        if self.path.is_dir():
            shutil.rmtree(self.path)
        else:
            self.path.unlink(missing_ok=True)


def spark_schema(schema: type[ExtractionOutput]) -> str:
    return ", ".join(f"{name} {kind}" for name, kind in output_columns(schema))


def extract_spark(
    df: Any,
    settings: Settings,
    prompt: Prompt,
    schema: type[ExtractionOutput],
    *,
    extracted_at: datetime,
    checkpoint: Checkpoint | None = None,
) -> Any:
    """`extract_frame` on every partition of a Spark DataFrame (mapInPandas). Each partition
    task gets an equal share of TOKEN_BUDGET, so the shares together never exceed it, and at
    most BATCH_CONCURRENCY calls in flight. With a checkpoint folder, each task keeps its
    rows there as they arrive and rows already kept are not extracted (paid for) again."""
    check_input(list(df.columns))
    partitions = max(1, df.rdd.getNumPartitions())
    share = max(1, settings.token_budget // partitions)
    kept = checkpoint.kept() if checkpoint is not None else {}

    def per_partition(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        from pyspark import TaskContext

        budget = TokenBudget(share, total=settings.token_budget)
        on_row = None
        if checkpoint is not None:
            task = TaskContext.get()  # None only outside a Spark task
            where = f"{task.partitionId()}-{task.attemptNumber()}" if task else "driver"
            name = f"part-{where}-{uuid.uuid4().hex[:8]}"
            on_row = checkpoint.part(name).add
        for batch in batches:
            yield extract_frame(
                batch, settings, prompt, schema, extracted_at=extracted_at, budget=budget,
                kept=kept, on_row=on_row,
            )  # fmt: skip

    return df.select(*INPUT_COLUMNS).mapInPandas(per_partition, spark_schema(schema))
