"""goldpath-runtime: what every goldpath project shares, pinned at its template release."""

import os
import sys

__version__ = "0.1.0"

# MLflow reports usage (a persistent installation id, session ids, events) to its
# maintainers' endpoint from any process that imports it outside CI: a laptop's training,
# a job, a serving pod. A bank's data and metadata do not go to a third party unasked, so
# it is off here unless the operator sets MLFLOW_DISABLE_TELEMETRY=false.
os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
if "mlflow.telemetry" in sys.modules:  # imported before us: stop the client it started
    sys.modules["mlflow.telemetry"].set_telemetry_client()
