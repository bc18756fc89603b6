"""Reading commit messages: is it a fix, which tickets it closes, which commits it declares."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field

logger = logging.getLogger(__name__)

__all__ = ["MessageFacts", "TicketRef", "read_message"]

_FIX_WORDS = re.compile(
    r"\b(fix(e[sd]|ing)?|bug(s|fix(es)?)?|hotfix(es)?|crash(es|ed|ing)?|regressions?|"
    r"defects?|faults?|broken|segfaults?|panics?|leaks?|deadlocks?|race conditions?)\b",
    re.IGNORECASE,
)
# "Fix typo", "fix docs", "Fixed formatting": fix words about text, not behaviour (unless a
# real failure is named too, e.g. "Fix crash when a docstring is empty").
_TRIVIAL_FIX = re.compile(
    r"\b(typos?|spelling|misspell\w*|grammar|wording|docs?|documentation|docstrings?|readme|"
    r"changelog|comments?|formatting|whitespace|lint(ing|er)?|indentation)\b",
    re.IGNORECASE,
)
_REAL_FAILURE = re.compile(
    r"\b(crash(es|ed|ing)?|regressions?|segfaults?|panics?|leaks?|deadlocks?|exceptions?|"
    r"errors?|race conditions?|hangs?)\b",
    re.IGNORECASE,
)
_CLOSE = r"(?:fix(?:e[sd])?|close[sd]?|resolve[sd]?)"
# "Fixes #12", "closes org/repo#7", "Resolves: #3, #4"
_GITHUB_REF = re.compile(
    _CLOSE + r":?\s+((?:[\w.-]+/[\w.-]+)?#\d+(?:\s*(?:,|and)\s*(?:[\w.-]+/[\w.-]+)?#\d+)*)",
    re.IGNORECASE,
)
_ONE_GH = re.compile(r"(?:([\w.-]+/[\w.-]+))?#(\d+)")
_JIRA_KEY = re.compile(r"\b([A-Z][A-Z0-9]{1,9}-\d+)\b")
_NOT_JIRA = {"UTF", "SHA", "ISO", "RFC", "CVE", "GPL", "LGPL", "PEP", "X11", "MD5", "TLS", "SSL"}
# A trailer line: "Fixes: 1234abcd (\"subject\")" declares the commit a fix repairs.
_SHA_TRAILER = re.compile(
    r"^\s*(?:fixes|fix-for|introduced-by|regressed-by)\s*:\s*(?:commit\s+)?([0-9a-f]{7,40})\b",
    re.IGNORECASE | re.MULTILINE,
)
_TICKET_TRAILER = re.compile(
    r"^\s*(?:fixes|closes|resolves|bug|issue)\s*:\s*(.+)$", re.IGNORECASE | re.MULTILINE
)
_LEADING_SHA = re.compile(r"[0-9a-f]{7,40}\b")


@dataclass(frozen=True)
class TicketRef:
    """A ticket named by a commit message and how it was named."""

    system: str
    key: str
    how: str

    @property
    def uid(self) -> str:
        return f"ticket:{self.system}:{self.key}"


@dataclass
class MessageFacts:
    """What one message says."""

    is_fix: bool = False
    fix_keyword: bool = False
    tickets: list[TicketRef] = field(default_factory=list)
    fixed_shas: list[str] = field(default_factory=list)


def _github_key(repo: str | None, number: str) -> str:
    return f"{repo}#{number}" if repo else number


def _ticket_refs(message: str) -> list[TicketRef]:
    refs: dict[str, TicketRef] = {}
    for line in _TICKET_TRAILER.finditer(message):
        if _LEADING_SHA.match(line.group(1)):
            continue  # "Fixes: <sha> (subject)" names a commit, not a ticket
        for m in _ONE_GH.finditer(line.group(1)):
            ref = TicketRef("github", _github_key(m.group(1), m.group(2)), "trailer")
            refs.setdefault(ref.uid, ref)
    for m in _GITHUB_REF.finditer(message):
        for one in _ONE_GH.finditer(m.group(1)):
            ref = TicketRef("github", _github_key(one.group(1), one.group(2)), "keyword")
            refs.setdefault(ref.uid, ref)
    for m in _JIRA_KEY.finditer(message):
        key = m.group(1)
        project = key.split("-", 1)[0]
        if project in _NOT_JIRA or project.isdigit():
            continue
        ref = TicketRef("jira", key, "ticket_link")
        refs.setdefault(ref.uid, ref)
    return list(refs.values())


def read_message(message: str) -> MessageFacts:
    """Fix keywords, closed tickets (GitHub `#N`, `org/repo#N`, Jira keys) and `Fixes: <sha>`.

    A commit counts as a fix when its message has a fix keyword, closes a ticket with a
    closing keyword, or declares the commit it fixes in a trailer. A bare Jira key links the
    commit to its ticket but does not make it a fix, and neither does a fix keyword whose
    summary line is about text ("Fix typo", "fix docs", "Fixed formatting") and names no
    failure.
    """
    facts = MessageFacts()
    facts.fixed_shas = [m.group(1).lower() for m in _SHA_TRAILER.finditer(message)]
    facts.tickets = _ticket_refs(message)
    summary = message.strip().split("\n", 1)[0]
    trivial = bool(_TRIVIAL_FIX.search(summary)) and not _REAL_FAILURE.search(summary)
    facts.fix_keyword = bool(_FIX_WORDS.search(message)) and not trivial
    closes = any(t.how in ("keyword", "trailer") for t in facts.tickets)
    facts.is_fix = facts.fix_keyword or closes or bool(facts.fixed_shas)
    return facts
