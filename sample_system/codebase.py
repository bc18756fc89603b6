"""The sample repository's files in memory, and the edits commits make to them."""

from __future__ import annotations

import ast
import logging
import random
import re
from dataclasses import dataclass, field

logger = logging.getLogger(__name__)

__all__ = ["Codebase", "Edit", "filler_function", "filler_module"]

_BLOCK_START = re.compile(r"^(def |class |@)")
_DEF = re.compile(r"^(\s*)def (\w+)\(.*\):\s*$")
_NOUNS = (
    "address",
    "basket",
    "batch",
    "coupon",
    "currency",
    "customer",
    "invoice",
    "label",
    "ledger",
    "locale",
    "parcel",
    "receipt",
    "region",
    "refund",
    "schedule",
    "session",
    "shipment",
    "supplier",
    "tax",
    "token",
    "voucher",
    "warehouse",
    "webhook",
    "window",
)
_SYNONYMS = {
    "order": "current_order",
    "lines": "order_lines",
    "payment": "captured",
    "customer": "buyer",
    "picks": "allocations",
    "levels": "stock_levels",
    "token": "bearer",
    "body": "payload",
    "score": "risk",
    "settled": "settled_at",
    "stamp": "parsed",
    "message": "text",
    "card": "gift",
    "coupon": "offer",
    "items": "entries",
    "cleaned": "normalised",
    "counts": "tally",
    "batch": "chunk",
    "weighted": "result",
    "value": "raw",
}
_CONSTANT = re.compile(r"^([A-Z][A-Z0-9_]*) = (\d[\d_]*)$")
_COMMENTS = (
    "keep in sync with the API docs",
    "callers rely on this order",
    "values come from the service config",
    "see the runbook before changing this",
    "cheap enough to run per request",
    "intentionally strict",
    "mirrors the behaviour of the old monolith",
    "revisit once the migration is done",
)


@dataclass
class Edit:
    """What one commit did to the files: contents written and paths removed."""

    written: dict[str, str] = field(default_factory=dict)
    removed: list[str] = field(default_factory=list)
    summary: str = ""


def _python_functions(text: str) -> list[tuple[int, str, str]]:
    """(line index, indent, name) of every single-line def."""
    out = []
    for i, line in enumerate(text.splitlines()):
        m = _DEF.match(line)
        if m:
            out.append((i, m.group(1), m.group(2)))
    return out


class Codebase:
    """Path -> text of every file at the current commit, plus the edit operations."""

    def __init__(self, protected: frozenset[str]) -> None:
        self.files: dict[str, str] = {}
        self.protected = protected
        self.aliases: dict[str, str] = {}

    def path_of(self, original: str) -> str:
        """Current path of a file known by its original path (renames are followed)."""
        return self.aliases.get(original, original)

    def _is_protected(self, line: str) -> bool:
        stripped = line.strip()
        return any(frag in stripped for frag in self.protected)

    def _body_lines(self, lines: list[str], start: int, indent: str) -> list[int]:
        """Indices of the lines of the function whose def is at ``start``."""
        out = []
        for j in range(start + 1, len(lines)):
            line = lines[j]
            if (
                line.strip()
                and not line.startswith(indent + " ")
                and not line.startswith(indent + "\t")
            ):
                break
            out.append(j)
        return out

    def cosmetic(self, path: str, rng: random.Random) -> tuple[str, str]:
        """A behaviour-preserving edit of one function; returns (kind, function name)."""
        lines = self.files[path].split("\n")
        functions = _python_functions(self.files[path])
        if not functions:
            return self.add_function(path, rng), ""
        start, indent, name = rng.choice(functions)
        body = [j for j in self._body_lines(lines, start, indent) if lines[j].strip()]
        if not body:
            return self.add_function(path, rng), ""
        kind = rng.choice(("log", "comment", "comment", "trailing", "log"))
        first = body[0]
        if lines[first].strip().startswith('"""') and len(body) > 1:
            first = body[1]
        pad = re.match(r"\s*", lines[first]).group(0)  # type: ignore[union-attr]
        log = f'logger.debug("{name}: %s", "start")'
        logged = any(lines[j].strip().startswith(log) for j in body)
        if kind == "log" and not logged and not self._is_protected(lines[first]):
            lines.insert(first, pad + log)
        elif kind == "trailing":
            options = [j for j in body if "#" not in lines[j] and not self._is_protected(lines[j])]
            if not options:
                return self.add_function(path, rng), ""
            j = rng.choice(options)
            lines[j] = lines[j] + "  # " + rng.choice(_COMMENTS)
        else:
            kind = "comment"
            options = [j for j in body if not self._is_protected(lines[j])]
            j = rng.choice(options or [first])
            pad = re.match(r"\s*", lines[j]).group(0)  # type: ignore[union-attr]
            count = rng.choice((1, 1, 2, 3))
            for note in rng.sample(_COMMENTS, count):
                lines.insert(j, f"{pad}# {note}")
        self.files[path] = "\n".join(lines)
        return kind, name

    def rename_local(self, path: str, rng: random.Random) -> tuple[str, str, str] | None:
        """Rename a local variable of one function everywhere it is used; None if none fits."""
        text = self.files[path]
        lines = text.split("\n")
        candidates = []
        for node in ast.walk(ast.parse(text)):
            if not isinstance(node, ast.FunctionDef) or any(
                isinstance(n, ast.Global | ast.Nonlocal) for n in ast.walk(node)
            ):
                continue
            names = [n for n in ast.walk(node) if isinstance(n, ast.Name)]
            stored = {n.id for n in names if isinstance(n.ctx, ast.Store)}
            params = {a.arg for a in ast.walk(node) if isinstance(a, ast.arg)}
            used = {n.id for n in names} | params
            for var in sorted(stored - params):
                spots = [n for n in names if n.id == var]
                if any(self._is_protected(lines[n.lineno - 1]) for n in spots):
                    continue
                new = _SYNONYMS.get(var, f"{var}_value")
                if new not in used and new not in text:
                    candidates.append((node.name, var, new, spots))
        if not candidates:
            return None
        func, var, new, spots = rng.choice(candidates)
        for n in sorted(spots, key=lambda n: (n.lineno, n.col_offset), reverse=True):
            line = lines[n.lineno - 1]
            lines[n.lineno - 1] = line[: n.col_offset] + new + line[n.col_offset + len(var) :]
        edited = "\n".join(lines)
        if not _renamed_cleanly(edited, func, var, new, len(spots)):
            return None
        self.files[path] = edited
        return func, var, new

    def tune_constant(self, path: str, rng: random.Random) -> str | None:
        """Change one integer module constant; returns its name or None."""
        lines = self.files[path].split("\n")
        spots = [i for i, line in enumerate(lines) if _CONSTANT.match(line)]
        if not spots:
            return None
        i = rng.choice(spots)
        m = _CONSTANT.match(lines[i])
        if m is None:
            return None
        value = int(m.group(2).replace("_", ""))
        new = max(1, int(value * rng.choice((0.5, 1.5, 2, 3))))
        if new == value:
            new = value + 1
        lines[i] = f"{m.group(1)} = {new:_}" if "_" in m.group(2) else f"{m.group(1)} = {new}"
        self.files[path] = "\n".join(lines)
        return m.group(1)

    def add_function(self, path: str, rng: random.Random) -> str:
        """Append a generated helper function to a module; returns its name."""
        text, name = filler_function(rng)
        self.files[path] = self.files[path].rstrip("\n") + "\n\n\n" + text
        return name

    def replace(self, path: str, old: str, new: str) -> None:
        text = self.files[path]
        if text.count(old) != 1:
            raise RuntimeError(f"sample generator: {old!r} occurs {text.count(old)}x in {path}")
        self.files[path] = text.replace(old, new)

    def rename(self, old_path: str, new_path: str) -> list[str]:
        """Move a module and rewrite the relative imports of its siblings; returns touched paths."""
        folder, _, old_name = old_path.rpartition("/")
        new_name = new_path.rpartition("/")[2]
        old_mod, new_mod = old_name[:-3], new_name[:-3]
        self.files[new_path] = self.files.pop(old_path)
        touched = [new_path]
        for path, text in list(self.files.items()):
            if path.startswith(folder + "/") and f"from .{old_mod} import" in text:
                old_import, new_import = f"from .{old_mod} import", f"from .{new_mod} import"
                self.files[path] = text.replace(old_import, new_import)
                touched.append(path)
        for original, current in list(self.aliases.items()):
            if current == old_path:
                self.aliases[original] = new_path
        if old_path not in self.aliases.values() and old_path not in self.aliases:
            self.aliases.setdefault(old_path, new_path)
        return touched


def _renamed_cleanly(text: str, func: str, old: str, new: str, count: int) -> bool:
    """True when every use of ``old`` in ``func`` (and nothing else) became ``new``."""
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return False
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef) and node.name == func:
            ids = [n.id for n in ast.walk(node) if isinstance(n, ast.Name)]
            if old in ids or ids.count(new) != count:
                return False
    return True


def filler_function(rng: random.Random) -> tuple[str, str]:
    """A small, valid, self-contained helper function; returns (source, name)."""
    noun = rng.choice(_NOUNS)
    other = rng.choice(_NOUNS)
    shape = rng.randrange(5)
    if shape == 0:
        name = f"normalise_{noun}_{other}"
        body = (
            f'def {name}(value):\n    """Normalise a {noun} {other} for storage."""\n'
            f"    cleaned = str(value).strip().lower()\n    if not cleaned:\n"
            f'        raise ValueError("empty {noun}")\n    return cleaned.replace(" ", "_")\n'
        )
    elif shape == 1:
        name = f"{noun}_{other}_summary"
        body = (
            f'def {name}(items):\n    """Counts per {other} of {noun} records."""\n'
            f"    counts = {{}}\n    for item in items:\n"
            f'        key = item.get("{other}", "unknown")\n'
            f"        counts[key] = counts.get(key, 0) + 1\n    return counts\n"
        )
    elif shape == 2:
        name = f"is_valid_{noun}_{other}"
        limit = rng.randrange(8, 200)
        body = (
            f'def {name}(record):\n    """Whether a {noun} {other} record looks usable."""\n'
            f"    if not isinstance(record, dict):\n        return False\n"
            f'    value = record.get("{other}")\n'
            f"    return value is not None and len(str(value)) <= {limit}\n"
        )
    elif shape == 3:
        name = f"split_{noun}_{other}s"
        size = rng.randrange(2, 64)
        body = (
            f'def {name}(values, size={size}):\n    """Split {other}s into batches."""\n'
            f"    batch = []\n    for value in values:\n        batch.append(value)\n"
            f"        if len(batch) == size:\n            yield batch\n            batch = []\n"
            f"    if batch:\n        yield batch\n"
        )
    else:
        name = f"{noun}_{other}_weight"
        factor = rng.randrange(2, 20)
        body = (
            f'def {name}(amount, ratio=0.{factor}):\n    """Weighted {other} of a {noun}."""\n'
            f"    if amount < 0:\n        return 0\n"
            f"    weighted = amount * ratio\n    return round(weighted, 2)\n"
        )
    return body, name


def filler_module(
    rng: random.Random, functions: int, doc: str = "Helpers generated from the team's templates."
) -> str:
    """A generated helper module with ``functions`` functions (for scale)."""
    parts = [f'"""{doc}"""\n\nimport logging\n\nlogger = logging.getLogger(__name__)\n']
    seen: set[str] = set()
    while len(seen) < functions:
        text, name = filler_function(rng)
        if name in seen:
            text = text.replace(f"def {name}(", f"def {name}_{len(seen)}(")
            name = f"{name}_{len(seen)}"
        seen.add(name)
        parts.append(text)
    return "\n\n".join(parts)
