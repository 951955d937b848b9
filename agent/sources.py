"""The evidence sources, in one registry: connector, consent, arguments and help line.

Everything that lists sources reads `SOURCES`: `/connect` and `skillaudit connect`, the
interview's consent question, `/consent`, `/help`, the language model's tool descriptions
and the CLI's help. Adding a connector is one module in tools/connectors/, one `Source`
here and its tests (tests/agent/test_registries.py checks every entry is complete).

Tokens and service addresses come from `Settings` (GITHUB_TOKEN and GITHUB_API_URL,
KAGGLE_USERNAME / KAGGLE_KEY and KAGGLE_API_URL), never from the person.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from tools.connectors.base import ConnectorResult
from tools.errors import ConnectorError

if TYPE_CHECKING:
    from agent.config import Settings
    from knowledge.base import KnowledgeBase


@dataclass(frozen=True)
class Context:
    """What a connector run may use: knowledge, the settings (tokens, URLs), today."""

    kb: KnowledgeBase
    settings: Settings
    today: dt.date
    # text -> [(skill id, score)] by meaning (the vector index), when one is available
    similar: Callable[[str], list[tuple[str, float]]] | None = None


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

    @property
    def usage(self) -> str:
        """How to call it in the chat."""
        return f"/connect {self.name} {self.arguments}".rstrip()

    def need(self, args: list[str], count: int) -> None:
        if len(args) < count:
            raise ConnectorError(f"missing arguments; usage: {self.usage}")


def _github(args: list[str], ctx: Context) -> ConnectorResult:
    from tools.connectors.github import GitHubInput, collect

    GITHUB.need(args, 1)
    repos = [a for a in args[1:] if "/" in a]
    params = GitHubInput(
        username=args[0],
        repos=repos,
        base_url=ctx.settings.github_api_url,
        token=ctx.settings.github_token,
        as_of=ctx.today,
    )
    return collect(params, ctx.kb)


def _local_git(args: list[str], ctx: Context) -> ConnectorResult:
    from tools.connectors.local_git import LocalGitInput, collect

    LOCAL_GIT.need(args, 2)
    return collect(
        LocalGitInput(path=Path(args[0]), author_emails=args[1:], as_of=ctx.today), ctx.kb
    )


def _mlflow(args: list[str], ctx: Context) -> ConnectorResult:
    from tools.connectors.mlflow_runs import MlflowQuery, collect

    return collect(MlflowQuery.from_args(args, ctx.kb), ctx.kb, ctx.today)


def _kaggle(args: list[str], ctx: Context) -> ConnectorResult:
    from tools.connectors.kaggle import DEFAULT_BASE_URL, KaggleApi, collect

    export = Path(args[0]) if args else None
    api = None
    settings = ctx.settings
    if settings.kaggle_username and settings.kaggle_key:
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
        CertificatesParams(path=Path(args[0]), as_of=ctx.today), ctx.kb, similar=ctx.similar
    )


def _income(args: list[str], ctx: Context) -> ConnectorResult:
    from tools.connectors.income_csv import IncomeParams, collect

    INCOME.need(args, 1)
    return collect(IncomeParams(path=Path(args[0]), as_of=ctx.today))


def _job_postings(args: list[str], ctx: Context) -> ConnectorResult:
    from tools.connectors.job_postings import JobPostingsParams, collect

    JOB_POSTINGS.need(args, 1)
    return collect(JobPostingsParams(path=Path(args[0]), as_of=ctx.today), ctx.kb)


def _cv(args: list[str], ctx: Context) -> ConnectorResult:
    from tools.connectors.cv import CVParams, collect

    CV.need(args, 1)
    return collect(CVParams(path=Path(args[0]), as_of=ctx.today), ctx.kb)


def _fairness(args: list[str], ctx: Context) -> ConnectorResult:
    from tools.connectors.fairness import FairnessQuery, collect, model_report

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
    _kaggle, aliases=("kaggle",),
)  # fmt: skip
CERTIFICATES = Source(
    "certificates", "certificates", "certificate exports (LinkedIn Learning, Coursera)",
    "FILE.csv", "courses completed, from a LinkedIn Learning or Coursera export", _certificates,
    aliases=("certificates", "certs", "certifications", "linkedin", "linkedin learning", "coursera",
             "linkedin certificates"),
)  # fmt: skip
INCOME = Source(
    "income_csv", "income_csv", "an income CSV", "PAYMENTS.csv",
    "freelance income by month and client (Upwork, Fiverr or your own CSV)", _income,
    aliases=("income", "income csv", "income file", "earnings", "invoices csv"),
)  # fmt: skip
JOB_POSTINGS = Source(
    "job_postings", None, "job postings I supply", "FOLDER_OR_FILE",
    "market demand from job postings you collected (no consent needed: not personal data)",
    _job_postings,
)  # fmt: skip
CV = Source(
    "cv", "cv", "my CV", "CV.pdf|.md|.txt", "skills named in your CV", _cv,
    aliases=("cv", "resume", "my resume", "résumé", "curriculum vitae"),
)  # fmt: skip
FAIRNESS = Source(
    "fairness", "fairness", "model predictions, for a fairness check",
    "PREDICTIONS.csv [label=COL prediction=COL score=COL sensitive=COL,COL positive_label=VALUE model=NAME task=TASK]",
    "a fairness check of a model's predictions (fairlearn)", _fairness,
    aliases=("fairness", "fairness check", "predictions", "model predictions"),
)  # fmt: skip

# The registry, in the order sources are offered.
SOURCES: dict[str, Source] = {
    s.name: s
    for s in (GITHUB, LOCAL_GIT, MLFLOW, KAGGLE, CERTIFICATES, INCOME, JOB_POSTINGS, CV, FAIRNESS)
}
# The sources a person consents to (job postings are market data, not theirs).
CONSENT_SOURCES: tuple[str, ...] = tuple(s.consent for s in SOURCES.values() if s.consent)


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
