"""The forges' REST APIs, as a rollout calls them: which repository on which forge, the
token CI gives the job, and one HTTP call with the retries the forges document.

Authentication is the job's: GitHub's `GITHUB_TOKEN` (or a GitHub App installation token
the job minted into `GH_TOKEN`), Azure DevOps' `SYSTEM_ACCESSTOKEN` (or a workload-identity
token in `AZURE_DEVOPS_TOKEN`). Tokens are read from the environment only, never from a
file or a flag, and only ever sent over https to the API the operator named (plain http
to this machine alone, for tests). Redirects are not followed: a moved repository is
reported, and the token never goes to another host.

Retries, as the forges document them: 429 and GitHub's secondary rate limit (403 with
`retry-after`, or `x-ratelimit-remaining: 0` until `x-ratelimit-reset`) wait as told;
5xx and unreachable hosts back off and retry. 401 is a token that expired or was revoked:
nothing more is asked of that forge in this process.
"""

from __future__ import annotations

import base64
import ipaddress
import json
import os
import re
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from email.message import Message
from typing import Any, Literal
from urllib.parse import quote, urlsplit

from ._errors import GoldpathError

Kind = Literal["github", "azure-devops"]
KINDS: tuple[Kind, ...] = ("github", "azure-devops")
DEFAULT_API = {"github": "https://api.github.com", "azure-devops": "https://dev.azure.com"}
TOKEN_VARIABLES = {
    "github": ("GITHUB_TOKEN", "GH_TOKEN"),
    "azure-devops": ("SYSTEM_ACCESSTOKEN", "AZURE_DEVOPS_TOKEN"),
}
MAX_ANSWER = 4 << 20  # a page of pull requests is tens of KiB; anything past this is refused
_SEGMENT = re.compile(r"^[A-Za-z0-9_.][A-Za-z0-9_. -]{0,99}$")


class ForgeError(GoldpathError):
    """The forge refused or failed a call; the message names the repository and why."""

    def __init__(self, message: str, status: int = 0, answer: Any = None) -> None:
        super().__init__(message)
        self.status = status
        self.answer = answer


class TokenRejected(ForgeError):
    """401: the job's token expired or was revoked; no call of this run will succeed."""


@dataclass(frozen=True)
class ForgeRepo:
    """A repository on a forge: GitHub's `owner/name`, Azure DevOps' `project/repository`
    under the organisation URL `api` (https://dev.azure.com/ORG)."""

    kind: Kind
    api: str
    slug: str

    @property
    def parts(self) -> tuple[str, str]:
        first, second = self.slug.split("/")
        return first, second


def check_api(value: object, where: str) -> str:
    if not isinstance(value, str) or not value:
        raise GoldpathError(f"{where}: the forge's API URL is empty; give an https:// URL")
    parts = urlsplit(value)
    loopback = False
    try:
        loopback = ipaddress.ip_address(parts.hostname or "").is_loopback
    except ValueError:
        loopback = parts.hostname == "localhost"
    if parts.scheme != "https" and not (parts.scheme == "http" and loopback):
        raise GoldpathError(
            f"{where}: {value!r} is not an https:// URL; the job's token is only sent over "
            "https (plain http to this machine alone)"
        )
    if parts.username or parts.password or parts.query or parts.fragment:
        raise GoldpathError(f"{where}: {value!r} must be a plain URL (no user, query or #)")
    return value.rstrip("/")


def check_slug(kind: Kind, value: object, where: str) -> str:
    segments = value.split("/") if isinstance(value, str) else []
    if len(segments) != 2 or not all(_SEGMENT.match(s) and ".." not in s for s in segments):
        shape = "OWNER/NAME" if kind == "github" else "PROJECT/REPOSITORY"
        raise GoldpathError(f"{where}: {value!r} is not a repository on the forge; write {shape}")
    if kind == "github" and " " in str(value):
        raise GoldpathError(f"{where}: {value!r}: GitHub names have no spaces; write OWNER/NAME")
    return str(value)


def forge_repo_of(url: str, kind: Kind | None, api: str | None, where: str) -> ForgeRepo | None:
    """The forge repository a clone URL names (github.com, dev.azure.com), or None."""
    if url.startswith("git@ssh.dev.azure.com:v3/"):
        organisation, project, name = [*url.split(":", 1)[1].split("/"), "", "", ""][1:4]
        url = f"https://dev.azure.com/{organisation}/{project}/_git/{name}"
    if url.startswith("git@github.com:"):
        url = "https://github.com/" + url.split(":", 1)[1]
    parts = urlsplit(url)
    path = [p for p in parts.path.split("/") if p]
    if parts.hostname == "github.com" and len(path) == 2 and kind in (None, "github"):
        slug = f"{path[0]}/{path[1].removesuffix('.git')}"
        return ForgeRepo("github", check_api(api or DEFAULT_API["github"], where),
                         check_slug("github", slug, where))  # fmt: skip
    if parts.hostname == "dev.azure.com" and len(path) == 4 and path[2] == "_git":
        organisation_api = api or f"https://dev.azure.com/{path[0]}"
        return ForgeRepo("azure-devops", check_api(organisation_api, where),
                         check_slug("azure-devops", f"{path[1]}/{path[3]}", where))  # fmt: skip
    return None


def git_auth(url: str, repo: ForgeRepo) -> list[tuple[str, str]]:
    """The header git sends to push to `url` with the job's token, for that one repository
    URL only (the template's clone never sees it); none unless `url` is https on the
    forge's own host."""
    parts, api = urlsplit(url), urlsplit(repo.api)
    same_host = parts.hostname == api.hostname or (
        api.hostname == "api.github.com" and parts.hostname == "github.com"
    )
    # Azure DevOps' clone URLs name the organisation as the user; a password never goes.
    if parts.scheme != "https" or not same_host or parts.password or parts.query:
        return []
    token = job_token(repo.kind)
    if repo.kind == "github":
        basic = base64.b64encode(f"x-access-token:{token}".encode()).decode()
        header = f"Authorization: Basic {basic}"
    else:
        header = f"Authorization: Bearer {token}"
    return [(f"http.{url}.extraHeader", header)]


def job_token(kind: Kind) -> str:
    for variable in TOKEN_VARIABLES[kind]:
        token = os.environ.get(variable, "").strip()
        if token:
            return token
    names = " or ".join(TOKEN_VARIABLES[kind])
    raise GoldpathError(
        f"--open-pr: no {kind} token in the environment; CI gives the job one as {names} "
        "(a personal token in a file is never read)"
    )


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *_args: Any, **_kwargs: Any) -> None:
        return None


_OPENER = urllib.request.build_opener(_NoRedirect)


@dataclass
class Http:
    """One forge's HTTP calls, with its token and the documented retries."""

    kind: Kind
    token: str
    max_wait: float = 120.0  # the longest a rate limit is waited out, per call
    backoff: float = 1.0
    attempts: int = 5
    rejected: bool = False
    waited: float = field(default=0.0)

    def headers(self) -> dict[str, str]:
        headers = {"Authorization": f"Bearer {self.token}", "User-Agent": "goldpath-fleet",
                   "Content-Type": "application/json"}  # fmt: skip
        if self.kind == "github":
            headers["Accept"] = "application/vnd.github+json"
            headers["X-GitHub-Api-Version"] = "2022-11-28"
        else:
            headers["Accept"] = "application/json"
        return headers

    def call(self, method: str, url: str, body: Any = None, where: str = "") -> Any:
        if self.rejected:
            raise TokenRejected(f"{where}: the {self.kind} token was rejected earlier in this run")
        data = None if body is None else json.dumps(body).encode()
        for attempt in range(1, self.attempts + 1):
            # The URL is the operator's https (or loopback) API, checked by check_api.
            request = urllib.request.Request(  # noqa: S310
                url, data=data, method=method, headers=self.headers()
            )
            try:
                with _OPENER.open(request, timeout=60) as answer:
                    return _json(answer.read(MAX_ANSWER + 1), where)
            except urllib.error.HTTPError as error:
                payload = _json(error.read(MAX_ANSWER + 1), where, strict=False)
                wait = self._wait(error.code, error.headers, payload, attempt)
                if wait is None or attempt == self.attempts:
                    self._fail(error.code, payload, where)
                time.sleep(wait or 0)
                self.waited += wait or 0
            except (urllib.error.URLError, TimeoutError, ConnectionError) as error:
                if attempt == self.attempts:
                    reason = getattr(error, "reason", error)
                    raise ForgeError(f"{where}: the forge cannot be reached ({reason})") from None
                time.sleep(self.backoff * 2 ** (attempt - 1))
        raise AssertionError("unreachable")

    def _wait(self, status: int, headers: Message, payload: Any, attempt: int) -> float | None:
        retry_after = headers.get("retry-after")
        limited = status == 429 or (
            status == 403
            and (retry_after is not None or headers.get("x-ratelimit-remaining") == "0")
        )
        if limited:
            if retry_after is not None and retry_after.strip().isdigit():
                wait = float(retry_after)
            elif headers.get("x-ratelimit-reset", "").isdigit():
                wait = max(0.0, float(headers["x-ratelimit-reset"]) - time.time())
            else:
                wait = 60.0 * attempt  # GitHub: at least a minute when it says nothing
            return wait if wait <= self.max_wait else None
        if status in (500, 502, 503, 504):
            return float(self.backoff * 2 ** (attempt - 1))
        return None

    def _fail(self, status: int, payload: Any, where: str) -> None:
        message = payload.get("message") if isinstance(payload, dict) else None
        said = f": {str(message)[:200]}" if message else ""
        if status == 401:
            self.rejected = True
            raise TokenRejected(
                f"{where}: the {self.kind} token was rejected (401: expired or revoked); "
                "rerun with a fresh token: pushed branches are found again, nothing is opened twice"
            )
        raise ForgeError(f"{where}: the forge answered {status}{said}", status, payload)


def _json(data: bytes, where: str, *, strict: bool = True) -> Any:
    if len(data) > MAX_ANSWER:
        raise ForgeError(f"{where}: the forge's answer is larger than {MAX_ANSWER >> 20} MiB")
    if not data.strip():
        return None
    try:
        return json.loads(data)
    except (ValueError, RecursionError):
        if not strict:
            return None
        raise ForgeError(f"{where}: the forge answered something that is not JSON") from None


def segment(text: str) -> str:
    return quote(text, safe="")
