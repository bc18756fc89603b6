"""The read-only query guard: what a read may be, checked on the text before any backend sees it.

Backend-independent. Every store's `query()` calls `check_query` first; the backend then
runs the text in a read-only transaction or mode. The guard refuses:

- text over `QueryLimits.max_chars`, nested deeper than `QueryLimits.max_depth` brackets,
  parentheses, braces or CASE expressions, or with more than `QueryLimits.max_pattern_rels`
  relationship patterns, 400 `query_limit`. Ladybug parses recursively and compiles before
  any timeout applies: deep nesting segfaults the process, and compile time grows
  superlinearly with nesting and pattern size. The limits keep a wide margin below what
  bench/query_guard.py measured (docs/security.md);
- more than one statement, write, DDL and transaction keywords, 403 `read_only`;
- any `CALL` but the read-only table functions the backend allows, and every
  `CALL name = value` (a database setting), 403 `read_only`.

Strings, backquoted names and comments are skipped by one linear scan (no backtracking
regular expression sees untrusted text of unbounded length).
"""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from graph_service.errors import QueryLimitError, ReadOnlyViolation

logger = logging.getLogger(__name__)

__all__ = [
    "LADYBUG_READ_CALLS",
    "NEO4J_READ_CALLS",
    "QueryLimits",
    "Scanned",
    "bound_rows",
    "check_query",
    "check_read_only_text",
    "scan",
]

# Ladybug table functions a reader may CALL: catalog and version only. Everything else
# (settings, projected graphs, file readers, extension functions, current_setting with its
# server paths) stays out; a function is added here only after checking it changes nothing.
LADYBUG_READ_CALLS = frozenset(
    {
        "show_tables",
        "table_info",
        "show_connection",
        "show_indexes",
        "show_sequences",
        "show_functions",
        "db_version",
    }
)


# Neo4j procedures a reader may CALL (lower case; compared case-insensitively): the catalogue
# and index searches. The READ session and the EXPLAIN check refuse writes besides; this list
# keeps dbms.* and every other procedure out of a reader's reach.
NEO4J_READ_CALLS = frozenset(
    {
        "db.labels",
        "db.relationshiptypes",
        "db.propertykeys",
        "db.schema.visualization",
        "db.schema.nodetypeproperties",
        "db.schema.reltypeproperties",
        "db.index.vector.querynodes",
        "db.index.fulltext.querynodes",
        "db.index.fulltext.queryrelationships",
    }
)


@dataclass(frozen=True)
class QueryLimits:
    """Limits on one read: text size and nesting (before parsing), result size (after)."""

    max_chars: int = 8_192
    max_depth: int = 12
    max_result_bytes: int = 32 * 1024 * 1024
    max_pattern_rels: int = 12


@dataclass(frozen=True)
class Scanned:
    """`code`: the text with strings, backquoted names and comments blanked (same length,
    newlines kept); `top`: `code` with everything inside brackets blanked too; `depth`: the
    deepest nesting of (), [] and {}."""

    code: str
    top: str
    depth: int


# what each closer closes; CASE ... END nests like brackets (and its compile time grows faster)
_OPENER_OF = {")": "(", "]": "[", "}": "{", "END": "CASE"}
_OPENERS = frozenset(_OPENER_OF.values())
# the next thing that starts something the scan must look at
_INTERESTING = re.compile(
    r"['\"`()\[\]{}]|//|/\*|(?<![.$:\w])(?:CASE|END)\b", re.IGNORECASE
)


_NOT_NEWLINE = re.compile(r"[^\n]")
# the rest of a string literal after its opening quote; possessive, so an unterminated
# literal costs one pass, never backtracking
_STRING_REST = {
    "'": re.compile(r"(?:[^'\\]++|\\.)*+'", re.DOTALL),
    '"': re.compile(r'(?:[^"\\]++|\\.)*+"', re.DOTALL),
}


def _blank(text: str) -> str:
    return _NOT_NEWLINE.sub(" ", text)


def _string_end(text: str, start: int) -> int:
    """Index after the string literal opened at `start` (the text's end when unterminated)."""
    m = _STRING_REST[text[start]].match(text, start + 1)
    return m.end() if m else len(text)


def scan(cypher: str) -> Scanned:
    """Blank strings and comments and measure nesting, in one pass linear in the text.

    A closer only closes its own kind of opener (`]` a `[`, END a CASE): a stray or
    mismatched one never lowers the depth, so the count errs on the deep side.
    """
    code: list[str] = []
    top: list[str] = []
    stack: list[str] = []
    depth = deepest = 0
    pos, n = 0, len(cypher)
    while pos < n:
        m = _INTERESTING.search(cypher, pos)
        end = m.start() if m else n
        plain = cypher[pos:end]
        code.append(plain)
        top.append(plain if depth == 0 else _blank(plain))
        if m is None:
            break
        tok = m.group()
        if tok in ("'", '"'):
            stop = _string_end(cypher, end)
        elif tok == "`":
            close = cypher.find("`", end + 1)
            stop = n if close < 0 else close + 1
        elif tok == "//":
            close = cypher.find("\n", end)
            stop = n if close < 0 else close
        elif tok == "/*":
            close = cypher.find("*/", end + 2)
            stop = n if close < 0 else close + 2
        else:
            word = tok.upper()
            if word in _OPENERS:
                top.append(tok if depth == 0 else _blank(tok))
                stack.append(word)
                depth = len(stack)
                deepest = max(deepest, depth)
            else:
                if stack and stack[-1] == _OPENER_OF[word]:
                    stack.pop()
                depth = len(stack)
                top.append(tok if depth == 0 else _blank(tok))
            code.append(tok)
            pos = end + len(tok)
            continue
        blank = _blank(cypher[end:stop])
        code.append(blank)
        top.append(blank)
        pos = stop
    return Scanned("".join(code), "".join(top), deepest)


_WRITE_WORDS = re.compile(
    r"(?<![:.$\w])(?<!:\s)(CREATE|MERGE|SET|DELETE|DETACH|REMOVE|DROP|ALTER|COPY|LOAD|INSTALL|"
    r"UNINSTALL|ATTACH|EXPORT|IMPORT|CHECKPOINT|BEGIN|COMMIT|ROLLBACK|USE|FOREACH|COMMENT)\b"
    r"(?!\s*:)",
    re.IGNORECASE,
)
# a relationship pattern starts right after a node pattern: `)-[`, `)<-[`, `)-->`, `)--(`
_REL_PATTERN = re.compile(r"\)\s*<?-\s*[\[>-]")
_CALL = re.compile(r"(?<![:.$\w])CALL\b(?!\s*[:.])", re.IGNORECASE)
_CALL_TARGET = re.compile(r"\s*([A-Za-z_][\w.]*)\s*(\(|=)?")


def check_read_only_text(cypher: str) -> None:
    """Refuse text with a write or transaction keyword outside strings and comments, or more
    than one statement. No size or nesting limit: `check_query` is the full guard."""
    _check_words(scan(cypher).code)


def _check_words(code: str) -> None:
    stripped = code.strip().rstrip(";")
    if ";" in stripped:
        raise ReadOnlyViolation("only one statement per query is allowed")
    m = _WRITE_WORDS.search(code)
    if m:
        word = m.group(1).upper()
        raise ReadOnlyViolation(
            f"read-only query path: {word} is a write or admin clause and is refused",
            {"clause": word},
        )


def _check_calls(code: str, allowed_calls: frozenset[str]) -> None:
    for m in _CALL.finditer(code):
        target = _CALL_TARGET.match(code, m.end())
        name = target.group(1) if target else ""
        if target and target.group(2) == "=":
            raise ReadOnlyViolation(
                f"read-only query path: CALL {name}=... changes a database setting and is "
                "refused; settings belong to the operator's configuration",
                {"clause": "CALL", "setting": name},
            )
        if not target or target.group(2) != "(" or name.lower() not in allowed_calls:
            shown = name or code[m.end() : m.end() + 20].strip() or "(nothing)"
            raise ReadOnlyViolation(
                f"read-only query path: CALL {shown} is not one of the read-only functions a "
                f"query may call ({', '.join(sorted(allowed_calls)) or 'none'})",
                {"clause": "CALL", "function": name, "allowed": sorted(allowed_calls)},
            )


def check_query(
    cypher: str,
    limits: QueryLimits,
    *,
    allowed_calls: frozenset[str] | None = LADYBUG_READ_CALLS,
) -> Scanned:
    """The full guard for one read; returns the scan for `bound_rows`.

    `allowed_calls`: the table functions a read may CALL (case-insensitive); None leaves
    CALL to the backend (for a backend whose read mode refuses procedures that write).
    Raises QueryLimitError (400) over a limit, ReadOnlyViolation (403) otherwise.
    """
    if len(cypher) > limits.max_chars:
        raise QueryLimitError(
            f"the query is {len(cypher):,} characters, over the limit of {limits.max_chars:,} "
            "(query_max_chars): pass values as $parameters instead of inlining them",
            {"limit": "query_max_chars", "allowed": limits.max_chars, "found": len(cypher)},
        )
    return _check_text(cypher, limits, allowed_calls)


# point reads repeat the same text: a text that passed is not checked again (a refusal is
# not cached, and only texts within the size limit get here)
@functools.lru_cache(maxsize=256)
def _check_text(cypher: str, limits: QueryLimits, allowed_calls: frozenset[str] | None) -> Scanned:
    scanned = scan(cypher)
    if scanned.depth > limits.max_depth:
        raise QueryLimitError(
            f"the query nests brackets, parentheses, braces or CASE {scanned.depth} deep, over the "
            f"limit of {limits.max_depth} (query_max_depth): flatten it, or pass nested values "
            "as $parameters",
            {"limit": "query_max_depth", "allowed": limits.max_depth, "found": scanned.depth},
        )
    rels = len(_REL_PATTERN.findall(scanned.code))
    if rels > limits.max_pattern_rels:
        raise QueryLimitError(
            f"the query's patterns hold {rels} relationships, over the limit of "
            f"{limits.max_pattern_rels} (query_max_pattern_rels): planning cost grows fast "
            "with pattern size; use variable-length relationships (-[:CALLS*1..3]->) instead",
            {"limit": "query_max_pattern_rels", "allowed": limits.max_pattern_rels, "found": rels},
        )
    _check_words(scanned.code)
    if allowed_calls is not None:
        _check_calls(scanned.code, allowed_calls)
    return scanned


_KEYWORD = r"(?<![:.$\w])(?<!:\s){}\b(?!\s*:)"
_UNION = re.compile(_KEYWORD.format("UNION"), re.IGNORECASE)
_RETURN = re.compile(_KEYWORD.format("RETURN"), re.IGNORECASE)
_LIMIT = re.compile(_KEYWORD.format("LIMIT"), re.IGNORECASE)


def bound_rows(
    cypher: str, scanned: Scanned, rows: int, params: Mapping[str, Any] | None = None
) -> tuple[str, bool]:
    """The query with each top-level RETURN limited to at most `rows` rows, and whether
    every part of it could be bounded.

    Cutting the answer after the engine made it bounds nothing (the engine's result and its
    conversion are already paid for), so the bound goes into the query: a part that ends in
    RETURN without LIMIT gets `LIMIT rows`; a LIMIT above `rows`, literal or a whole-number
    `$parameter`, is lowered (the parameter is replaced in that place only). A part with
    another LIMIT (an expression) or that does not end in RETURN is left as written and
    reported unbounded: the caller then reads at most `rows` rows itself.
    """
    edits: list[tuple[int, int, str]] = []  # (start, end, replacement), in text order
    bounded = True
    for site in _limit_sites(scanned.top):
        if site is None:
            bounded = False
            continue
        pos, tail = site
        if not tail:
            edits.append((pos, pos, f" LIMIT {rows}"))
            continue
        value = _limit_value(tail, params or {})
        if value is None:
            bounded = False
        elif value > rows:
            edits.append((pos, pos + len(tail), str(rows)))
    out, last = [], 0
    for a, b, text in edits:
        out += [cypher[last:a], text]
        last = b
    out.append(cypher[last:])
    return "".join(out), bounded


@functools.lru_cache(maxsize=256)
def _limit_sites(top: str) -> tuple[tuple[int, str] | None, ...]:
    """Per UNION part: None when it does not end in RETURN; else where its LIMIT's value
    starts and that value's text, or where a LIMIT goes and ''."""
    cuts = [m.start() for m in _UNION.finditer(top)] + [len(top)]
    sites: list[tuple[int, str] | None] = []
    start = 0
    for cut in cuts:
        part = top[start:cut]
        returns = list(_RETURN.finditer(part))
        if not returns:
            sites.append(None)
        else:
            limit = _LIMIT.search(part, returns[-1].end())
            if limit is None:
                sites.append((start + len(part.rstrip().rstrip(";").rstrip()), ""))
            else:
                tail = part[limit.end() :].strip().rstrip(";").strip()
                at = start + limit.end() + part[limit.end() :].index(tail)
                sites.append((at, tail) if tail else None)
        start = cut
    return tuple(sites)


def _limit_value(tail: str, params: Mapping[str, Any]) -> int | None:
    """The row count of a LIMIT written as `tail`: a literal or a whole-number parameter."""
    if re.fullmatch(r"[0-9]+", tail):
        return int(tail)
    m = re.fullmatch(r"\$(\w+)", tail)
    value = params.get(m.group(1)) if m else None
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    return None
