"""Text as a reader sees it, for every check that compares or screens what people type:
NFKC, no invisible characters, look-alike letters read as the Latin ones they imitate."""

from __future__ import annotations

import unicodedata

# Look-alike letters (Cyrillic, Greek) read as the Latin ones they imitate.
CONFUSABLES = str.maketrans(
    "аеорсухіјѕԁɡһӏոԛԝАВЕКМНОРСТХІЈЅαεορτυνκΑΒΕΗΙΚΜΝΟΡΤΥΧ",
    "aeopcyxijsdghlnqwABEKMHOPCTXIJSaeoptuvkABEHIKMNOPTYX",
)


# ASCII has no format, surrogate or private-use characters, and NFKC leaves it as it is.
_ASCII_CONTROLS = dict.fromkeys(
    c for c in range(128) if chr(c) not in "\n\t" and (c < 32 or c == 127)
)


def normalise(text: str) -> str:
    """NFKC, without format characters (zero-width, bidi, soft hyphen) or controls other
    than line breaks and tabs: what a reader sees is what the patterns see."""
    if text.isascii():  # most messages: the same result without a look-up per character
        return text.translate(_ASCII_CONTROLS)
    text = unicodedata.normalize("NFKC", text)
    return "".join(
        c for c in text
        if c in "\n\t" or unicodedata.category(c) not in ("Cf", "Cc", "Cs", "Co")
    )  # fmt: skip


def skeleton(text: str) -> str:
    """`text` folded for comparison: normalised, look-alikes read as Latin, case and
    runs of whitespace ignored."""
    return " ".join(normalise(text).translate(CONFUSABLES).casefold().split())
