"""Profile files: lenient names, and a specific message for every kind of bad input."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from knowledge.base import KnowledgeBase
from tools.errors import ProfileError
from tools.profile import CareerStage, Profile, load_profile, validate_profile


def problems(kb: KnowledgeBase, **fields: object) -> str:
    data: dict[str, object] = {"user": "u", "target_role": "ml_engineer", **fields}
    with pytest.raises(ProfileError) as caught:
        validate_profile(data, kb)
    return "; ".join(caught.value.problems)


def test_names_match_leniently(make_profile: Callable[..., Profile]) -> None:
    profile = make_profile(
        target_role="ML-Engineer",
        career_stage="Senior",
        self_ratings={"PyTorch": 4, "k8s": 2, "Scikit_Learn": 3.5},
        soft_skills={"Client Management": 3},
    )
    assert profile.target_role == "ml_engineer"
    assert profile.career_stage == CareerStage.SENIOR
    assert profile.self_ratings == {"kubernetes": 2, "pytorch": 4, "scikit_learn": 3.5}
    assert profile.soft_skills == {"client_management": 3}


def test_unknown_key_names_the_allowed_keys(kb: KnowledgeBase) -> None:
    message = problems(kb, salary=10)
    assert "salary: unknown key" in message and "target_role" in message


def test_unknown_nested_key_names_the_nested_keys(kb: KnowledgeBase) -> None:
    message = problems(
        kb, certificates=[{"name": "x", "date": "2025-01-01", "skills": ["python"], "url": "u"}]
    )
    assert "certificates.0.url: unknown key" in message and "provider" in message


def test_unknown_skill_suggests_close_names(kb: KnowledgeBase) -> None:
    message = problems(kb, self_ratings={"pytorh": 3, "dokcer": 2})
    assert "unknown skill 'pytorh'" in message and "pytorch" in message
    assert "docker" in message


def test_unknown_role_lists_allowed_roles(kb: KnowledgeBase) -> None:
    message = problems(kb, target_role="astronaut")
    assert "target_role" in message and "mlops_engineer" in message


def test_out_of_range_values_name_the_field(kb: KnowledgeBase) -> None:
    assert "self_ratings.python" in problems(kb, self_ratings={"python": 7})
    assert "years_experience" in problems(kb, years_experience=-1)
    assert "career_stage" in problems(kb, career_stage="wizard")
    message = problems(kb, models=[{"name": "m", "task": "tabular_binary", "metrics": {"f1": 81}}])
    assert "f1 must be between 0 and 1" in message


def test_bad_date_says_the_format(kb: KnowledgeBase) -> None:
    message = problems(
        kb, certificates=[{"name": "Course", "date": "31/12/2024", "skills": ["python"]}]
    )
    assert "certificates.0.date" in message and "YYYY-MM-DD" in message


def test_soft_skills_must_be_career_skills(kb: KnowledgeBase) -> None:
    assert "not a soft skill" in problems(kb, soft_skills={"python": 3})


def test_double_rating_is_refused(kb: KnowledgeBase) -> None:
    assert "a second time" in problems(kb, self_ratings={"k8s": 3, "kubernetes": 4})


def test_yaml_and_json_files_load(tmp_path: Path, kb: KnowledgeBase) -> None:
    data = {"user": "ana", "target_role": "data scientist", "self_ratings": {"sql": 4}}
    (tmp_path / "p.json").write_text(json.dumps(data))
    (tmp_path / "p.yaml").write_text(
        "user: ana\ntarget_role: data scientist\nself_ratings: {sql: 4}\n"
    )
    assert load_profile(tmp_path / "p.json", kb) == load_profile(tmp_path / "p.yaml", kb)


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("user: [unclosed", "invalid YAML"),
        ('{"user": ', "invalid JSON"),
        ("- a\n- b\n", "mapping"),
        ("", "mapping"),
    ],
)
def test_malformed_files_are_explained(
    tmp_path: Path, kb: KnowledgeBase, content: str, expected: str
) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(content)
    with pytest.raises(ProfileError, match=expected):
        load_profile(path, kb)


def test_missing_and_binary_files(tmp_path: Path, kb: KnowledgeBase) -> None:
    with pytest.raises(ProfileError, match="file not found"):
        load_profile(tmp_path / "nope.yaml", kb)
    (tmp_path / "bin.yaml").write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(ProfileError, match="UTF-8"):
        load_profile(tmp_path / "bin.yaml", kb)
