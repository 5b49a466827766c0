"""Sentiment: scores an incoming message with a small word lexicon.

Each lexicon word carries a weight (+1..+3 or -1..-3). A negator ("not", "never", "don't")
flips the weight of the lexicon words in the next few words of its clause, so "not good" counts
as negative and "no problem" as positive. The weights' sum is squashed into [-1, 1].
"""

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from publishers.inputs import PublisherError, is_blank, parse_bool, parse_choice, parse_float, parse_word_list

GENERAL_LEXICON: dict[str, int] = {
    # positive
    "amazing": 3,
    "awesome": 3,
    "beautiful": 2,
    "best": 3,
    "brilliant": 3,
    "calm": 1,
    "cheerful": 2,
    "clean": 1,
    "cool": 1,
    "delighted": 3,
    "easy": 1,
    "enjoy": 2,
    "enjoyed": 2,
    "excellent": 3,
    "excited": 2,
    "fabulous": 3,
    "fantastic": 3,
    "fast": 1,
    "fine": 1,
    "fun": 2,
    "glad": 2,
    "good": 2,
    "grateful": 2,
    "great": 3,
    "happy": 2,
    "helpful": 2,
    "kind": 2,
    "like": 1,
    "liked": 1,
    "love": 3,
    "loved": 3,
    "lovely": 3,
    "nice": 2,
    "ok": 1,
    "okay": 1,
    "perfect": 3,
    "pleasant": 2,
    "pleased": 2,
    "polite": 1,
    "quick": 1,
    "recommend": 2,
    "reliable": 2,
    "satisfied": 2,
    "smooth": 1,
    "superb": 3,
    "thank": 2,
    "thanks": 2,
    "useful": 2,
    "welcome": 1,
    "wonderful": 3,
    "works": 1,
    "yay": 2,
    # negative
    "angry": -3,
    "annoyed": -2,
    "annoying": -2,
    "awful": -3,
    "bad": -2,
    "boring": -2,
    "broken": -2,
    "bug": -1,
    "complain": -2,
    "complaint": -2,
    "confused": -1,
    "confusing": -2,
    "crash": -2,
    "crashed": -2,
    "dead": -2,
    "delay": -1,
    "delayed": -1,
    "difficult": -1,
    "disappointed": -2,
    "disappointing": -2,
    "dislike": -2,
    "dirty": -2,
    "error": -1,
    "fail": -2,
    "failed": -2,
    "failure": -2,
    "fraud": -3,
    "frustrated": -2,
    "hate": -3,
    "hated": -3,
    "horrible": -3,
    "late": -1,
    "lost": -1,
    "mess": -2,
    "missing": -1,
    "poor": -2,
    "problem": -2,
    "problems": -2,
    "rude": -2,
    "sad": -2,
    "scam": -3,
    "slow": -1,
    "sorry": -1,
    "spam": -2,
    "stupid": -2,
    "terrible": -3,
    "ugly": -2,
    "unhappy": -2,
    "upset": -2,
    "useless": -3,
    "worse": -2,
    "worst": -3,
    "wrong": -2,
}

# Words that matter when messages are customer-support traffic rather than chat.
CUSTOMER_SUPPORT_LEXICON: dict[str, int] = {
    **GENERAL_LEXICON,
    "cancel": -2,
    "charged": -1,
    "escalate": -2,
    "outage": -3,
    "overcharged": -3,
    "refund": -2,
    "resolved": 2,
    "solved": 2,
    "fixed": 2,
    "unsubscribe": -2,
    "waiting": -1,
}

LEXICONS = {"general": GENERAL_LEXICON, "customer_support": CUSTOMER_SUPPORT_LEXICON}
EXTRA_NEGATIVE_WEIGHT = -2
NEGATORS = frozenset(
    {
        "not",
        "no",
        "never",
        "none",
        "nobody",
        "nothing",
        "neither",
        "nor",
        "without",
        "hardly",
        "barely",
        "cannot",
        "cant",
        "dont",
        "doesnt",
        "didnt",
        "isnt",
        "wasnt",
        "wont",
        "aint",
    }
)
# How many words after a negator it still reaches ("not very good" is negated).
NEGATION_REACH = 3
# VADER's normalisation constant: one strong word (+3) scores 0.61, not 1.0.
NORMALISATION_ALPHA = 15
_TOKEN = re.compile(r"[a-z0-9]+(?:'[a-z]+)*|[.!?;:,]")
_CLAUSE_BREAKS = frozenset({".", "!", "?", ";", ":", ",", "but"})


@dataclass(frozen=True)
class SentimentOptions:
    lexicon: str = "general"
    handle_negation: bool = True
    # Scores closer to 0 than this are neutral.
    neutral_band: float = 0.05
    extra_negative_words: frozenset[str] = frozenset()


@dataclass(frozen=True)
class SentimentResult:
    sentiment: str
    score: float
    positive: list[str] = field(default_factory=list)
    negative: list[str] = field(default_factory=list)

    def as_payload(self) -> dict:
        return {
            "sentiment": self.sentiment,
            "score": self.score,
            "matched": {"positive": self.positive, "negative": self.negative},
        }


def tokenize(text: str) -> list[str]:
    return _TOKEN.findall(text.lower().replace("\u2019", "'"))


def is_negator(token: str) -> bool:
    return token in NEGATORS or token.endswith("n't")


def analyse(text: str, options: SentimentOptions = SentimentOptions()) -> SentimentResult:
    weights = dict(LEXICONS[options.lexicon])
    weights.update(dict.fromkeys(options.extra_negative_words, EXTRA_NEGATIVE_WEIGHT))
    tokens = tokenize(text)
    total = 0
    positive: list[str] = []
    negative: list[str] = []
    negator_at: int | None = None
    for index, token in enumerate(tokens):
        if token in _CLAUSE_BREAKS:
            negator_at = None
            continue
        if options.handle_negation and is_negator(token):
            negator_at = index
            continue
        weight = weights.get(token)
        if weight is None:
            continue
        phrase = token
        if negator_at is not None and index - negator_at <= NEGATION_REACH:
            weight = -weight
            phrase = " ".join(tokens[negator_at : index + 1])
        total += weight
        (positive if weight > 0 else negative).append(phrase)
    score = round(total / math.sqrt(total * total + NORMALISATION_ALPHA), 4)
    if score >= options.neutral_band and score > 0:
        sentiment = "positive"
    elif score <= -options.neutral_band and score < 0:
        sentiment = "negative"
    else:
        sentiment = "neutral"
    return SentimentResult(sentiment=sentiment, score=score, positive=positive, negative=negative)


def options_from_params(params: Mapping[str, Any]) -> SentimentOptions:
    return SentimentOptions(
        lexicon=parse_choice(params.get("lexicon"), name="lexicon", default="general", choices=LEXICONS),
        handle_negation=parse_bool(params.get("negation"), name="negation", default=True),
        neutral_band=parse_float(
            params.get("neutral_band"), name="neutral_band", default=0.05, minimum=0.0, maximum=1.0
        ),
        extra_negative_words=parse_word_list(params.get("extra_negative"), name="extra_negative"),
    )


def handle_request(document: Any) -> dict:
    """The service's answer to its JSON request ({"body", "from", "to"} plus options)."""
    if not isinstance(document, dict):
        raise PublisherError("invalid_request", "the request body must be a JSON object")
    body = document.get("body")
    if is_blank(body):
        raise PublisherError("missing_body", "body is required: the text of the message to analyse")
    if not isinstance(body, str):
        raise PublisherError("invalid_request", "body must be a string")
    return analyse(body, options_from_params(document)).as_payload()
