"""The methodology document states what the code computes, under the right version."""

from __future__ import annotations

import re

from tools import methodology
from tools.params import METHODOLOGY_VERSION, VERSION_FINGERPRINTS, params_fingerprint


def test_worked_example_in_the_document_equals_the_code() -> None:
    text = methodology.DOC.read_text(encoding="utf-8")
    assert methodology.document_example(text) == methodology.render_example(), (
        "docs/methodology.md is stale: run `python -m tools.methodology --write`"
    )


def test_parameters_changed_only_with_a_new_version() -> None:
    assert VERSION_FINGERPRINTS.get(METHODOLOGY_VERSION) == params_fingerprint(), (
        "a scoring parameter changed: bump METHODOLOGY_VERSION and record its fingerprint"
    )


def test_document_names_the_current_version_and_default_weights() -> None:
    text = methodology.DOC.read_text(encoding="utf-8")
    assert f"Methodology version **{METHODOLOGY_VERSION}**" in text
    assert re.search(r"Technical Proficiency 0\.40.*Model Lifecycle Management 0\.30", text, re.S)


def test_worked_example_numbers_follow_the_formulas() -> None:
    result = methodology.example_result()
    python = next(s for s in result.skills if s.id == "python")
    w_self, w_code = 0.35, 0.80 * 0.5 ** (200 / 730)
    proficiency = (w_self * 80 + w_code * 70) / (w_self + w_code)
    assert python.proficiency == round(proficiency, 1)
    assert python.gap == round((90 - proficiency) / 90, 4)
    docker = next(s for s in result.skills if s.id == "docker")
    assert docker.status == "unknown" and "docker" in result.unknown_skills
    bias = next(s for s in result.skills if s.id == "bias_testing")
    assert bias.status == "inferred" and bias.proficiency == round(0.3 * 60, 1)
