"""The evidence sources, in one registry: connector, consent, arguments and help line.

Everything that lists sources reads `SOURCES`: `/connect` and `skillaudit connect`, the
interview's consent question, `/consent`, `/help`, the language model's tool descriptions
and the CLI's help. Adding a connector is one module in tools/connectors/, one `Source`
here and its tests (tests/agent/test_registries.py checks every entry is complete).

Tokens and service addresses come from `Settings` (GITHUB_TOKEN and GITHUB_API_URL,
KAGGLE_USERNAME / KAGGLE_KEY and KAGGLE_API_URL), never from the person.

Who is asking decides what a source may touch (`Asker`). The person at their own terminal
(LOCAL) may name paths and URLs on their machine and uses the configured credentials. A
remote person (REMOTE: Telegram) is a stranger to the server: file sources read only files
they uploaded into their own folder, `local_git` is not offered, a URL must be public https
(checked again at every connection, redirects included) unless the operator allow-listed it
(SKILLAUDIT_ALLOWED_URLS), the operator's GITHUB_TOKEN is used only when the operator shares
it for public data (SKILLAUDIT_SHARE_GITHUB_TOKEN), and the operator's Kaggle account never.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING

from tools.connectors.base import ConnectorResult, uploaded_file
from tools.errors import ConnectorError

if TYPE_CHECKING:
    from agent.config import Settings
    from knowledge.base import KnowledgeBase


class Asker(StrEnum):
    """Who is asking for a connector run, which decides what it may touch on the server."""

    LOCAL = "local"  # the person at their own terminal: their paths, URLs and credentials
    REMOTE = "remote"  # a person reaching the server from outside (Telegram): a stranger


@dataclass(frozen=True)
class Context:
    """What a connector run may use: knowledge, the settings (tokens, URLs), today, and who
    is asking (with a remote person's upload folder)."""

    kb: KnowledgeBase
    settings: Settings
    today: dt.date
    # text -> [(skill id, score)] by meaning (the vector index), when one is available
    similar: Callable[[str], list[tuple[str, float]]] | None = None
    asker: Asker = Asker.LOCAL
    uploads: Path | None = None  # a remote person's uploaded files

    @property
    def remote(self) -> bool:
        return self.asker is Asker.REMOTE

    def file(self, name: str) -> Path:
        """The file a person named: a path for the local person, an upload for a remote one."""
        if not self.remote:
            return Path(name)
        if self.uploads is None:
            raise ConnectorError("files can only be sent as documents here")
        return uploaded_file(self.uploads, name)


@dataclass(frozen=True)
class Source:
    """One evidence source: what it reads, the consent it needs and how to run it."""

    name: str
    consent: str | None  # the consent it needs; None for market data (job postings)
    label: str  # how the consent question names it ("my public GitHub repositories")
    arguments: str  # what follows the name: "USERNAME [OWNER/REPO ...]"
    about: str  # one line for help texts
    run: Callable[[list[str], Context], ConnectorResult]
    aliases: tuple[str, ...] = ()  # other words people use for it when answering about consent
    local_only: bool = False  # reads the server's own machine: never offered to remote people
    files: bool = False  # its first argument is a file (an upload for remote people)

    @property
    def usage(self) -> str:
        """How to call it in the chat."""
        return f"/connect {self.name} {self.arguments}".rstrip()

    def usage_for(self, asker: Asker) -> str:
        """How a remote person calls it: files by the name they were sent under."""
        if asker is Asker.REMOTE and self.files:
            rest = self.arguments.split(" ", 1)[1] if " " in self.arguments else ""
            return f"/connect {self.name} FILE_YOU_SENT {rest}".rstrip()
        return self.usage

    def need(self, args: list[str], count: int) -> None:
        if len(args) < count:
            raise ConnectorError(f"missing arguments; usage: {self.usage}")


NOT_HERE = (
    "local_git reads git checkouts on the computer SkillAudit runs on, so it works only in the "
    "terminal app on your own computer; here, use /connect github YOUR_USERNAME"
)


def _github(args: list[str], ctx: Context) -> ConnectorResult:
    from tools.connectors.github import GitHubInput, collect

    GITHUB.need(args, 1)
    repos = [a for a in args[1:] if "/" in a]
    # The operator's token reads only public data, but spends the operator's quota: shared
    # with remote people only when the operator says so.
    shared = not ctx.remote or ctx.settings.share_github_token
    params = GitHubInput(
        username=args[0],
        repos=repos,
        base_url=ctx.settings.github_api_url,
        token=ctx.settings.github_token if shared else None,
        as_of=ctx.today,
    )
    return collect(params, ctx.kb)


def _local_git(args: list[str], ctx: Context) -> ConnectorResult:
    from tools.connectors.local_git import LocalGitInput, collect

    LOCAL_GIT.need(args, 2)
    if ctx.remote:
        raise ConnectorError(NOT_HERE)
    return collect(
        LocalGitInput(path=Path(args[0]), author_emails=args[1:], as_of=ctx.today), ctx.kb
    )


def _mlflow(args: list[str], ctx: Context) -> ConnectorResult:
    from tools.connectors.mlflow_runs import MlflowQuery, collect
    from tools.connectors.base import UrlPolicy, check_public_url, public_network  # isort: skip

    query = MlflowQuery.from_args(args, ctx.kb)
    if not ctx.remote:
        return collect(query, ctx.kb, ctx.today)
    # A stranger's URL: public https only (no file: or sqlite: stores on this server), and
    # every connection checked again where it is made, so a redirect cannot lead inside.
    policy = UrlPolicy(tuple(ctx.settings.allowed_urls))
    check_public_url(query.tracking_uri, policy)
    with public_network(policy) as refusals:
        try:
            return collect(query, ctx.kb, ctx.today)
        except ConnectorError:
            if refusals:  # say why, not only that the server could not be reached
                raise ConnectorError(
                    f"refused to follow the server elsewhere ({refusals[0]})"
                ) from None
            raise


def _kaggle(args: list[str], ctx: Context) -> ConnectorResult:
    from tools.connectors.kaggle import DEFAULT_BASE_URL, KaggleApi, collect

    export = ctx.file(args[0]) if args else None
    api = None
    settings = ctx.settings
    if ctx.remote:
        # The operator's Kaggle account is theirs: its ranks and notebooks are never anyone
        # else's evidence. A remote person brings their own export file.
        if export is None:
            raise ConnectorError(
                "send your Kaggle export file (a CSV) as a document, then /connect kaggle FILE"
            )
    elif settings.kaggle_username and settings.kaggle_key:
        api = KaggleApi(
            username=settings.kaggle_username,
            key=settings.kaggle_key,
            base_url=settings.kaggle_api_url or DEFAULT_BASE_URL,
        )
    return collect(ctx.kb, api=api, export=export, as_of=ctx.today)


def _certificates(args: list[str], ctx: Context) -> ConnectorResult:
    from tools.connectors.certificates import CertificatesParams, collect

    CERTIFICATES.need(args, 1)
    return collect(
        CertificatesParams(path=ctx.file(args[0]), as_of=ctx.today), ctx.kb, similar=ctx.similar
    )


def _income(args: list[str], ctx: Context) -> ConnectorResult:
    from tools.connectors.income_csv import IncomeParams, collect

    INCOME.need(args, 1)
    return collect(IncomeParams(path=ctx.file(args[0]), as_of=ctx.today))


def _job_postings(args: list[str], ctx: Context) -> ConnectorResult:
    from tools.connectors.job_postings import JobPostingsParams, collect

    JOB_POSTINGS.need(args, 1)
    return collect(JobPostingsParams(path=ctx.file(args[0]), as_of=ctx.today), ctx.kb)


def _cv(args: list[str], ctx: Context) -> ConnectorResult:
    from tools.connectors.cv import CVParams, collect

    CV.need(args, 1)
    return collect(CVParams(path=ctx.file(args[0]), as_of=ctx.today), ctx.kb)


def _fairness(args: list[str], ctx: Context) -> ConnectorResult:
    from tools.connectors.fairness import FairnessQuery, collect, model_report

    if ctx.remote:  # the predictions file is the one plain word; options stay as they are
        plain = [i for i, a in enumerate(args) if "=" not in a]
        if plain:
            args = [*args]
            args[plain[0]] = str(ctx.file(args[plain[0]]))
    query = FairnessQuery.from_args(args, ctx.kb)
    result = collect(query, ctx.today)
    model = model_report(result, query, ctx.kb)  # only for a model the person named
    return result.model_copy(update={"models": [model]}) if model else result


GITHUB = Source(
    "github", "github", "my public GitHub repositories", "USERNAME [OWNER/REPO ...]",
    "languages, libraries and practices in your public repositories", _github,
    aliases=("github", "gh", "my github", "github repos"),
)  # fmt: skip
LOCAL_GIT = Source(
    "local_git", "local_git", "git checkouts on this machine", "PATH YOUR@EMAIL [MORE@EMAILS]",
    "your own commits in a git checkout on this machine", _local_git,
    aliases=("local git", "git", "local repos", "local git repos", "my local repos", "git checkouts"),
    local_only=True,
)  # fmt: skip
MLFLOW = Source(
    "mlflow", "mlflow", "MLflow experiment runs",
    "TRACKING_URI EXPERIMENT [task=TASK positive_rate=0.03]",
    "metrics of your MLflow runs (F1, ROC-AUC, PR-AUC, latency)", _mlflow,
    aliases=("mlflow", "mlflow runs", "experiment runs"),
)  # fmt: skip
KAGGLE = Source(
    "kaggle", "kaggle", "my Kaggle results", "[EXPORT_FILE]",
    "your Kaggle competition results (an export file, or the API with KAGGLE_USERNAME/KAGGLE_KEY)",
    _kaggle, aliases=("kaggle",), files=True,
)  # fmt: skip
CERTIFICATES = Source(
    "certificates", "certificates", "certificate exports (LinkedIn Learning, Coursera)",
    "FILE.csv", "courses completed, from a LinkedIn Learning or Coursera export", _certificates,
    aliases=("certificates", "certs", "certifications", "linkedin", "linkedin learning", "coursera",
             "linkedin certificates"),
    files=True,
)  # fmt: skip
INCOME = Source(
    "income_csv", "income_csv", "an income CSV", "PAYMENTS.csv",
    "freelance income by month and client (Upwork, Fiverr or your own CSV)", _income,
    aliases=("income", "income csv", "income file", "earnings", "invoices csv", "upwork", "fiverr"),
    files=True,
)  # fmt: skip
JOB_POSTINGS = Source(
    "job_postings", None, "job postings I supply", "FOLDER_OR_FILE",
    "market demand from job postings you collected (no consent needed: not personal data)",
    _job_postings, files=True,
)  # fmt: skip
CV = Source(
    "cv", "cv", "my CV", "CV.pdf|.md|.txt", "skills named in your CV", _cv,
    aliases=("cv", "resume", "my resume", "résumé", "curriculum vitae"), files=True,
)  # fmt: skip
FAIRNESS = Source(
    "fairness", "fairness", "model predictions, for a fairness check",
    "PREDICTIONS.csv [label=COL prediction=COL score=COL sensitive=COL,COL positive_label=VALUE model=NAME task=TASK]",
    "a fairness check of a model's predictions (fairlearn)", _fairness,
    aliases=("fairness", "fairness check", "predictions", "model predictions"), files=True,
)  # fmt: skip

# The registry, in the order sources are offered.
SOURCES: dict[str, Source] = {
    s.name: s
    for s in (GITHUB, LOCAL_GIT, MLFLOW, KAGGLE, CERTIFICATES, INCOME, JOB_POSTINGS, CV, FAIRNESS)
}
# The sources a person consents to (job postings are market data, not theirs).
CONSENT_SOURCES: tuple[str, ...] = tuple(s.consent for s in SOURCES.values() if s.consent)


def named(word: str) -> Source | None:
    """The source a word names ("kaggle", "github", "coursera"), or None."""
    folded = " ".join(word.casefold().split())
    return next((s for s in SOURCES.values() if folded == s.name or folded in s.aliases), None)


def offered(asker: Asker) -> list[Source]:
    """The sources this person may connect (a remote person never gets local-only ones)."""
    return [s for s in SOURCES.values() if asker is Asker.LOCAL or not s.local_only]


def source(name: str) -> Source:
    """The named source, or a ConnectorError listing the known ones."""
    found = SOURCES.get(name)
    if found is None:
        raise UnknownSource(name)
    return found


class UnknownSource(ConnectorError):
    """A source name that is not in the registry."""

    def __init__(self, name: str) -> None:
        self.name = name
        known = ", ".join(SOURCES)
        shown = repr(name) if name else "(none given)"
        super().__init__(f"unknown source {shown}; sources: {known}")
