"""Schedule, fatigue guard, income metrics, power-skills guard and career pulse."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import pytest

from knowledge.base import KnowledgeBase
from tests.conftest import AS_OF
from tools.audit import run_audit
from tools.errors import AuditRefused, ProfileError
from tools.income import income_evidence, income_summary
from tools.params import DEFAULT_PARAMS
from tools.profile import Profile
from tools.pulse import future_factor
from tools.schedule import check_fatigue, plan_schedule


def test_quarterly_by_default_and_monthly_when_high_stakes() -> None:
    fatigue = check_fatigue(None, AS_OF, DEFAULT_PARAMS)
    calm = plan_schedule(AS_OF, False, [], fatigue, DEFAULT_PARAMS)
    assert calm.next_audit == AS_OF + dt.timedelta(days=91) and calm.micro_audits == []
    busy = plan_schedule(AS_OF, True, [], fatigue, DEFAULT_PARAMS)
    assert busy.micro_audits == [
        AS_OF + dt.timedelta(days=30),
        AS_OF + dt.timedelta(days=60),
        AS_OF + dt.timedelta(days=90),
    ]
    assert any("high-stakes" in r for r in busy.reasons)


def test_fatigue_guard_refuses_within_30_days(
    make_profile: Callable[..., Profile], kb: KnowledgeBase
) -> None:
    recent = make_profile(last_full_audit=str(AS_OF - dt.timedelta(days=12)))
    with pytest.raises(AuditRefused, match="12 days ago"):
        run_audit(recent, kb, AS_OF)
    forced = run_audit(recent, kb, AS_OF, force=True)
    assert forced.schedule.fatigue.forced and forced.schedule.fatigue.days_since == 12
    old = make_profile(last_full_audit=str(AS_OF - dt.timedelta(days=30)))
    assert run_audit(old, kb, AS_OF).schedule.fatigue.allowed


def test_dates_after_the_audit_date_are_refused(
    make_profile: Callable[..., Profile], kb: KnowledgeBase
) -> None:
    future = make_profile(
        certificates=[{"name": "Course", "date": "2027-01-01", "skills": ["python"]}]
    )
    with pytest.raises(ProfileError, match=r"certificates.0.date: 2027-01-01 is after"):
        run_audit(future, kb, AS_OF)


def test_income_concentration_and_evidence(
    make_profile: Callable[..., Profile], kb: KnowledgeBase
) -> None:
    income = [
        {"date": "2025-06-01", "client": "Old Co", "amount": 100},
        {"date": "2026-02-01", "client": "Acme", "amount": 7000, "stream": "consulting"},
        {"date": "2026-05-01", "client": "acme ", "amount": 1000, "stream": "consulting"},
        {"date": "2026-08-01", "client": "Beta", "amount": 2000, "stream": "teaching"},
    ]
    result = run_audit(make_profile(target_role="freelancer", income=income), kb, AS_OF)
    summary = result.income
    assert summary is not None
    assert (summary.clients, summary.new_clients, summary.streams) == (2, 2, 2)
    assert summary.top_client_share == 0.8
    assert summary.client_concentration == pytest.approx(0.8**2 + 0.2**2, abs=1e-3)
    diversification = next(s for s in result.skills if s.id == "income_diversification")
    assert diversification.evidence[0].strength == pytest.approx(
        0.5 * (1 - 0.68) + 0.5 * (1 - 0.68), abs=1e-3
    )


def test_power_skills_guard(make_profile: Callable[..., Profile], kb: KnowledgeBase) -> None:
    technical_only = run_audit(make_profile(self_ratings={"python": 5, "pytorch": 5}), kb, AS_OF)
    assert technical_only.power_skills.status == "not_assessed"
    assert any(f.kind == "power_skills_not_assessed" for f in technical_only.review)
    lopsided = run_audit(
        make_profile(self_ratings={"python": 5, "pytorch": 5}, soft_skills={"communication": 1}),
        kb,
        AS_OF,
    )
    assert lopsided.power_skills.status == "far_below"
    balanced = run_audit(
        make_profile(
            self_ratings={"python": 4}, soft_skills={"communication": 4, "negotiation": 3}
        ),
        kb,
        AS_OF,
    )
    assert balanced.power_skills.status == "ok"


def test_career_pulse_names_fast_decaying_skills(
    make_profile: Callable[..., Profile], kb: KnowledgeBase
) -> None:
    result = run_audit(
        make_profile(self_ratings={"tensorflow": 5, "statistics": 5, "python": 4}), kb, AS_OF
    )
    pulse = result.career_pulse
    assert pulse.score is not None and 0 <= pulse.score <= 100
    risky = {s.skill for s in pulse.at_risk}
    for skill in risky:
        entry = kb.demand[skill]
        assert (
            future_factor(entry.trend, entry.half_life_years, 2)
            < DEFAULT_PARAMS.pulse_at_risk_factor
        )
    assert "statistics" not in risky
    assert future_factor(0.0, 2.0, 2.0) == pytest.approx(0.5)


def test_stated_income_shows_concentration_without_records() -> None:
    from tools.income import StatedIncome

    stated = income_summary([], AS_OF, DEFAULT_PARAMS, StatedIncome(2, 0.85, ["client projects"]))
    assert stated is not None and stated.basis == "stated" and stated.concentration_risk
    assert stated.client_concentration == pytest.approx(0.85**2 + 0.15**2, abs=1e-3)
    assert income_evidence(stated, AS_OF, DEFAULT_PARAMS) == []  # the interview rates it already
    assert income_summary([], AS_OF, DEFAULT_PARAMS, StatedIncome(0, None, [])) is None
    below = income_summary([], AS_OF, DEFAULT_PARAMS, StatedIncome(4, 0.4, ["teaching"]))
    assert below is not None and not below.concentration_risk


@pytest.mark.parametrize(
    ("clients", "streams", "employer"),
    [
        (1, ["employment"], True),
        # A salary with prizes or teaching on the side: the one payer is still the employer.
        (1, ["employment", "competitions"], True),
        (1, ["employment", "teaching"], True),
        (1, ["employment", "client_projects"], True),
        # Several clients beside a job: the biggest may be a client, so it is reviewed.
        (3, ["employment", "client_projects"], False),
        (3, ["employment", "client projects"], False),
        (1, ["client_projects"], False),
    ],
)
def test_one_employer_is_a_salary_not_a_client_concentration(
    clients: int, streams: list[str], employer: bool
) -> None:
    from tools.explain import explain_income
    from tools.income import StatedIncome
    from tools.review import income_findings

    income = income_summary([], AS_OF, DEFAULT_PARAMS, StatedIncome(clients, 1.0, streams))
    assert income is not None and income.concentration_risk
    assert income.from_employer is employer
    assert bool(income_findings(income)) is not employer
    said = " ".join(explain_income(income, DEFAULT_PARAMS))
    assert ("one employer" in said) is employer and ("concentration risk" in said) is not employer
