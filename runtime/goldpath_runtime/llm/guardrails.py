"""Guardrails applied before any text leaves the service: text is normalised, personal
data is found by well-kept libraries and redacted (the provider, the logs and the traces
only ever see the redacted text), and prompt injections are screened.

- Phone numbers: Google's libphonenumber (`phonenumbers`), for the desk's regions, in any
  format its people write (international, national, with extensions).
- IBANs: `schwifty`'s registry gives each country's length; a candidate in any common
  print form (spaces, dashes, dots, lower case) is read to exactly that length and kept
  only when its checksum and national format hold, so a following currency code or
  number never spoils the match, and an ISIN (another checksum) is never taken for one.
- E-mail addresses, internationalised ones included; account numbers announced by a word
  in the desk's languages.

Text is NFKC-normalised first (a full-width at sign, a non-breaking space and look-alike
digits become what they look like) and stripped of zero-width and bidirectional controls,
so no invisible character splits a number or a phrase past the patterns. Notionals
("25mm", "(250 000 000)"), ISINs, tenors and dates survive.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import phonenumbers
from schwifty import IBAN, registry
from schwifty.exceptions import SchwiftyException

from ..text import normalise, skeleton

DEFAULT_REGIONS = ("GB", "US", "DE", "FR", "IT", "ES", "NL", "CH", "IE", "LU")
SUPPORTED_REGIONS = frozenset(phonenumbers.SUPPORTED_REGIONS)

# Every repetition is bounded (RFC lengths): on hostile input such as 100k "(" a pattern
# scans a few dozen characters per position, not the rest of the text (quadratic time).
_NOT_IN_ADDRESS = r"\s@<>()\[\],;:\"'"
EMAIL = re.compile(
    rf"(?<![^{_NOT_IN_ADDRESS}])[^{_NOT_IN_ADDRESS}]{{1,64}}@"
    rf"[^{_NOT_IN_ADDRESS}./\\]{{1,63}}(?:\.[^{_NOT_IN_ADDRESS}./\\]{{1,63}}){{1,8}}"
)
# Where an IBAN may start: a country code and two check digits, not inside a word.
IBAN_START = re.compile(r"(?<![A-Za-z0-9])[A-Za-z]{2}\d{2}(?=[ .\-]?[A-Za-z0-9])")
IBAN_SEPARATORS = " .-"
ACCOUNT_WORDS = (
    r"account(?:\s+(?:no\.?|number|nr\.?|#))?|acct\.?|a/c|"  # English
    r"konto(?:nummer|nr\.?)?|kontonr\.?|"  # German, Dutch, Scandinavian
    r"compte(?:\s+(?:n°|no\.?|numéro))?|numéro\s+de\s+compte|"  # French
    r"conto(?:\s+(?:n\.?|numero))?|numero\s+di\s+conto|"  # Italian
    r"cuenta(?:\s+(?:n[º°o]\.?|número))?|número\s+de\s+cuenta|"  # Spanish
    r"rekening(?:nummer)?"  # Dutch
)
ACCOUNT = re.compile(rf"(?i)\b(?:{ACCOUNT_WORDS})\s*[:#]?\s*(\d[\d \-/]{{4,30}}\d)")


@dataclass
class Redaction:
    text: str
    found: Counter[str] = field(default_factory=Counter)

    @property
    def kinds(self) -> list[str]:
        return sorted(self.found)


def _iban_spans(text: str) -> Iterable[tuple[int, int]]:
    """Spans of valid IBANs: from each start, exactly the country's length of letters and
    digits (separators between them allowed), validated by schwifty."""
    for start in IBAN_START.finditer(text):
        country = start.group(0)[:2].upper()
        try:
            length = registry.get_iban_spec(country).iban_length
        except SchwiftyException:
            continue
        compact, end = [], start.start()
        for end in range(start.start(), min(len(text), start.start() + 2 * length)):
            char = text[end]
            if char.isascii() and char.isalnum():
                compact.append(char)
                if len(compact) == length:
                    break
            elif char not in IBAN_SEPARATORS or not compact:
                break
        if len(compact) != length:
            continue
        try:
            IBAN("".join(compact).upper())
        except (SchwiftyException, ValueError):
            continue
        yield start.start(), end + 1


# A number phonenumbers finds possible but not valid for a region is still taken when it
# is written as people write phone numbers: with an international prefix, an area code in
# brackets, or a leading 0 and ten digits or more.
_PHONE_SHAPED = re.compile(r"^(?:\+|00[1-9]|\(\d{2,5}\)|0(?=(?:\D*\d){9}))")
# What the desk writes that phonenumbers can take for a national number: dates, and
# amounts in thousands ("250 000 000", "(25,000,000)").
_DATE = re.compile(r"^\(?(?:\d{4}[-./]\d{1,2}[-./]\d{1,2}|\d{1,2}[-./]\d{1,2}[-./]\d{2,4})\)?$")
_AMOUNT = re.compile(r"^\(?\d{1,3}(?:[ ,.'\u2019]\d{3})*[ ,.'\u2019]000\)?$")


def _phone_spans(text: str, regions: Sequence[str]) -> Iterable[tuple[int, int]]:
    if sum(map(str.isdigit, text)) < 7:
        # No match can hold the seven digits `_matched_phone_spans` asks of one: the
        # matcher, once per region, was a fifth of the service's CPU per request.
        return ()
    return _matched_phone_spans(text, regions)


def _matched_phone_spans(text: str, regions: Sequence[str]) -> Iterable[tuple[int, int]]:
    for region in regions:
        for match in phonenumbers.PhoneNumberMatcher(
            text, region, leniency=phonenumbers.Leniency.POSSIBLE, max_tries=10_000
        ):
            raw = match.raw_string
            before = text[match.start - 1 : match.start]
            after = text[match.end : match.end + 1]
            if before.isalnum() or after.isalnum() or _DATE.match(raw) or _AMOUNT.match(raw):
                continue  # inside a word (an ISIN, a reference), a date, an amount
            digits = sum(c.isdigit() for c in raw)
            if digits < 7:
                continue
            if phonenumbers.is_valid_number(match.number) or _PHONE_SHAPED.match(raw):
                yield match.start, match.end


def _replace(text: str, spans: Iterable[tuple[int, int]], label: str, found: Counter[str]) -> str:
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start < merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    for start, end in reversed(merged):
        # Never re-redact a placeholder; but an address that merely holds the label's
        # word (JOHN.EMAIL@bank.example) is personal data like any other.
        if text[start:end] != f"[{label}]":
            text = text[:start] + f"[{label}]" + text[end:]
            found[label] += 1
    return text


def redact(text: str, regions: Sequence[str] = DEFAULT_REGIONS) -> Redaction:
    """The normalised text with personal data replaced by [EMAIL], [IBAN], [ACCOUNT] and
    [PHONE]; `regions` are the desk's (ISO 3166 codes) for national phone formats."""
    found: Counter[str] = Counter()
    text = normalise(text)
    text = _replace(text, (m.span() for m in EMAIL.finditer(text)), "EMAIL", found)
    text = _replace(text, _iban_spans(text), "IBAN", found)
    text = _replace(text, (m.span(1) for m in ACCOUNT.finditer(text)), "ACCOUNT", found)
    text = _replace(text, _phone_spans(text, regions), "PHONE", found)
    return Redaction(text, found)


_VERB = r"(ignore|disregard|forget|override|bypass)"
INJECTION = re.compile(
    rf"{_VERB}\s+(all\s+|any\s+|every\s+)?(of\s+)?(the\s+|your\s+|my\s+|these\s+)?"
    r"((previous|prior|above|earlier|preceding|system|original|initial)\s+)?"
    r"(instructions?|rules|prompts?|directions|guidelines|messages|context|commands)\b"
    rf"|{_VERB}\s+(all\s+)?(of\s+)?(the\s+)?(above|everything)\b"
    r"|system\s+prompt|you\s+are\s+now\b|developer\s+mode|jailbreak|new\s+instructions?\s*:"
    # French, German, Spanish, Italian, Dutch: "ignore the previous instructions"
    r"|ignore[rz]?\s+(les|toutes\s+les)\s+instructions|ignoriere?\s+(alle\s+)?(vorherigen|obigen)"
    r"|ignora(r)?\s+(las|todas\s+las|le|tutte\s+le)\s+(instrucciones|istruzioni)"
    r"|negeer\s+(alle\s+)?(vorige|eerdere)\s+instructies"
)
_BASE64 = re.compile(r"[A-Za-z0-9+/]{16,}={0,2}")


def _screen_text(text: str) -> str:
    return skeleton(text)


def looks_like_injection(text: str) -> bool:
    """The screen for instructions aimed at the model rather than the desk: common
    phrasings in the desk's languages, after normalisation (no zero-width splits, no
    look-alike letters), and inside base64 payloads."""
    screened = _screen_text(text)
    if INJECTION.search(screened):
        return True
    for token in _BASE64.findall(normalise(text))[:20]:
        try:
            decoded = base64.b64decode(token + "=" * (-len(token) % 4), validate=True)
        except (binascii.Error, ValueError):
            continue
        if INJECTION.search(_screen_text(decoded.decode("utf-8", "ignore"))):
            return True
    return False


def has_content(text: str) -> bool:
    """Whether anything is left to send once invisible characters are gone."""
    return any(c.isalnum() for c in normalise(text))
