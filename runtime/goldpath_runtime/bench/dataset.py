"""`make bench-dataset`: the training table built from generated raw tables of 1M and 10M
RFQs (with their clients, market data and trades), on pandas and, where PySpark is
installed, on Spark in local mode. Against a baseline measured in the same run: a plain
join of the same tables on the same keys (each RFQ to its client's and instrument's
latest row), which is what the build costs without the point-in-time logic.

Each measurement runs in a process of its own, reading the raw tables from Parquet;
peak memory is the whole process tree's resident set (Spark's JVM included), sampled
every 0.1 s. Reported: seconds, rows/s, peak MiB and the point-in-time cost ratio.

A project's `benchmarks/dataset.py` hands over its dataset parts' module:
`main("<package>.dataset", root)`.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from .servers import process_tree, rss_mib

VARIANTS = ("plain join", "point in time")


def _plain_pandas(definition: Any, frames: dict[str, Any]) -> Any:
    base = frames[definition.base]
    out = base[[definition.row_id, definition.time, *definition.carried]]
    for feature in definition.features:
        latest = frames[feature.table].groupby(feature.key, sort=False)[feature.column].last()
        out = out.join(base[[feature.key]].join(latest.rename(feature.name), on=feature.key)[
            [feature.name]])  # fmt: skip
    return out


def _plain_spark(definition: Any, frames: dict[str, Any]) -> Any:
    from pyspark.sql import functions as F

    base = frames[definition.base]
    out = base.select(definition.row_id, definition.time, *definition.carried, *{
        f.key for f in definition.features})  # fmt: skip
    for feature in definition.features:
        latest = (
            frames[feature.table]
            .groupBy(feature.key)
            .agg(F.max(feature.column).alias(feature.name))
        )
        out = out.join(latest, feature.key, "left")
    return out


def child(engine: str, variant: str, raw: Path, module: str) -> dict[str, float]:
    """One measurement (run in its own process): seconds and rows of one build."""
    parts = importlib.import_module(module).parts()
    definition = parts.definition
    names = sorted({definition.base, definition.label.table,
                    *(f.table for f in definition.features)})  # fmt: skip
    if engine == "pandas":
        import pandas as pd

        from ..tabular.pointintime import build_pandas

        frames = {name: pd.read_parquet(raw / f"{name}.parquet") for name in names}
        started = time.perf_counter()
        build = build_pandas if variant == "point in time" else _plain_pandas
        table = build(definition, frames)
        rows = len(table)
    else:
        from pyspark.sql import SparkSession

        from ..tabular.pointintime_spark import build_spark

        spark = (SparkSession.builder.master("local[*]").appName("bench-dataset")
                 .config("spark.ui.enabled", "false").config("spark.driver.memory", "8g")
                 .config("spark.ui.showConsoleProgress", "false")
                 .config("spark.sql.session.timeZone", "UTC").getOrCreate())  # fmt: skip
        tables = {name: spark.read.parquet(str(raw / f"{name}.parquet")) for name in names}
        started = time.perf_counter()
        build_on_spark = build_spark if variant == "point in time" else _plain_spark
        # Written, as the job writes it: every row computed, none kept in memory.
        build_on_spark(definition, tables).write.mode("overwrite").format("noop").save()
        seconds = time.perf_counter() - started
        rows = tables[definition.base].count()
        spark.stop()
        return {"seconds": seconds, "rows": float(rows)}
    return {"seconds": time.perf_counter() - started, "rows": float(rows)}


def measure(engine: str, variant: str, raw: Path, module: str) -> dict[str, float]:
    command = [sys.executable, "-m", "goldpath_runtime.bench.dataset", "--child", engine,
               variant, str(raw), module]  # fmt: skip
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    peak = 0.0

    def sample() -> None:
        nonlocal peak
        while process.poll() is None:
            peak = max(peak, rss_mib(process_tree(process.pid)))
            time.sleep(0.1)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    out, _ = process.communicate()
    sampler.join()
    if process.returncode != 0:
        sys.exit(f"the {engine} {variant} build failed (exit {process.returncode})")
    result: dict[str, float] = json.loads(out.strip().splitlines()[-1])
    result["peak_mib"] = peak
    return result


def main(module: str, root: Path) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rfqs", type=int, nargs="+", default=[1_000_000, 10_000_000])
    parser.add_argument("--engines", nargs="+", default=["pandas", "spark"])
    args = parser.parse_args()
    engines = list(args.engines)
    if "spark" in engines:
        try:
            import pyspark  # noqa: F401
        except ImportError:
            print("PySpark is not installed here (projects with a bundle have it): pandas only")
            engines.remove("spark")
    parts = importlib.import_module(module).parts()
    work = Path(tempfile.mkdtemp(prefix="bench-dataset-"))
    results: dict[str, dict[str, float]] = {}
    for rfqs in args.rfqs:
        raw = work / f"raw-{rfqs}"
        raw.mkdir()
        started = time.perf_counter()
        for name, frame in parts.generate(rfqs, 7).items():
            # Microseconds: the timestamp unit Spark reads (pandas writes nanoseconds).
            frame.to_parquet(raw / f"{name}.parquet", index=False, coerce_timestamps="us")
        print(f"{rfqs:,} RFQs generated in {time.perf_counter() - started:.0f} s", flush=True)
        for engine in engines:
            for variant in VARIANTS:
                result = measure(engine, variant, raw, module)
                result["rps"] = result["rows"] / result["seconds"]
                results[f"{engine}, {rfqs:,} RFQs, {variant}"] = result
                print(f"  {engine} {variant}: {result['seconds']:.1f} s, "
                      f"{result['peak_mib']:.0f} MiB peak", flush=True)  # fmt: skip
    print(f"\n{'build':<44} {'rows/s':>12} {'seconds':>9} {'peak MiB':>9}")
    for name, r in results.items():
        print(f"{name:<44} {r['rps']:>12,.0f} {r['seconds']:>9.1f} {r['peak_mib']:>9,.0f}")
    print()
    for rfqs in args.rfqs:
        for engine in engines:
            plain = results[f"{engine}, {rfqs:,} RFQs, plain join"]
            pit = results[f"{engine}, {rfqs:,} RFQs, point in time"]
            time_ratio = pit["seconds"] / plain["seconds"]
            memory_ratio = pit["peak_mib"] / plain["peak_mib"]
            print(
                f"{engine}, {rfqs:,} RFQs: point in time costs {time_ratio:.1f}x the plain "
                f"join's time and {memory_ratio:.1f}x its peak memory"
            )


if __name__ == "__main__":
    if len(sys.argv) == 6 and sys.argv[1] == "--child":
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
        print(json.dumps(child(sys.argv[2], sys.argv[3], Path(sys.argv[4]), sys.argv[5])))
    else:
        sys.exit("usage: a project's benchmarks/dataset.py runs main(); --child is internal")
