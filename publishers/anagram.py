"""Anagram: spells the end of a phone number with words from the phone keypad.

+18778894546 ends in 894546, which the keypad letters spell TWILIO, so one answer is
"+18778TWILIO". Longer spelled endings come first, since they are the memorable ones.
"""

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from itertools import product
from pathlib import Path
from typing import Any

import phonenumbers

from publishers.inputs import PublisherError, parse_bool, parse_choice, parse_e164, parse_int, parse_word_list

WORDS_FILE = Path(__file__).with_name("words.txt")
MAX_RESULTS = 20
LETTER_CASES = ("upper", "lower")

_KEYPAD_LETTERS = {
    "2": "abc",
    "3": "def",
    "4": "ghi",
    "5": "jkl",
    "6": "mno",
    "7": "pqrs",
    "8": "tuv",
    "9": "wxyz",
}
_DIGIT_OF_LETTER = {letter: digit for digit, letters in _KEYPAD_LETTERS.items() for letter in letters}


@dataclass(frozen=True)
class AnagramOptions:
    min_word_length: int = 3
    allow_two_words: bool = True
    letter_case: str = "upper"
    excluded_words: frozenset[str] = frozenset()
    max_results: int = MAX_RESULTS


class KeypadDictionary:
    """Words indexed by the digits that dial them ("call" and "ball" both under "2255")."""

    def __init__(self, words: Iterable[str]):
        by_digits: dict[str, list[str]] = {}
        for word in words:
            word = word.strip().lower()
            if word and not word.startswith("#") and word.isalpha() and word.isascii():
                by_digits.setdefault(keypad_digits(word), []).append(word)
        self._by_digits = {digits: tuple(sorted(set(found))) for digits, found in by_digits.items()}

    def words_for(self, digits: str) -> tuple[str, ...]:
        return self._by_digits.get(digits, ())


def keypad_digits(word: str) -> str:
    return "".join(_DIGIT_OF_LETTER[letter] for letter in word.lower())


@cache
def bundled_dictionary() -> KeypadDictionary:
    return KeypadDictionary(WORDS_FILE.read_text(encoding="utf-8").splitlines())


def word_sequences(digits: str, dictionary: KeypadDictionary, options: AnagramOptions) -> Iterator[tuple[str, ...]]:
    """Every way to spell all of `digits`: single words first, then pairs of words."""

    def usable(words: tuple[str, ...]) -> list[str]:
        return [word for word in words if word not in options.excluded_words]

    for word in usable(dictionary.words_for(digits)):
        yield (word,)
    if not options.allow_two_words:
        return
    for split in range(options.min_word_length, len(digits) - options.min_word_length + 1):
        firsts = usable(dictionary.words_for(digits[:split]))
        seconds = usable(dictionary.words_for(digits[split:])) if firsts else []
        yield from product(firsts, seconds)


def spell_number(
    e164: str, options: AnagramOptions = AnagramOptions(), dictionary: KeypadDictionary | None = None
) -> list[str]:
    """The number re-spelled with words for its longest spellable endings, at most max_results."""
    number = parse_phone_number(e164)
    dictionary = dictionary or bundled_dictionary()
    national = phonenumbers.national_significant_number(number)
    prefix = f"+{number.country_code}"
    spellings: list[str] = []
    for length in range(len(national), options.min_word_length - 1, -1):
        head, tail = national[:-length], national[-length:]
        # 0 and 1 carry no letters, so a tail holding one cannot be spelled.
        if "0" in tail or "1" in tail:
            continue
        for words in word_sequences(tail, dictionary, options):
            spelled = "".join(words)
            spelled = spelled.upper() if options.letter_case == "upper" else spelled.lower()
            spellings.append(f"{prefix}{head}{spelled}")
            if len(spellings) >= options.max_results:
                return spellings
    return spellings


def parse_phone_number(e164: Any) -> phonenumbers.PhoneNumber:
    text = parse_e164(e164, name="e164")
    try:
        number = phonenumbers.parse(text, None)
    except phonenumbers.NumberParseException as error:
        raise PublisherError("invalid_number", f"e164 is not a phone number: {error}") from None
    # Spelling does not need the number to be assigned, only to have a plausible length.
    if not phonenumbers.is_possible_number(number):
        raise PublisherError("invalid_number", f"e164 {text} has an impossible length for its country")
    return number


def options_from_params(params: Mapping[str, Any]) -> AnagramOptions:
    return AnagramOptions(
        min_word_length=parse_int(params.get("min_length"), name="min_length", default=3, minimum=2, maximum=10),
        allow_two_words=parse_bool(params.get("two_words"), name="two_words", default=True),
        letter_case=parse_choice(params.get("case"), name="case", default="upper", choices=LETTER_CASES),
        excluded_words=parse_word_list(params.get("exclude"), name="exclude"),
    )


def handle_request(params: Mapping[str, Any]) -> dict:
    """The service's answer to its request parameters (e164, min_length, two_words, case, exclude)."""
    number = parse_phone_number(params.get("e164"))
    options = options_from_params(params)
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    return {"anagrams": spell_number(e164, options), "e164": e164}
