"""Skill names as people type them: "sklearn", "sw engineering", "apis", "model eval",
"dokcer", "communication is my strength". Exact names and aliases first, then abbreviations
and plurals, then words that start the names of the skills a question asks about, then a
name inside a longer phrase, then a typo of one slip; never a guess between two skills.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache

from agent.text_values import is_typo, stem, tokens, word_set
from knowledge.base import KnowledgeBase
from knowledge.schema import normalize_name
from tools.connectors.text import AMBIGUOUS

ABBREVIATIONS = {
    "sw": "software", "eng": "engineering", "engg": "engineering", "dev": "development", "ml": "machine learning",
    "mgmt": "management", "mgt": "management", "viz": "visualization", "vis": "visualization",
    "stat": "statistics", "algo": "algorithms", "algos": "algorithms", "infra": "infrastructure",
    "k8": "kubernetes", "prob": "probability", "optim": "optimization", "opt": "optimization",
    "doc": "documentation", "docs": "documentation", "comms": "communication", "comm": "communication",
    "pres": "presentation", "mgr": "management", "proj": "project", "req": "requirements",
    "reqs": "requirements", "eval": "evaluation", "evals": "evaluation", "prog": "programming",
    "viz.": "visualization", "exp": "experiment", "dl": "deep learning", "nn": "neural networks",
    "neg": "negotiation", "api": "api development", "apis": "api development",
}  # fmt: skip
_NAME_FILLER = word_set(
    """i i'd id i'm im i've ive give rate rated rating would say my for in on with at is am are was
    about around level maybe probably like pretty quite really very kinda i'd skill skills knowledge
    of experience exp which that's thats that a an the its it's it me honestly tbh also too and
    guess think so -ish ish currently now lvl level: am just only mostly some basically mainly
    using used use"""
)  # fmt: skip


# Words for a field that several skills make up ("math 3"): asked which, those skills offered.
_MATH_WORDS = frozenset(
    {"math", "maths", "mathematics", "mathe", "mathematik", "mathématiques", "matemáticas"}
)
_MATH_SKILLS = ("linear_algebra", "calculus", "probability", "statistics", "optimization")


def is_broad(name: str) -> bool:
    """Whether a typed name is a field several skills make up ("math")."""
    return clean_name(name) in _MATH_WORDS


def resolve_skill(
    name: str, kb: KnowledgeBase, expected: Sequence[str] = ()
) -> tuple[str | None, list[str]]:
    """The skill a typed name means and, when none is clear, the closest skills (ids).

    Exact names and aliases first, then abbreviations and plurals ("sw engineering", "apis"),
    then words that start skill names ("model eval"), among the skills asked about before all
    others, then a typo fix; two equally good candidates are not a match.
    """
    cleaned = clean_name(name)
    if not cleaned:
        return None, []
    if cleaned in _MATH_WORDS:  # "math 3": several skills; the ones asked about first
        ranked = sorted(_MATH_SKILLS, key=lambda s: s not in expected)
        return None, [s for s in ranked if s in kb.skills][:4]
    variants = _variants(cleaned)
    typed = [stem(t) for t in tokens(variants[-1]) if t not in _LINK_WORDS]
    exact = next((f.id for v in variants if (f := kb.resolve_skill(v)) is not None), None)
    if exact is not None:
        # A name of a skill outside the question yields to the one skill asked about whose
        # name it starts ("docs" at the ethics question is Model Documentation); a word of an
        # alias is not enough ("llm" is LLM Engineering, not Model Evaluation's "llm evaluation").
        if exact not in expected:
            asked = _by_words(typed, list(expected), kb, 9, aliases=False)
            if len(asked) == 1:
                # Another skill's own full name ("communication" at the ethics question, which
                # asks about Responsible AI Communication) could mean either: asked.
                full = normalize_name(kb.skills[exact].name)
                if any(normalize_name(v) == full for v in variants):
                    return None, [asked[0], exact]
                return asked[0], []
        return exact, []
    for pool, most in ((list(expected), 9), (list(kb.skills), 1)):
        best = _by_words(typed, pool, kb, most)
        if len(best) == 1:
            return best[0], []
        if len(best) > 1:
            return None, best[:3]
    mentioned = _mentions(cleaned, kb)
    if len(mentioned) == 1:  # "communication is my strength", "domain knowledge in finance"
        return mentioned[0], []
    for variant in variants:
        fuzzy = kb.fuzzy_skill(variant)
        if fuzzy is not None and _slip_of(variant, fuzzy.id, kb):
            return fuzzy.id, []
    return None, mentioned[:3] or kb.suggest_skills(cleaned)


def _slip_of(typed: str, skill: str, kb: KnowledgeBase) -> bool:
    """Whether a typo fix is safe: the typed name is one slip from one of the skill's names."""
    found = kb.skills[skill]
    key = normalize_name(typed)
    return any(is_typo(key, normalize_name(n)) for n in (skill, found.name, *found.aliases))


def mentioned_skills(text: str, kb: KnowledgeBase) -> list[str]:
    """Skills a sentence names word for word ("I would rather start with Docker")."""
    return _mentions(re.sub(r"[^\w\s+#.-]|(?<!\w)[.-]|[.-](?!\w)", " ", text.lower()), kb)


def _mentions(text: str, kb: KnowledgeBase) -> list[str]:
    """Skills named word for word inside a longer text, longest names first, no overlaps."""
    words = text.split()
    found: list[str] = []
    taken: set[int] = set()
    for size in range(min(len(words), 6), 0, -1):
        for start in range(len(words) - size + 1):
            span = set(range(start, start + size))
            phrase = " ".join(words[start : start + size])
            key = normalize_name(phrase)
            if span & taken or len(key) < 3 or key in AMBIGUOUS or phrase in _NAME_FILLER:
                continue
            skill = kb.resolve_skill(phrase)
            if skill is not None:
                taken |= span
                if skill.id not in found:
                    found.append(skill.id)
    return found


def clean_name(name: str) -> str:
    """A typed name without filler words around it ("i'd say python" -> "python")."""
    words = re.findall(r"[^\s:=()\[\]]+", name.lower())
    words = [w.strip(",.;!?\"'-") for w in words]
    words = [w for w in words if w]
    while words and words[0] in _NAME_FILLER:
        words.pop(0)
    while words and words[-1] in _NAME_FILLER:
        words.pop()
    return " ".join(words)


def _variants(name: str) -> list[str]:
    """The name as typed, with abbreviations spelled out, and with plurals off."""
    words = name.split()
    expanded = [ABBREVIATIONS.get(w, w) for w in words]
    singular = [stem(w) for w in expanded]
    out = [name, " ".join(expanded), " ".join(singular)]
    return list(dict.fromkeys(out))


_LINK_WORDS = frozenset({"and", "of", "for", "the", "a", "in", "to", "with", "&"})


def _by_words(
    typed: list[str], pool: list[str], kb: KnowledgeBase, most: int, aliases: bool = True
) -> list[str]:
    """Skills with a name whose words the typed words start, fewest extra words first (at
    most `most` extra: among all skills one word of a long alias is no match); `aliases`:
    the skills' aliases count as names too."""
    if not typed or all(len(t) < 2 for t in typed):
        return []
    best: dict[str, int] = {}
    for sid in pool:
        skill = kb.skills[sid]
        for phrase in (sid.replace("_", " "), skill.name, *(skill.aliases if aliases else ())):
            words = list(_phrase_words(phrase))
            if _covers(typed, words, strict=most < 2) and len(words) - len(typed) <= most:
                extra = len(words) - len(typed)
                best[sid] = min(best.get(sid, extra), extra)
    if not best:
        return []
    fewest = min(best.values())
    return sorted(s for s, extra in best.items() if extra == fewest)


@lru_cache(maxsize=4096)
def _phrase_words(phrase: str) -> tuple[str, ...]:
    """The stemmed words of a skill name (cached: the names are few and read every answer)."""
    return tuple(stem(w) for w in tokens(phrase.lower()) if w not in _LINK_WORDS)


def _covers(typed: list[str], words: list[str], strict: bool = False) -> bool:
    """Whether each typed word starts a different word of the name (`strict`: most of it,
    so "pass" does not start "passive income" among all skills)."""
    free = list(words)
    for t in typed:
        hit = next(
            (
                w
                for w in free
                if w == t
                or (len(t) >= 3 and w.startswith(t) and (not strict or len(t) >= 0.7 * len(w)))
            ),
            None,
        )
        if hit is None:
            return False
        free.remove(hit)
    return True


def display(kb: KnowledgeBase, ids: Sequence[str]) -> str:
    """Skill ids as display names: "A", "A or B", "A, B or C"."""
    names = [kb.skills[s].name for s in ids]
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + f" or {names[-1]}"
