"""Guardrails applied before any text leaves the service: personal data is redacted (the
provider, the logs and the traces only ever see the redacted text) and obvious prompt
injections are caught and counted.

Patterns are deliberately conservative for a trading desk: notionals ("25,000,000",
"25mm"), tenors and dates must survive redaction, so account numbers are matched only
next to words that announce them, and IBANs only when their checksum holds.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

# Every repetition is bounded (RFC lengths, the longest phone number): on hostile input
# such as 100k "(" a pattern then scans a few dozen characters per position, not the rest
# of the text (quadratic time).
EMAIL = re.compile(
    r"(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9.-]{1,253}\.[A-Za-z]{2,24}"
)
IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?:[ ]?[A-Z0-9]){11,30}\b")
ACCOUNT = re.compile(
    r"(?i)\b(?:account|acct|a/c)(?:\s*(?:no\.?|number|nr\.?|#))?\s*[:#]?\s*(\d[\d -]{5,30}\d)"
)
# An international or national phone number: a leading + or 0 or (, at least 9 digits.
PHONE = re.compile(r"(?<![\w.])(?:\+|00|0|\()[\d() .-]{7,24}\d(?![\w.])")
INJECTION = re.compile(
    r"(?i)(ignore|disregard|forget)\s+(all\s+|any\s+)?(the\s+)?(previous|prior|above|your)\s+"
    r"(instructions|rules|prompt)|system\s+prompt|you\s+are\s+now\b|developer\s+mode"
)


def _iban_valid(candidate: str) -> bool:
    compact = candidate.replace(" ", "")
    rearranged = compact[4:] + compact[:4]
    digits = "".join(str(int(char, 36)) for char in rearranged)
    return len(compact) >= 15 and int(digits) % 97 == 1


@dataclass
class Redaction:
    text: str
    found: Counter[str] = field(default_factory=Counter)

    @property
    def kinds(self) -> list[str]:
        return sorted(self.found)


def redact(text: str) -> Redaction:
    """The text with personal data replaced by [EMAIL], [IBAN], [ACCOUNT] and [PHONE]."""
    found: Counter[str] = Counter()

    def email(match: re.Match[str]) -> str:
        found["EMAIL"] += 1
        return "[EMAIL]"

    def iban(match: re.Match[str]) -> str:
        if not _iban_valid(match.group(0)):
            return match.group(0)
        found["IBAN"] += 1
        return "[IBAN]"

    def account(match: re.Match[str]) -> str:
        found["ACCOUNT"] += 1
        start, end = match.span(1)
        whole = match.group(0)
        offset = match.start(0)
        return whole[: start - offset] + "[ACCOUNT]" + whole[end - offset :]

    def phone(match: re.Match[str]) -> str:
        if sum(char.isdigit() for char in match.group(0)) < 9:
            return match.group(0)
        found["PHONE"] += 1
        return "[PHONE]"

    text = EMAIL.sub(email, text)
    text = IBAN.sub(iban, text)
    text = ACCOUNT.sub(account, text)
    text = PHONE.sub(phone, text)
    return Redaction(text, found)


def looks_like_injection(text: str) -> bool:
    """A cheap screen for the common phrasings; the prompt's own rule handles the rest."""
    return INJECTION.search(text) is not None
