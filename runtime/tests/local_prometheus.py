"""A real Prometheus (Debian's `prometheus`, which .ci/run installs) on this machine,
scraping the given targets every second, for the tests that analyse live metrics."""

from __future__ import annotations

import shutil
import subprocess
import time
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import yaml
from local_ports import free_port


@contextmanager
def prometheus_scraping(static_configs: Sequence[dict[str, Any]], workdir: Path) -> Iterator[str]:
    """Its URL, once it answers ready; stopped when the block ends."""
    binary = shutil.which("prometheus")
    assert binary, "install Debian's prometheus (.ci/run does)"
    port = free_port()
    scrape = {"job_name": "services", "static_configs": list(static_configs)}
    config = {"global": {"scrape_interval": "1s"}, "scrape_configs": [scrape]}
    (workdir / "prometheus.yml").write_text(yaml.safe_dump(config))
    with (workdir / "prometheus.log").open("wb") as log:
        process = subprocess.Popen(
            [binary, f"--config.file={workdir / 'prometheus.yml'}",
             f"--storage.tsdb.path={workdir / 'data'}", f"--web.listen-address=127.0.0.1:{port}"],
            stdout=log, stderr=log,
        )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{url}/-/ready", timeout=2) as answer:  # noqa: S310
                    if answer.status == 200:
                        break
            except OSError:
                pass
            assert time.monotonic() < deadline, (workdir / "prometheus.log").read_text()[-2000:]
            time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)
