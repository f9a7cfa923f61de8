"""This repository's pytest plugins, for every test folder (tests/, runtime/tests/)."""

import os

# One OpenMP and BLAS thread per process, set before any test imports scikit-learn: the
# suite runs two workers on two cores, each training models (HistGradientBoosting runs on
# OpenMP). With a thread per core in every process, OpenMP's barriers spin while their
# threads wait for a core (scikit-learn#15078): a 5 s training took up to 620 s in CI.
# The generated projects' `make train` and `make test`, run as subprocesses, inherit it.
for _threads in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_threads, "1")

pytest_plugins = ["tests.sharding"]
