"""The bundled YAML stored parsed (knowledge/data and prompts): current, read the same as the
YAML, never read stale."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

import prompts.parsed
from knowledge import parsed
from knowledge.base import KnowledgeError, load_knowledge
from knowledge.catalog import load_catalog, load_topics
from knowledge.checks import load_checks
from prompts.parsed import PROMPT_DATA, NotYaml, ParsedYaml

STALE = "a stored form is stale: run `make parsed` after changing knowledge/data or prompts"


def nothing_stored(monkeypatch: pytest.MonkeyPatch, store: ParsedYaml) -> None:
    """Every read of `store` parses the YAML file itself, as with no stored form."""
    monkeypatch.setattr(store, "entries", lambda: {})


STORED = (parsed.KNOWLEDGE_DATA, PROMPT_DATA)


@pytest.mark.parametrize("store", STORED, ids=["knowledge", "prompts"])
def test_the_stored_form_is_current(store: ParsedYaml) -> None:
    assert store.stored_file.read_text(encoding="utf-8") == store.stored_form(), STALE


def test_the_check_says_whether_every_stored_form_is_current() -> None:
    assert prompts.parsed.main(STORED, ["--check"]) == 0


@pytest.mark.parametrize(("store", "least"), [(parsed.KNOWLEDGE_DATA, 40), (PROMPT_DATA, 5)])
def test_every_bundled_file_is_stored_and_read_from_the_stored_form(
    monkeypatch: pytest.MonkeyPatch, store: ParsedYaml, least: int
) -> None:
    stored = json.loads(store.stored_file.read_bytes())
    files = store.files()
    assert len(files) >= least and set(stored) == {
        p.relative_to(store.folder).as_posix() for p in files
    }

    def no_parsing(raw: bytes) -> None:
        raise AssertionError("a bundled file was parsed although its stored form is current")

    monkeypatch.setattr(prompts.parsed, "parse_yaml", no_parsing)
    for path in files:
        assert store.read(path) == stored[path.relative_to(store.folder).as_posix()]["content"]


def test_prompt_data_is_read_as_its_yaml_says() -> None:
    for path in PROMPT_DATA.files():
        assert PROMPT_DATA.read(path) == yaml.safe_load(path.read_bytes()), path


def validated_from(monkeypatch: pytest.MonkeyPatch, stored: bool) -> tuple[object, ...]:
    if not stored:
        nothing_stored(monkeypatch, parsed.KNOWLEDGE_DATA)
    kb = load_knowledge()
    return kb, load_catalog(kb), load_topics(kb), load_checks(kb)


def test_the_validated_knowledge_is_the_same_from_either_form(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # JSON keeps dates as ISO text; every stored file goes through a model that reads both.
    from_json = validated_from(monkeypatch, stored=True)
    from_yaml = validated_from(monkeypatch, stored=False)
    assert from_json == from_yaml
    kb = from_json[0]
    assert kb.demand_file.as_of == from_yaml[0].demand_file.as_of  # type: ignore[attr-defined]
    assert type(kb.demand_file.as_of).__name__ == "date"  # type: ignore[attr-defined]


@pytest.fixture
def copied_data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[ParsedYaml]:
    """A copy of the knowledge data folder with its own stored form, made current."""
    data = tmp_path / "data"
    shutil.copytree(parsed.DATA_DIR, data, ignore=shutil.ignore_patterns("*.npz", "*.json"))
    store = ParsedYaml(data, data / "parsed.json", parsed.KNOWLEDGE_DATA.patterns)
    monkeypatch.setattr(parsed, "KNOWLEDGE_DATA", store)
    assert parsed.main([store], []) == 0
    yield store


def test_an_edited_file_is_read_from_its_yaml_until_stored_again(copied_data: ParsedYaml) -> None:
    roles = copied_data.folder / "roles.yaml"
    content = yaml.safe_load(roles.read_text(encoding="utf-8"))
    content["roles"][0]["name"] = "Edited role name"
    roles.write_text(yaml.safe_dump(content), encoding="utf-8")
    assert parsed.read_yaml(roles)["roles"][0]["name"] == "Edited role name"
    assert parsed.main([copied_data], ["--check"]) == 1
    assert parsed.main([copied_data], []) == 0 and parsed.main([copied_data], ["--check"]) == 0
    assert json.loads(copied_data.stored_file.read_bytes())["roles.yaml"]["content"] == content
    assert parsed.read_yaml(roles)["roles"][0]["name"] == "Edited role name"


def test_a_missing_or_damaged_stored_form_falls_back_to_the_yaml(copied_data: ParsedYaml) -> None:
    skills = copied_data.folder / "skills.yaml"
    expected = prompts.parsed.parse_yaml(skills.read_bytes())
    for damage in (b"{not json", b"", b"[1, 2]", b'{"skills.yaml": 3}'):
        copied_data.stored_file.write_bytes(damage)
        copied_data.forget()
        assert parsed.read_yaml(skills) == expected
    copied_data.stored_file.unlink()
    copied_data.forget()
    assert parsed.read_yaml(skills) == expected


def test_a_file_outside_the_data_folder_is_parsed_and_its_errors_are_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    nothing_stored(monkeypatch, parsed.KNOWLEDGE_DATA)
    mine = tmp_path / "skills.yaml"
    mine.write_text("pillars: [\n", encoding="utf-8")
    with pytest.raises(NotYaml) as raised:
        parsed.read_yaml(mine)
    assert isinstance(raised.value.__cause__, yaml.YAMLError)
    with pytest.raises(KnowledgeError, match=r"skills\.yaml: not valid YAML"):
        load_knowledge(tmp_path)
    with pytest.raises(KnowledgeError, match="cannot read"):
        load_knowledge(tmp_path / "missing")
