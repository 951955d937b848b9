"""The bundled knowledge files validate and refer only to ids that exist."""

from __future__ import annotations

from collections import Counter

import pytest

from knowledge.base import KnowledgeBase, KnowledgeError, load_knowledge
from knowledge.schema import Category, Pillar, normalize_name


def test_taxonomy_is_large_and_covers_every_pillar(kb: KnowledgeBase) -> None:
    assert len(kb.skills) >= 90
    per_pillar = Counter(s.pillar for s in kb.skills.values())
    assert set(per_pillar) == set(Pillar)
    assert min(per_pillar.values()) >= 12
    categories = {s.category for s in kb.skills.values()}
    assert {Category.POWER, Category.BUSINESS, Category.BACKGROUND} <= categories


def test_names_and_aliases_are_unambiguous(kb: KnowledgeBase) -> None:
    owners: dict[str, str] = {}
    for skill in kb.skills.values():
        for name in (skill.id, skill.name, *skill.aliases):
            key = normalize_name(name)
            assert owners.setdefault(key, skill.id) == skill.id, f"{name!r} is ambiguous"


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("k8s", "kubernetes"),
        ("sklearn", "scikit_learn"),
        ("Scikit-Learn", "scikit_learn"),
        ("torch", "pytorch"),
        ("CI/CD", "ci_cd_ml"),
        ("Technical_Writing", "technical_writing"),
    ],
)
def test_aliases_resolve(kb: KnowledgeBase, name: str, expected: str) -> None:
    skill = kb.resolve_skill(name)
    assert skill is not None and skill.id == expected


def test_transfers_include_work_outside_ml(kb: KnowledgeBase) -> None:
    for source in ("software_engineering", "teaching", "statistics"):
        assert kb.skills[source].related, f"{source} transfers to nothing"
    assert any(r.skill == "communication" for r in kb.skills["teaching"].related)


def test_roles_cover_all_pillars_and_power_skills(kb: KnowledgeBase) -> None:
    assert len(kb.roles) >= 7
    for role in kb.roles.values():
        pillars = Counter(kb.skills[s].pillar for s in role.skills)
        assert set(pillars) == set(Pillar), role.id
        power = [s for s in role.skills if kb.skills[s].category == Category.POWER]
        assert len(power) >= 4, role.id
    freelance = kb.roles["freelance_ml_consultant"].skills
    assert {"pricing", "client_acquisition", "income_diversification"} <= set(freelance)


def test_demand_covers_every_skill_and_role(kb: KnowledgeBase) -> None:
    assert set(kb.demand) == set(kb.skills)
    for role in kb.roles.values():
        for skill_id in role.skills:
            assert role.id in kb.demand[skill_id].by_role, f"{skill_id} lacks demand for {role.id}"
    assert kb.demand_file.as_of.year >= 2025
    assert all(entry.sources for entry in kb.demand.values())
    assert "estimate" in kb.demand_file.method.lower()


def test_benchmarks_cover_common_tasks(kb: KnowledgeBase) -> None:
    expected = {
        "tabular_binary",
        "multiclass",
        "text_classification",
        "image_classification",
        "regression",
        "ranking",
    }
    assert expected <= set(kb.tasks)
    binary = {m.metric for m in kb.tasks["tabular_binary"].metrics}
    assert {"f1", "roc_auc", "pr_auc", "accuracy", "latency_ms"} <= binary


def test_a_dangling_reference_is_refused(
    tmp_path: pytest.TempPathFactory, kb: KnowledgeBase
) -> None:
    import shutil
    from pathlib import Path

    from knowledge.base import DATA_DIR

    target = Path(str(tmp_path))
    for name in ("skills.yaml", "roles.yaml", "demand.yaml", "benchmarks.yaml"):
        shutil.copy(DATA_DIR / name, target / name)
    roles = (target / "roles.yaml").read_text()
    (target / "roles.yaml").write_text(roles.replace("python:", "pythonn:", 1))
    with pytest.raises(KnowledgeError, match="pythonn"):
        load_knowledge(target)


# Ordinary sentences: words that are also skill names or aliases ("excel at", "react",
# "shipping containers", "portfolio", "cloud") must not turn into skill evidence or demand.
ORDINARY_SENTENCES = [
    "I excel at working with clients and react quickly to feedback.",
    "Managed shipping containers and logistics at the port of Rotterdam.",
    "Lightning talks at the town library every Thursday.",
    "My grandmother keeps a portfolio of watercolour paintings.",
    "The sales were slow this quarter because of the weather.",
    "We walked above the clouds and the cloud cover lifted by noon.",
    "The kids watched the Transformers movies all weekend.",
    "She read the documentation for her new washing machine.",
    "He is a teacher at the local primary school.",
    "Our football coaching sessions start at nine.",
    "The copyright notice sits at the bottom of the page.",
    "We signed the contracts for the new kitchen on Monday.",
    "I filed my taxes and paid the invoicing fees late.",
    "Presenting the award, the mayor thanked the volunteers.",
    "Productivity in the bakery went up after the new oven arrived.",
    "The tour guide described the simulation of a volcano eruption.",
    "They met at meetups for gardeners and got referrals for plumbers.",
    "The museum sells charts of the night sky.",
    "Big data centres use a lot of water for cooling.",
    "The scoping of the garden project took a whole afternoon.",
    "I need better prioritization of my chores at home.",
    "Human review of the parking fines found several mistakes.",
    "Soft skills like patience matter when you train a puppy.",
    "The consulting room at the clinic was freshly painted.",
    "We had dinner with friends and talked about holidays.",
    "The train to Lyon left twenty minutes late.",
    "My sister runs a small flower shop near the station.",
    "The river flooded the fields after three days of rain.",
    "He repaired the bicycle chain with an old screwdriver.",
    "Tomatoes grow well on the sunny balcony.",
    "The orchestra rehearsed the symphony for the winter concert.",
    "Please bring two pencils and an eraser to the exam.",
    "The hotel room had a view over the harbour.",
    "Our neighbour adopted a cat from the shelter.",
    "The bakery opens at six and closes at two.",
    "I went running along the beach before breakfast.",
    "The children built a sandcastle with a moat.",
    "Grandpa tells stories about his years at sea.",
    "The library extended its opening hours in December.",
    "We painted the fence green and planted a hedge.",
    "The bus driver waited for the last passenger.",
    "A storm knocked down the old oak tree in the park.",
    "The chef tasted the soup and added more salt.",
    "She knitted a scarf for her nephew's birthday.",
    "The museum guard closed the doors at five.",
    "The farmer sold apples and pears at the market.",
    "My phone battery died during the hike.",
    "The choir sang carols in the town square.",
    "We booked a cabin in the mountains for the holidays.",
    "The dentist asked me to floss more often.",
    "Traffic was heavy on the bridge this morning.",
    "The cake needs forty minutes in the oven.",
    "He reacts badly to pollen every spring.",
    "The shipping container ship docked at dawn.",
]


def test_ordinary_sentences_match_no_skill(kb: KnowledgeBase) -> None:
    from tools.connectors.text import PhraseMatcher

    assert len(ORDINARY_SENTENCES) >= 50
    matcher = PhraseMatcher.for_skills(kb)
    found = {s: [m.phrase for m in matcher.find(s)] for s in ORDINARY_SENTENCES}
    assert {s: f for s, f in found.items() if f} == {}


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("privacy", "privacy_gdpr"),
        ("excel", "data_analysis"),
        ("react", "web_development"),
        ("R", "r_programming"),
        ("hyperparameter tuning", "hyperparameter_tuning"),
        ("optuna", "hyperparameter_tuning"),
        ("federated learning", "federated_learning"),
        ("JAX", "jax"),
        ("causal inference", "causal_inference"),
        ("critical thinking", "analytical_thinking"),
    ],
)
def test_short_and_new_names_resolve(kb: KnowledgeBase, name: str, expected: str) -> None:
    skill = kb.resolve_skill(name)
    assert skill is not None and skill.id == expected


def test_skill_claims_in_real_sentences_still_match(kb: KnowledgeBase) -> None:
    from tools.connectors.text import PhraseMatcher

    matcher = PhraseMatcher.for_skills(kb)
    text = (
        "Tuned LightGBM with Optuna, built dashboards in Tableau, shipped Docker containerization "
        "on AWS, and estimated uplift with causal inference; wrote R with the tidyverse."
    )
    found = {m.ident for m in matcher.find(text)}
    assert {"hyperparameter_tuning", "data_analysis", "docker", "cloud_platforms"} <= found
    assert {"causal_inference", "r_programming", "gradient_boosting"} <= found


def test_new_skills_have_demand_and_role_levels(kb: KnowledgeBase) -> None:
    new = [
        "hyperparameter_tuning", "federated_learning", "r_programming", "jax",
        "causal_inference", "analytical_thinking",
    ]  # fmt: skip
    for skill_id in new:
        assert skill_id in kb.demand and kb.demand[skill_id].sources
        assert any(skill_id in role.skills for role in kb.roles.values()), skill_id
    assert kb.skills["analytical_thinking"].category == Category.POWER
    assert kb.roles["ml_researcher"].skills["jax"] >= 2


def test_role_demand_is_a_market_estimate_not_the_role_level(kb: KnowledgeBase) -> None:
    from statistics import correlation

    levels, demand = [], []
    for role in kb.roles.values():
        for skill_id, level in role.skills.items():
            levels.append(level)
            demand.append(kb.demand_for(skill_id, role.id))
    # Before methodology 2.0.0 role demand was derived from the level (r = 0.85).
    assert correlation(levels, demand) < 0.6
    mlops = "mlops_engineer"
    python = kb.demand_for("python", mlops)
    assert kb.demand_for("docker", mlops) < python and kb.demand_for("kubernetes", mlops) < python
    # The AI Index reports prompt-engineering postings growing about 4.5-fold in 2024.
    assert kb.demand["prompt_engineering"].trend >= 0.2
    assert all(e.sources for e in kb.demand.values()) and kb.demand_file.as_of.year >= 2026


def _reference_tables(kb: KnowledgeBase) -> list[tuple[str, object]]:
    tables: list[tuple[str, object]] = []
    for task in kb.tasks.values():
        tables += [(f"{task.id}.{m.metric}", m) for m in task.metrics]
        for dataset in task.datasets:
            tables += [(f"{task.id}.{dataset.id}.{m.metric}", m) for m in dataset.metrics]
    return tables


def test_every_benchmark_reference_lands_where_the_file_says(kb: KnowledgeBase) -> None:
    from knowledge.schema import MetricPercentiles
    from tools.model_audit import percentile_of

    checked = 0
    for where, table in _reference_tables(kb):
        assert isinstance(table, MetricPercentiles)
        for ref in table.references:
            percentile, _ = percentile_of(ref.value, table)
            if ref.at_least is not None:
                assert percentile >= ref.at_least, f"{where}: {ref.label} at {percentile:.1f}"
            if ref.below is not None:
                assert percentile < ref.below, f"{where}: {ref.label} at {percentile:.1f}"
            checked += 1
    assert checked >= 10


def test_public_winners_rank_at_the_top_and_trivial_baselines_at_the_bottom(
    kb: KnowledgeBase,
) -> None:
    from tools.model_audit import percentile_of

    winners = {
        (task.id, dataset.id)
        for task in kb.tasks.values()
        for dataset in task.datasets
        for table in dataset.metrics
        for ref in table.references
        if ref.kind == "winner" and percentile_of(ref.value, table)[0] >= 95
    }
    assert {
        ("tabular_binary", "porto_seguro"),
        ("tabular_binary", "home_credit"),
        ("time_series_forecasting", "m4"),
    } <= winners
    for task in kb.tasks.values():
        for table in [*task.metrics, *(m for d in task.datasets for m in d.metrics)]:
            for ref in table.references:
                assert ref.source and ref.date.year >= 2000 and len(ref.how) >= 20
                if ref.kind == "trivial_baseline":
                    assert percentile_of(ref.value, table)[0] < 25


@pytest.mark.parametrize(
    ("typed", "first"),
    [("dokcer", "docker"), ("kubernets", "kubernetes"), ("explainabilty", "explainability"),
     ("employer", None), ("salary", None), ("free", None)],
)  # fmt: skip
def test_suggestions_are_close_names_never_a_few_shared_letters(
    kb: KnowledgeBase, typed: str, first: str | None
) -> None:
    """ "Did you mean Model Serving?" for "employer" (via "ml deployment") read as a guess."""
    suggested = kb.suggest_skills(typed)
    assert (suggested[0] if suggested else None) == first


@pytest.mark.parametrize(
    ("said", "named"),
    [
        ("yes, my gold medal solution for Home Credit", ("tabular_binary", "home_credit")),
        ("home-credit-default-risk, private LB", ("tabular_binary", "home_credit")),
        ("the Porto Seguro safe driver competition", ("tabular_binary", "porto_seguro")),
        ("I did the M4", ("time_series_forecasting", "m4")),
        ("credit default prediction", None),  # a task, not a dataset
        ("homecredit", None),  # not a name of it
        ("no", None),
    ],
)
def test_a_public_dataset_is_found_by_name_in_a_sentence(
    kb: KnowledgeBase, said: str, named: tuple[str, str] | None
) -> None:
    found = kb.dataset_named_in(said)
    assert (None if found is None else (found[0], found[1].id)) == named
