"""Recognise commands and questions that are not answers ("help", "why do you ask?")."""

from __future__ import annotations

import re

from agent.commands import NAMES
from agent.parsing import clean

COMMANDS = NAMES  # every command of agent/commands.py, typed with or without a slash

# Free-text phrasings of commands, checked against the whole message (lower case, no end punctuation).
PHRASES: tuple[tuple[str, str], ...] = (
    (r"what (should|shall|do|can) i (learn|study|focus on|work on)( next| now| first)?", "next"),
    (
        r"what (to|should i) (learn|study) next|what next|recommend(ations)?( me)?( something)?|next steps?",
        "next",
    ),
    (
        r"why( do| did| would)? you (ask|need|want)( this| that| to know)?|why (is|does) (this|that) matter|why\??|what for",
        "why",
    ),
    (r"help( me)?|how does (this|it) work|what can you do|commands|menu|\?", "help"),
    # Not an answer but a question about the question: how to answer it, and why it is asked.
    (
        r"what (does|do) (this|that|it|these|those) mean|what do you mean|what\?+|huh\??|"
        r"i (do ?n'?t|do not|dont) (understand|get it)( the question| this| that)?|"
        r"(please )?explain( this| that| the question)?|how (do|should|can) i answer( this| that)?",
        "explain",
    ),
    # A greeting is not an answer: say hello back and ask the current question again.
    (
        r"(hi|hello|hey|hiya|howdy|hallo|hola|bonjour|ciao|good (morning|afternoon|evening))"
        r"( there| again)?( skillaudit| bot)?[,!.]*",
        "greeting",
    ),
    (r"go back|previous( question)?|undo|back up", "back"),
    (
        r"skip( (this|it|that)( one| question)?)?|pass|next question|i'?d rather not say|prefer not to (say|answer)",
        "skip",
    ),
    (r"how am i doing|my progress|show (my )?(progress|history)|history", "progress"),
    (r"(show|send|give)( me)? (my |the )?report", "report"),
    (
        r"(delete|erase|remove|forget) (all )?(my|all) data|forget me|delete (me|my account)",
        "forget",
    ),
    (r"export (all )?(my )?data|download (all )?my data|(give|send) me my data", "export"),
    (r"when (is|should i do) (my )?next audit|my schedule|next audit( date)?", "schedule"),
    (r"audit (a|my) model|check (a|my) model", "model"),
    (r"(start|begin|new|run)( a| an| the| my)? (new )?audit|start over|restart", "audit"),
    (r"stop|cancel( this| that)?|never ?mind|abort", "cancel"),
)


def detect(text: str) -> tuple[str, str] | None:
    """Return (intent, argument) when the message is a command or a non-answer question."""
    message = clean(text)
    if message.startswith("/"):
        word, _, argument = message[1:].partition(" ")
        name = word.split("@", 1)[0].lower()
        return (
            name if name in COMMANDS else "unknown",
            argument.strip() if name in COMMANDS else word,
        )
    folded = re.sub(r"[.!?\s]+$", "", message.lower()) or message.lower()
    first, _, rest = folded.partition(" ")
    if folded in COMMANDS or (first in ("audit",) and rest in ("force", "--force")):
        return first, rest
    for pattern, intent in PHRASES:
        if re.fullmatch(pattern, folded) or (
            intent == "why" and re.fullmatch(pattern, message.lower().strip())
        ):
            return intent, ""
    return None


LEARNING = re.compile(
    r"^(i want to|i'?d like to|i need to|how (do|can|should|would) i|teach me|help me|where (do|can|should) i"
    r"|what'?s the best way to|what is the best way to|best (way|resources?|courses?) (to|for)|any (good )?"
    r"(courses?|resources?|books?) (on|for|about)|(recommend|suggest)( me)? (a |some )?(courses?|resources?|books?)"
    r"|learn|study|get better at|improve (my )?"
    # "what should I learn for kubernetes?", "which courses for MLOps?"
    r"|what (should|shall|do|can|would) i (learn|study|read|take|focus on) (for|about|on|to|in)"
    r"|which (courses?|books?|resources?|tutorials?) (should|would|do|for|on|about|to))\b",
    re.IGNORECASE,
)


def looks_like_learning_question(text: str) -> bool:
    """Free text asking how to learn or do something ("I want to deploy models with Docker")."""
    return bool(LEARNING.search(clean(text)))
