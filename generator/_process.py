"""Running commands in a generated project, with its own environment and clear failures."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from ._errors import GoldpathError


def project_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The caller's environment minus the variables that would pin a generated project to
    goldpath's own virtualenv instead of its own `.venv`, or to an MLflow store other than
    its own (MLflow exports the URIs a process last connected to as MLFLOW_* variables)."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"VIRTUAL_ENV", "UV_PROJECT_ENVIRONMENT"} and not k.startswith("MLFLOW_")
    }
    env.update(extra or {})
    return env


# Credentials a team's `make test` must not see when a rollout runs it (names, and the
# words that mark one): cloud logins, forge tokens, the ssh agent, git's askpass.
_CREDENTIAL_NAMES = {"SSH_AUTH_SOCK", "GIT_ASKPASS", "SSH_ASKPASS", "NETRC", "KUBECONFIG",
                     "GOOGLE_APPLICATION_CREDENTIALS", "CLOUDSDK_CONFIG",
                     "AZURE_CONFIG_DIR", "ACTIONS_ID_TOKEN_REQUEST_URL",
                     "ACTIONS_RUNTIME_URL", "SYSTEM_OIDCREQUESTURI"}  # fmt: skip
_CREDENTIAL_WORDS = ("TOKEN", "SECRET", "PASSWORD", "PASSWD", "CREDENTIAL", "API_KEY",
                     "ACCESS_KEY", "PRIVATE_KEY", "AUTH")  # fmt: skip


def untrusted_env() -> dict[str, str]:
    """`project_env()` without credentials: for running a team's own code (its `make
    test`) on the operator's machine. It still runs as the operator's user: this keeps
    tokens out of its reach, it is not a sandbox (the README says so)."""
    env = project_env()
    for name in list(env):
        upper = name.upper()
        if upper in _CREDENTIAL_NAMES or any(word in upper for word in _CREDENTIAL_WORDS):
            del env[name]
    env["GIT_TERMINAL_PROMPT"] = "0"
    return env


def guarded(*command: str) -> list[str]:
    """`command` wrapped so that its whole process tree dies with this process."""
    return [sys.executable, "-m", "generator._guard", str(os.getpid()), "--", *command]


def run_project_tests(project: Path, *, untrusted: bool = False) -> tuple[bool, str]:
    """`make test` in a generated project, its process tree tied to ours; the summary
    puts the failing tests' names first (the last lines alone are often uv's or make's).
    `untrusted`: a team's repository, run without the operator's credentials."""
    env = untrusted_env() if untrusted else project_env()
    result = execute(guarded("make", "test"), project, env=env)
    lines = (result.stdout + result.stderr).strip().splitlines()
    failing = [line for line in lines if line.startswith(("FAILED ", "ERROR "))]
    return result.returncode == 0, "\n".join([*failing[:20], *lines[-10:]])


def uv() -> str:
    found = shutil.which("uv")
    if found is None:
        raise GoldpathError("uv is not installed: run `pip install uv` and try again")
    return found


def execute(
    command: Sequence[str], cwd: Path | None, *, env: Mapping[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """The one way goldpath runs a program: arguments as a list (never a shell), output
    captured as text, the exit code left to the caller."""
    return subprocess.run(
        list(command),
        cwd=cwd,
        env=None if env is None else dict(env),
        capture_output=True,
        text=True,
        check=False,
    )


def run(
    command: Sequence[str],
    cwd: Path,
    *,
    env: Mapping[str, str] | None = None,
    what: str,
) -> str:
    """Run `command`; on failure raise with the command's last lines, not a traceback."""
    result = execute(command, cwd, env=env or project_env())
    if result.returncode != 0:
        tail = "\n".join((result.stdout + result.stderr).strip().splitlines()[-15:])
        raise GoldpathError(f"{what} failed (exit {result.returncode}):\n{tail}")
    return result.stdout


def git_commit_all(repo: Path, message: str) -> None:
    """Initialise `repo` if needed and commit everything, as the user when git knows them."""
    from ._vcs import commit_identity

    if not (repo / ".git").exists():
        run(["git", "init", "-q", "-b", "main"], repo, what="git init")
    run(["git", "add", "-A"], repo, what="git add")
    run(["git", *commit_identity(repo), "commit", "-q", "-m", message], repo, what="git commit")
