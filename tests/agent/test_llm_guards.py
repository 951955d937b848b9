"""The LLM agent's guards: grounding of numbers in replies, and what may reach a remote model."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from agent.llm.grounding import check_reply, tool_numbers
from agent.llm.privacy import minimise, redact_text

RESULT = {
    "overall": {"score": 74.9, "confidence": 0.268},
    "pillars": {"technical": {"score": 81.6, "weight": 0.4}},
    "top_gaps": [{"skill": "docker", "proficiency": 40.0, "demand": 72.0, "gap": 0.4444}],
}


def test_numbers_the_tools_produced_pass() -> None:
    reply = (
        "Your overall score is 74.9 (confidence 0.27). Technical Proficiency is at 81.6 and weighs 40%. "
        "Docker sits at 40 against a demand of 72, a gap of 0.44 (44%). Your next audit is on 2027-02-27."
    )
    assert check_reply(reply, [RESULT]).ok


def test_a_score_no_tool_produced_is_caught() -> None:
    verdict = check_reply("Great news: your overall score is 91.5 and Docker is at 65.", [RESULT])
    assert not verdict.ok and verdict.unsupported == ["91.5", "65"]


def test_small_counts_years_and_versions_are_not_claims() -> None:
    assert check_reply("Rate 3 skills from 0 to 5; methodology 1.1.0, data from 2025.", [RESULT]).ok


def test_tool_numbers_walks_nested_results() -> None:
    assert {74.9, 0.268, 81.6, 0.4, 40.0, 72.0, 0.4444} <= tool_numbers([RESULT])


def test_redaction_of_money_emails_secrets_and_clients() -> None:
    text = (
        "Acme Retail paid me $6,000 in March and 3.5k EUR later; mail ana@example.org. "
        "Token ghp_abcdefghijklmnopqrstuvwx1234 and sk-ABCDEFGHIJKLMNOPQRST."
    )
    redacted = redact_text(text, names=["Acme Retail"])
    for secret in ("Acme Retail", "6,000", "3.5k", "ana@example.org", "ghp_", "sk-ABC"):
        assert secret not in redacted
    assert (
        "[client]" in redacted
        and "[amount]" in redacted
        and "[e-mail]" in redacted
        and "[secret]" in redacted
    )


def test_minimise_drops_private_keys_and_keeps_scores() -> None:
    profile = {
        "target_role": "freelance_ml_consultant",
        "self_ratings": {"python": 4},
        "income": [{"date": "2026-01-31", "client": "Acme Retail", "amount": 6000}],
        "notes": "Working for Acme Retail, invoice 1200 USD",
    }
    sent = json.dumps(minimise(profile, names=["Acme Retail"]))
    assert "income" not in sent and "Acme" not in sent and "1200" not in sent
    assert '"python": 4' in sent and "freelance_ml_consultant" in sent


@given(text=st.text(max_size=500))
def test_guards_accept_any_text(text: str) -> None:
    verdict = check_reply(text, [RESULT])
    assert verdict.ok == (verdict.unsupported == [])
    assert "someone@example.org" not in redact_text(text + " someone@example.org")
