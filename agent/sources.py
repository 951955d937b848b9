"""The connectors `/connect` knows, with their arguments, consent and environment settings.

Tokens and service addresses come from the environment only: GITHUB_TOKEN and
GITHUB_API_URL, KAGGLE_USERNAME / KAGGLE_KEY and KAGGLE_API_URL.
"""

from __future__ import annotations

from pathlib import Path

from agent.connect import Context, Source, register
from tools.connectors.base import ConnectorResult
from tools.errors import ConnectorError


def _need(args: list[str], count: int, usage: str) -> None:
    if len(args) < count:
        raise ConnectorError(f"missing arguments; usage: {usage}")


def _github(args: list[str], ctx: Context) -> ConnectorResult:
    from pydantic import SecretStr

    from tools.connectors.github import GitHubInput, collect

    _need(args, 1, GITHUB.usage)
    repos = [a for a in args[1:] if "/" in a]
    token = ctx.env.get("GITHUB_TOKEN")
    params = GitHubInput(
        username=args[0],
        repos=repos,
        base_url=ctx.env.get("GITHUB_API_URL", "https://api.github.com"),
        token=SecretStr(token) if token else None,
        as_of=ctx.today,
    )
    return collect(params, ctx.kb)


def _local_git(args: list[str], ctx: Context) -> ConnectorResult:
    from tools.connectors.local_git import LocalGitInput, collect

    _need(args, 2, LOCAL_GIT.usage)
    return collect(
        LocalGitInput(path=Path(args[0]), author_emails=args[1:], as_of=ctx.today), ctx.kb
    )


def _mlflow(args: list[str], ctx: Context) -> ConnectorResult:
    from tools.connectors.mlflow_runs import MlflowQuery, collect

    return collect(MlflowQuery.from_args(args, ctx.kb), ctx.kb, ctx.today)


def _kaggle(args: list[str], ctx: Context) -> ConnectorResult:
    from pydantic import SecretStr

    from tools.connectors.kaggle import DEFAULT_BASE_URL, KaggleApi, collect

    export = Path(args[0]) if args else None
    api = None
    if ctx.env.get("KAGGLE_USERNAME") and ctx.env.get("KAGGLE_KEY"):
        api = KaggleApi(
            username=ctx.env["KAGGLE_USERNAME"],
            key=SecretStr(ctx.env["KAGGLE_KEY"]),
            base_url=ctx.env.get("KAGGLE_API_URL", DEFAULT_BASE_URL),
        )
    return collect(ctx.kb, api=api, export=export, as_of=ctx.today)


def _certificates(args: list[str], ctx: Context) -> ConnectorResult:
    from tools.connectors.certificates import CertificatesParams, collect

    _need(args, 1, CERTIFICATES.usage)
    return collect(
        CertificatesParams(path=Path(args[0]), as_of=ctx.today), ctx.kb, similar=ctx.similar
    )


def _income(args: list[str], ctx: Context) -> ConnectorResult:
    from tools.connectors.income_csv import IncomeParams, collect

    _need(args, 1, INCOME.usage)
    return collect(IncomeParams(path=Path(args[0]), as_of=ctx.today))


def _job_postings(args: list[str], ctx: Context) -> ConnectorResult:
    from tools.connectors.job_postings import JobPostingsParams, collect

    _need(args, 1, JOB_POSTINGS.usage)
    return collect(JobPostingsParams(path=Path(args[0]), as_of=ctx.today), ctx.kb)


def _cv(args: list[str], ctx: Context) -> ConnectorResult:
    from tools.connectors.cv import CVParams, collect

    _need(args, 1, CV.usage)
    return collect(CVParams(path=Path(args[0]), as_of=ctx.today), ctx.kb)


def _fairness(args: list[str], ctx: Context) -> ConnectorResult:
    from tools.connectors.fairness import FairnessQuery, collect, model_report

    query = FairnessQuery.from_args(args, ctx.kb)
    result = collect(query, ctx.today)
    model = model_report(result, query, ctx.kb)  # only for a model the person named
    return result.model_copy(update={"models": [model]}) if model else result


GITHUB = Source("github", "github", "/connect github USERNAME [OWNER/REPO ...]", _github)
LOCAL_GIT = Source(
    "local_git", "local_git", "/connect local_git PATH YOUR@EMAIL [MORE@EMAILS]", _local_git
)
MLFLOW = Source(
    "mlflow",
    "mlflow",
    "/connect mlflow TRACKING_URI EXPERIMENT [task=TASK positive_rate=0.03]",
    _mlflow,
)
KAGGLE = Source(
    "kaggle",
    "kaggle",
    "/connect kaggle [EXPORT_FILE] (API with KAGGLE_USERNAME/KAGGLE_KEY)",
    _kaggle,
)
CERTIFICATES = Source(
    "certificates", "certificates", "/connect certificates FILE.csv", _certificates
)
INCOME = Source("income_csv", "income_csv", "/connect income_csv PAYMENTS.csv", _income)
JOB_POSTINGS = Source("job_postings", None, "/connect job_postings FOLDER_OR_FILE", _job_postings)
CV = Source("cv", "cv", "/connect cv CV.pdf|.md|.txt", _cv)
FAIRNESS = Source(
    "fairness", "fairness", "/connect fairness PREDICTIONS.csv [label=COL prediction=COL score=COL sensitive=COL,COL positive_label=VALUE model=NAME task=TASK]",
    _fairness,
)  # fmt: skip

for _source in (
    GITHUB,
    LOCAL_GIT,
    MLFLOW,
    KAGGLE,
    CERTIFICATES,
    INCOME,
    JOB_POSTINGS,
    CV,
    FAIRNESS,
):
    register(_source)
