"""Python value-flow facts of one file: its scopes, assignments, returns and call sites.

Extracted in the parser processes from Python's own `ast` (a C parser, ~10x faster to walk from
Python than a tree-sitter tree) and solved repository-wide by `loaders.code.flow`. The facts are
plain tuples (cheap to pickle). A file `ast` cannot parse (a syntax error tree-sitter recovered
from) has no facts; its calls keep the name-based resolution only.

Expressions: ("n", name) a name (every binding of it in its scope) · ("nv", name, versions)
the bindings of a local name that reach this point (straight-line code, branches merged; a
name rebound inside a loop or `try` falls back to every binding) · ("a", e, attr) ·
("c", site) the result of call site `site` · ("s", e, key|None) a subscript ·
("k", id) a container literal (its items are facts) · ("u", (e, ...)) either ·
("d", qual, decorators) a decorated def · ("sup", scope) `super()` · ("sl", e, lower, upper)
a slice with constant bounds · None anything else.
Targets: ("n", name[, version]) · ("a", e, attr) · ("s", e, key|None) · ("t", (t, ...)).
A value read where no fact keeps it (a test, an operand, an f-string, `getattr(x, "name")`)
is a statement ("use", scope, e, methods): the solver evaluates e (a property or descriptor
may run) and calls the first of the protocol `methods` its instances' classes define (`if x:`
-> `__bool__`, else `__len__`; `x == y` -> `__eq__`; `x in c` -> `__contains__` on c).

Container slots in straight-line code: `d["a"] = g` (or `d.update({"a": g})`) on a local `d`
whose binding is known also binds the pseudo-name `_[d['a']` (no identifier can clash), and a
later `d["a"]` reads it while nothing may have changed `d` since: no loop or `try` boundary, no
call, no other use of `d` (an alias could write it). The container keeps every value as before.
"""

from __future__ import annotations

import ast
import logging
import warnings
from dataclasses import dataclass, field
from typing import Any

from loaders.code.annotations import annotation

logger = logging.getLogger(__name__)

__all__ = ["FlowFacts", "Scope", "flow_facts"]

Expr = Any  # nested tuples, see the module docstring
_MAX_DEPTH = 60
# implicit protocol methods of operators, first defined first (Python's own fallbacks)
_TRUTH = ("__bool__", "__len__")
_COMPARE = {
    ast.Eq: ("__eq__",),
    ast.NotEq: ("__ne__", "__eq__"),
    ast.Lt: ("__lt__",),
    ast.LtE: ("__le__",),
    ast.Gt: ("__gt__",),
    ast.GtE: ("__ge__",),
}
_BINARY = {
    ast.Add: ("__add__",),
    ast.Sub: ("__sub__",),
    ast.Mult: ("__mul__",),
    ast.Div: ("__truediv__",),
    ast.FloorDiv: ("__floordiv__",),
    ast.Mod: ("__mod__",),
    ast.BitOr: ("__or__",),
    ast.BitAnd: ("__and__",),
    ast.BitXor: ("__xor__",),
    ast.MatMult: ("__matmul__",),
}
_UNARY = {ast.Not: _TRUTH, ast.USub: ("__neg__",), ast.Invert: ("__invert__",)}
_FORMAT = {
    -1: ("__format__", "__str__", "__repr__"),
    ord("s"): ("__str__", "__repr__"),
    ord("r"): ("__repr__",),
    ord("a"): ("__repr__",),
}
_USED = frozenset({"n", "nv", "a", "c", "s"})  # values worth a "use" (not literals, not None)


@dataclass(slots=True)
class Scope:
    """A module (qualname ""), class or function (or lambda) scope."""

    kind: str  # module, class, function
    parent: str | None
    params: tuple[str, ...] = ()
    method: str = ""  # "" (not a method), "self", "cls" (classmethod), "static"
    property: bool = False
    bound: set[str] = field(default_factory=set)  # names assigned in this scope
    line: int = 0
    end_line: int = 0


@dataclass(slots=True)
class FlowFacts:
    """Everything the solver needs from one file."""

    scopes: dict[str, Scope] = field(default_factory=dict)
    # (scope, target, expr) ; ("ret", scope, expr) etc. share one list: (op, scope, a, b)
    stmts: list[tuple[str, str, Any, Any]] = field(default_factory=list)
    # (scope, callee expr, positional args, keyword args, line)
    sites: list[tuple[str, Expr, tuple[Expr, ...], tuple[tuple[str, Expr], ...], int]] = field(
        default_factory=list
    )
    containers: list[tuple[str, tuple[tuple[str | None, Expr], ...]]] = field(
        default_factory=list
    )  # (scope, ((constant key or None, item), ...))
    imports: list[tuple[str, str, str, str | None, str | None]] = field(default_factory=list)
    # (scope, local name, module as written (dots for relative), imported name or None,
    # version of the local name)
    order: list[tuple[int, int]] = field(default_factory=list)
    # the order Python runs them in straight-line code: (1 container | 2 stmt | 3 site, index)
    types: list[tuple[str, str, Any, Any]] = field(default_factory=list)
    # declared types (`loaders.code.annotations`), read by `loaders.code.declared`, not solved:
    # ("ret", function, ann, None) · ("param", function, name, ann) · ("var", scope, name, ann)
    # for `name: ann [= ...]` · ("attr", method, name, ann) for `self.name: ann [= ...]` ·
    # ("except", scope, name, expr) for `except expr as name`


class _Logged(list):  # type: ignore[type-arg]
    """A list that logs (kind, index) of each item appended, while the walker fills it."""

    def __init__(self, log: list[tuple[int, int]], kind: int) -> None:
        super().__init__()
        self.log = log
        self.kind = kind

    def append(self, item: Any) -> None:
        self.log.append((self.kind, len(self)))
        super().append(item)


def flow_facts(source: bytes) -> FlowFacts | None:
    """The facts of one Python file; None when Python's parser refuses it."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tree = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    facts = FlowFacts()
    end = max((getattr(n, "end_lineno", 0) or 0) for n in tree.body) if tree.body else 0
    facts.scopes[""] = Scope("module", None, line=1, end_line=end)
    facts.containers = _Logged(facts.order, 1)
    facts.stmts = _Logged(facts.order, 2)
    facts.sites = _Logged(facts.order, 3)
    try:
        _Walker(facts).body(tree.body, "")
    except RecursionError:
        return None
    facts.containers = list(facts.containers)
    facts.stmts = list(facts.stmts)
    facts.sites = list(facts.sites)
    return facts


def _all_params(args: ast.arguments) -> list[str]:
    named = [*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg]
    return [a.arg for a in named if a is not None]


def _const_key(node: ast.expr) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, (str, int)):
        return repr(node.value)
    return None


def _slot_path(node: ast.expr) -> tuple[str, tuple[str, ...]] | None:
    """`d["a"][0]` -> ("d", ("'a'", "0")): a local name subscripted by constants only."""
    keys: list[str] = []
    while isinstance(node, ast.Subscript):
        key = _const_key(node.slice)
        if key is None:
            return None
        keys.append(key)
        node = node.value
    if isinstance(node, ast.Name) and keys:
        return node.id, tuple(reversed(keys))
    return None


def _slot_name(name: str, keys: tuple[str, ...]) -> str:
    return "_[" + name + "".join(f"[{k}]" for k in keys)


def _slice_bound(node: ast.expr | None) -> int | bool | None:
    """A constant int bound, None when absent, False when computed."""
    if node is None:
        return None
    if isinstance(node, ast.Constant) and type(node.value) is int:
        return node.value
    if (
        isinstance(node, ast.UnaryOp)
        and isinstance(node.op, ast.USub)
        and isinstance(node.operand, ast.Constant)
        and type(node.operand.value) is int
    ):
        return -node.operand.value
    return False


class _Walker:
    def __init__(self, facts: FlowFacts) -> None:
        self.f = facts
        self.lambdas: dict[str, int] = {}
        # local name -> its bindings that reach the current point (None: any of them)
        self.env: dict[str, tuple[str, ...] | None] = {}
        self.slotted = False  # env may hold container slots (false: it holds none)
        self.versions: dict[tuple[str, str], int] = {}
        self.globals: dict[str, set[str]] = {}

    # ---- bindings -----------------------------------------------------------------------
    def bind(self, scope: str, name: str) -> Expr:
        """A new binding of `name` in `scope`: the target, and from here on the only one."""
        self.f.scopes[scope].bound.add(name)
        self.drop_slots(name)
        if name in self.globals.get(scope, ()):
            return ("n", name)
        k = self.versions[(scope, name)] = self.versions.get((scope, name), 0) + 1
        version = f"{name}#{k}"
        self.env[name] = (version,)
        if name.startswith("_["):
            self.slotted = True
        return ("n", name, version)

    def load(self, name: str) -> Expr:
        versions = self.env.get(name)
        return ("nv", name, versions) if versions else ("n", name)

    def forget(self) -> None:
        """At a loop head, after a loop or around `try`: any binding of the scope's names may
        reach (a back edge or an exception may come from anywhere in the block)."""
        self.drop_slots()
        self.env = dict.fromkeys(self.env)

    def drop_slots(self, name: str | None = None, keys: tuple[str, ...] = ()) -> None:
        """Forget the container slots known in straight-line code: all, or those of `name`
        (under `keys`)."""
        if not self.slotted:
            return
        slots = [k for k in self.env if k.startswith("_[")]
        if not slots:
            self.slotted = False
            return
        prefix = "_[" if name is None else _slot_name(name, keys)
        if name is not None and not keys:
            prefix += "["
        for k in slots:
            if k.startswith(prefix):
                del self.env[k]

    def slot_expr(self, node: ast.expr) -> Expr:
        """A constant-key subscript chain on a name, read without counting as a use of the
        name: the straight-line slot when one is known."""
        if isinstance(node, ast.Name):
            return self.load(node.id)
        assert isinstance(node, ast.Subscript)
        path = _slot_path(node)
        if path is not None:
            versions = self.env.get(_slot_name(*path))
            if versions:
                return ("nv", _slot_name(*path), versions)
        return ("s", self.slot_expr(node.value), _const_key(node.slice))

    def strong_slot(self, node: ast.expr, value: Expr, scope: str) -> bool:
        """`d[k] = v` in straight-line code on a local `d` with a known binding: the slot
        holds v from here on (besides the container's flow-insensitive store)."""
        path = _slot_path(node)
        if path is None or not self.env.get(path[0]):
            return False
        assert isinstance(node, ast.Subscript)
        target = ("s", self.slot_expr(node.value), _const_key(node.slice))
        self.f.stmts.append(("=", scope, target, value))
        self.drop_slots(*path)
        self.f.stmts.append(("=", scope, self.bind(scope, _slot_name(*path)), value))
        return True

    def branches(self, arms: list[list[ast.stmt]], scope: str) -> None:
        """Walk alternative blocks from the same state; afterwards, any arm's bindings."""
        start = dict(self.env)
        ends = []
        for arm in arms:
            self.env = dict(start)
            self.slotted = True
            self.body(arm, scope)
            ends.append(self.env)
        merged: dict[str, tuple[str, ...] | None] = {}
        for name in {n for e in ends for n in e}:
            found = [e[name] for e in ends if name in e]
            if name.startswith("_[") and (len(found) < len(ends) or None in found):
                continue  # a slot is known after the branches only when every arm knows it
            if any(v is None for v in found):
                merged[name] = None
            else:
                merged[name] = tuple(sorted({v for vs in found if vs for v in vs}))
        self.env = merged
        self.slotted = True

    def nested(self, scope: str, params: list[str]) -> dict[str, tuple[str, ...] | None]:
        """Enter a function or class body: a fresh state (parameters bound on entry)."""
        saved = self.env
        self.env = {p: (f"{p}#0",) for p in params}
        return saved

    # ---- statements ---------------------------------------------------------------------
    def body(self, stmts: list[ast.stmt], scope: str) -> None:
        for s in stmts:
            self.stmt(s, scope)

    def stmt(self, s: ast.stmt, scope: str) -> None:
        f = self.f
        if isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef)):
            self.define_function(s, scope)
        elif isinstance(s, ast.ClassDef):
            self.define_class(s, scope)
        elif isinstance(s, ast.Assign):
            value = self.expr(s.value, scope)
            for t in s.targets:
                if len(s.targets) == 1 and self.strong_slot(t, value, scope):
                    continue
                self.assign(t, value, s.value, scope)
        elif isinstance(s, ast.AugAssign):  # x += v: x keeps what it held, plus v
            value = self.expr(s.value, scope)
            if isinstance(s.target, ast.Name):
                value = ("u", (self.load(s.target.id), value))
            self.assign(s.target, value, s.value, scope)
        elif isinstance(s, ast.AnnAssign):
            if isinstance(s.target, ast.Name):
                declared = annotation(s.annotation)
                if declared is not None:
                    f.types.append(("var", scope, s.target.id, declared))
            elif (
                isinstance(s.target, ast.Attribute)
                and isinstance(s.target.value, ast.Name)
                and f.scopes[scope].method == "self"
                and f.scopes[scope].params[:1] == (s.target.value.id,)
            ):  # `self.x: T = ...` in a method
                declared = annotation(s.annotation)
                if declared is not None:
                    f.types.append(("attr", scope, s.target.attr, declared))
            if s.value is not None:
                value = self.expr(s.value, scope)
                if scope == "" and isinstance(s.annotation, (ast.Name, ast.Attribute)):
                    # `current_app: Flask = LocalProxy(...)`: the module's name stands for an
                    # instance of the declared class, whatever proxy the value is
                    value = ("u", (value, ("inst", self.expr(s.annotation, scope))))
                self.assign(s.target, value, s.value, scope)
            elif isinstance(s.target, ast.Name):
                f.scopes[scope].bound.add(s.target.id)
        elif isinstance(s, ast.Return):
            if s.value is not None:
                f.stmts.append(("ret", scope, self.expr(s.value, scope), None))
        elif isinstance(s, ast.Expr):
            value = self.expr(s.value, scope)
            if isinstance(s.value, ast.Attribute):
                self.use(value, scope, ())  # a bare `x.attr`: a read that may run code
        elif isinstance(s, (ast.For, ast.AsyncFor)):
            it = self.expr(s.iter, scope)
            self.forget()
            f.stmts.append(("for", scope, self.target(s.target, scope), it))
            self.body(s.body, scope)
            self.body(s.orelse, scope)
            self.forget()
        elif isinstance(s, ast.While):
            self.forget()
            self.use(self.expr(s.test, scope), scope, _TRUTH)
            self.body(s.body, scope)
            self.body(s.orelse, scope)
            self.forget()
        elif isinstance(s, ast.If):
            self.use(self.expr(s.test, scope), scope, _TRUTH)
            self.branches([s.body, s.orelse], scope)
        elif isinstance(s, (ast.Try, ast.TryStar)):
            self.body(s.body, scope)
            self.forget()
            self.branches([h.body for h in s.handlers] + [s.orelse], scope)
            for h in s.handlers:
                caught = self.expr(h.type, scope) if h.type is not None else None
                if h.name:
                    self.bind(scope, h.name)
                    if caught is not None:
                        f.types.append(("except", scope, h.name, caught))
            self.forget()
            self.body(s.finalbody, scope)
        elif isinstance(s, (ast.With, ast.AsyncWith)):
            for item in s.items:
                ctx = self.expr(item.context_expr, scope)
                tgt = self.target(item.optional_vars, scope) if item.optional_vars else None
                f.stmts.append(("with", scope, tgt, ctx))
            self.body(s.body, scope)
        elif isinstance(s, ast.Raise):
            if s.exc is not None:
                f.stmts.append(("raise", scope, self.expr(s.exc, scope), s.lineno))
            if s.cause is not None:
                self.expr(s.cause, scope)
        elif isinstance(s, ast.Import):
            for a in s.names:
                local = a.asname or a.name.split(".")[0]
                version = self.bind(scope, local)
                module = a.name if a.asname else a.name.split(".")[0]
                f.imports.append((scope, local, module, None, version[2:3] and version[2]))
        elif isinstance(s, ast.ImportFrom):
            module = "." * s.level + (s.module or "")
            for a in s.names:
                if a.name == "*":
                    f.imports.append((scope, "*", module, "*", None))
                    continue
                local = a.asname or a.name
                version = self.bind(scope, local)
                f.imports.append((scope, local, module, a.name, version[2:3] and version[2]))
        elif isinstance(s, (ast.Global, ast.Nonlocal)):
            f.scopes[scope].bound.difference_update(s.names)
            self.globals.setdefault(scope, set()).update(s.names)
            for name in s.names:
                self.env.pop(name, None)
            f.stmts.append(("global", scope, tuple(s.names), None))
        else:  # match/assert/delete ...: walk everything inside
            self.forget()
            for child in ast.iter_child_nodes(s):
                if isinstance(child, ast.stmt):
                    self.stmt(child, scope)
                elif isinstance(child, ast.expr):
                    self.expr(child, scope)
                elif isinstance(child, ast.ExceptHandler):
                    if child.type is not None:
                        self.expr(child.type, scope)
                    if child.name:
                        self.bind(scope, child.name)
                    self.body(child.body, scope)
                elif isinstance(child, ast.match_case):
                    self.body(child.body, scope)
            self.forget()

    def _qual(self, scope: str, name: str) -> str:
        return f"{scope}.{name}" if scope else name

    def define_function(self, s: ast.FunctionDef | ast.AsyncFunctionDef, scope: str) -> None:
        f = self.f
        qual = self._qual(scope, s.name)
        decos = [self.expr(d, scope) for d in s.decorator_list]
        names = {d.id for d in s.decorator_list if isinstance(d, ast.Name)}
        method = ""
        if f.scopes[scope].kind == "class":
            method = "static" if "staticmethod" in names else "self"
            method = "cls" if "classmethod" in names else method
        self._function_scope(qual, scope, s.args, method, s.lineno, s.end_lineno or s.lineno)
        f.scopes[qual].property = "property" in names or any(
            isinstance(d, ast.Attribute) and d.attr in ("setter", "getter")
            for d in s.decorator_list
        )
        self.defaults(s.args, qual, scope)
        self.declared(s, qual)
        value = ("d", qual, tuple(reversed(decos))) if decos else ("fn", qual)
        f.stmts.append(("=", scope, self.bind(scope, s.name), value))
        saved = self.nested(qual, _all_params(s.args))
        self.body(s.body, qual)
        self.env = saved
        self.slotted = True

    def _function_scope(
        self, qual: str, parent: str, args: ast.arguments, method: str, line: int, end: int
    ) -> None:
        params = [a.arg for a in (*args.posonlyargs, *args.args)]
        params += [a.arg for a in args.kwonlyargs]
        extra = [a.arg for a in (args.vararg, args.kwarg) if a is not None]
        sc = Scope("function", parent, tuple(params), method, line=line, end_line=end)
        sc.bound.update(params, extra)
        self.f.scopes[qual] = sc

    def declared(self, s: ast.FunctionDef | ast.AsyncFunctionDef, qual: str) -> None:
        """The declared result and parameter types of a function."""
        types = self.f.types
        result = annotation(s.returns)
        if result is not None:
            types.append(("ret", qual, result, None))
        args = s.args
        for a in (*args.posonlyargs, *args.args, *args.kwonlyargs):
            declared = annotation(a.annotation) if a.annotation is not None else None
            if declared is not None:
                types.append(("param", qual, a.arg, declared))

    def defaults(self, args: ast.arguments, qual: str, scope: str) -> None:
        positional = [*args.posonlyargs, *args.args]
        with_default = positional[len(positional) - len(args.defaults) :]
        for a, d in zip(with_default, args.defaults, strict=True):
            self.f.stmts.append(("param", scope, (qual, a.arg), self.expr(d, scope)))
        for a, kd in zip(args.kwonlyargs, args.kw_defaults, strict=True):
            if kd is not None:
                self.f.stmts.append(("param", scope, (qual, a.arg), self.expr(kd, scope)))

    def define_class(self, s: ast.ClassDef, scope: str) -> None:
        f = self.f
        qual = self._qual(scope, s.name)
        decos = [self.expr(d, scope) for d in s.decorator_list]
        # `Base[T]` (a generic base) is `Base` in the MRO
        bases = tuple(
            self.expr(b.value if isinstance(b, ast.Subscript) else b, scope) for b in s.bases
        )
        for k in s.keywords:
            self.expr(k.value, scope)
        f.scopes[qual] = Scope("class", scope, line=s.lineno, end_line=s.end_lineno or s.lineno)
        f.stmts.append(("bases", scope, qual, bases))
        value = ("d", qual, tuple(reversed(decos))) if decos else ("cls", qual)
        f.stmts.append(("=", scope, self.bind(scope, s.name), value))
        saved = self.nested(qual, [])
        self.body(s.body, qual)
        self.env = saved
        self.slotted = True

    def assign(self, t: ast.expr, value: Expr, node: ast.expr, scope: str) -> None:
        """Bind a target; a literal tuple/list on both sides binds element by element."""
        if (
            isinstance(t, (ast.Tuple, ast.List))
            and isinstance(node, (ast.Tuple, ast.List))
            and len(t.elts) == len(node.elts)
            and not any(isinstance(e, ast.Starred) for e in (*t.elts, *node.elts))
        ):
            items = value[1] if value and value[0] == "k" else None
            elems = self.f.containers[items][1] if items is not None else None
            for i, (te, ve) in enumerate(zip(t.elts, node.elts, strict=True)):
                sub = elems[i][1] if elems is not None else None
                self.assign(te, sub, ve, scope)
            return
        self.f.stmts.append(("=", scope, self.target(t, scope), value))

    def target(self, t: ast.expr, scope: str) -> Expr:
        if isinstance(t, ast.Name):
            return self.bind(scope, t.id)
        if isinstance(t, ast.Attribute):
            return ("a", self.expr(t.value, scope), t.attr)
        if isinstance(t, ast.Subscript):
            key = _const_key(t.slice)
            if key is None:
                self.expr(t.slice, scope)
            return ("s", self.expr(t.value, scope), key)
        if isinstance(t, (ast.Tuple, ast.List)):
            return ("t", tuple(self.target(e, scope) for e in t.elts))
        if isinstance(t, ast.Starred):
            return ("*", self.target(t.value, scope))
        return None

    # ---- expressions --------------------------------------------------------------------
    def expr(self, e: ast.expr | None, scope: str, depth: int = 0) -> Expr:
        if e is None or depth > _MAX_DEPTH:
            return None
        kind = type(e)
        if kind is ast.Name:
            assert isinstance(e, ast.Name)
            if self.slotted:
                self.drop_slots(e.id)  # a use that may write it (an alias, an argument)
            return self.load(e.id)
        if kind is ast.Constant:
            return None
        d = depth + 1
        if kind is ast.Attribute:
            assert isinstance(e, ast.Attribute)
            return ("a", self.expr(e.value, scope, d), e.attr)
        if kind is ast.Call:
            assert isinstance(e, ast.Call)
            return self.call(e, scope, d)
        # operators, comparisons and f-strings: only the expressions inside (their calls)
        if kind is ast.Compare:
            assert isinstance(e, ast.Compare)
            operands = [self.expr(e.left, scope, d)]
            operands += [self.expr(x, scope, d) for x in e.comparators]
            for i, cmp in enumerate(e.ops):
                if isinstance(cmp, (ast.In, ast.NotIn)):  # `x in c`: c.__contains__
                    self.use(operands[i + 1], scope, ("__contains__", "__iter__"))
                else:
                    self.use(operands[i], scope, _COMPARE.get(type(cmp), ()))
            return None
        if kind is ast.BinOp:
            assert isinstance(e, ast.BinOp)
            left = self.expr(e.left, scope, d)
            self.use(left, scope, _BINARY.get(type(e.op), ()))
            self.use(self.expr(e.right, scope, d), scope, ())
            return None
        if kind is ast.UnaryOp:
            assert isinstance(e, ast.UnaryOp)
            operand = self.expr(e.operand, scope, d)
            self.use(operand, scope, _UNARY.get(type(e.op), ()))
            return None
        if kind is ast.JoinedStr:
            assert isinstance(e, ast.JoinedStr)
            for x in e.values:
                self.expr(x, scope, d)
            return None
        if kind is ast.FormattedValue:
            assert isinstance(e, ast.FormattedValue)
            value = self.expr(e.value, scope, d)
            self.use(value, scope, _FORMAT.get(e.conversion, _FORMAT[-1]))
            self.expr(e.format_spec, scope, d)
            return None
        if isinstance(e, ast.Subscript):
            if _slot_path(e) is not None:
                return self.slot_expr(e)
            if isinstance(e.slice, ast.Slice) and e.slice.step is None:
                lower, upper = _slice_bound(e.slice.lower), _slice_bound(e.slice.upper)
                if lower is not False and upper is not False:
                    return ("sl", self.expr(e.value, scope, d), lower, upper)
            key = _const_key(e.slice)
            if key is None:
                self.expr(e.slice, scope, d)
            return ("s", self.expr(e.value, scope, d), key)
        if isinstance(e, (ast.Tuple, ast.List)):
            starred = any(isinstance(x, ast.Starred) for x in e.elts)
            keys = [None if starred else repr(i) for i in range(len(e.elts))]
            return self.container(list(zip(keys, e.elts, strict=True)), scope, d)
        if isinstance(e, ast.Set):
            return self.container([(None, x) for x in e.elts], scope, d)
        if isinstance(e, ast.Dict):
            pairs = zip(e.keys, e.values, strict=True)
            items = [(_const_key(k) if k is not None else None, v) for k, v in pairs]
            for k in e.keys:
                if k is not None and _const_key(k) is None:
                    self.expr(k, scope, d)
            return self.container(items, scope, d)
        if isinstance(e, ast.BoolOp):
            values = tuple(self.expr(v, scope, d) for v in e.values)
            for v in values[:-1]:  # tested for truth; the last one is the result
                self.use(v, scope, _TRUTH)
            return ("u", values)
        if isinstance(e, ast.IfExp):
            self.use(self.expr(e.test, scope, d), scope, _TRUTH)
            return ("u", (self.expr(e.body, scope, d), self.expr(e.orelse, scope, d)))
        if isinstance(e, ast.NamedExpr):
            value = self.expr(e.value, scope, d)
            self.f.stmts.append(("=", scope, self.target(e.target, scope), value))
            return value
        if isinstance(e, ast.Lambda):
            return self.lambda_(e, scope)
        if isinstance(e, (ast.ListComp, ast.SetComp, ast.GeneratorExp, ast.DictComp)):
            for g in e.generators:
                it = self.expr(g.iter, scope, d)
                self.f.stmts.append(("for", scope, self.target(g.target, scope), it))
                for cond in g.ifs:
                    self.expr(cond, scope, d)
            if isinstance(e, ast.DictComp):
                self.expr(e.key, scope, d)
                return self.container([(None, e.value)], scope, d)
            return self.container([(None, e.elt)], scope, d)
        if isinstance(e, (ast.Await, ast.Starred)):
            return self.expr(e.value, scope, d)
        if isinstance(e, (ast.Yield, ast.YieldFrom)):
            if e.value is not None:
                v = self.expr(e.value, scope, d)
                op = "yield" if isinstance(e, ast.Yield) else "yfrom"
                self.f.stmts.append((op, scope, v, None))
            return None
        for child in ast.iter_child_nodes(e):  # operators, comparisons, f-strings, ...
            if isinstance(child, ast.expr):
                self.expr(child, scope, d)
        return None

    def container(self, items: list[tuple[str | None, ast.expr]], scope: str, d: int) -> Expr:
        values = tuple((k, self.expr(v, scope, d)) for k, v in items)
        self.f.containers.append((scope, values))
        return ("k", len(self.f.containers) - 1)

    def call(self, e: ast.Call, scope: str, d: int) -> Expr:
        func = e.func
        if isinstance(func, ast.Name) and func.id == "super" and not e.args:
            self.f.sites.append((scope, self.load("super"), (), (), e.lineno))  # a call too
            return ("sup", scope)
        callee = self.expr(func, scope, d)
        args = tuple(
            self.expr(a, scope, d) if not isinstance(a, ast.Starred) else None for a in e.args
        )
        for a in e.args:
            if isinstance(a, ast.Starred):
                self.expr(a.value, scope, d)
        kws = tuple((k.arg, self.expr(k.value, scope, d)) for k in e.keywords if k.arg)
        for k in e.keywords:
            if not k.arg:
                self.expr(k.value, scope, d)
        self.f.sites.append((scope, callee, args, kws, e.lineno))
        self.drop_slots()  # the callee may write any container
        if (
            isinstance(func, ast.Name)
            and func.id in ("getattr", "hasattr")
            and len(e.args) >= 2
            and isinstance(e.args[1], ast.Constant)
            and isinstance(e.args[1].value, str)
        ):  # `getattr(x, "name")` reads x.name
            self.use(("a", args[0], e.args[1].value), scope, ())
        if isinstance(func, ast.Attribute) and func.attr == "update":
            self.update(func.value, e, args, kws, scope)
        return ("c", len(self.f.sites) - 1)

    def update(
        self, owner: ast.expr, e: ast.Call, args: tuple[Expr, ...], kws: tuple, scope: str
    ) -> None:
        """`d.update({"a": g}, b=h)`: the dict's slots get the literal's items (and, in
        straight-line code on a local `d`, those slots hold them from here on)."""
        items: list[tuple[str | None, Expr]] = []
        if len(args) == 1 and isinstance(e.args[0], ast.Dict) and args[0] and args[0][0] == "k":
            items += list(self.f.containers[args[0][1]][1])
        elif args:
            return
        items += [(repr(k), v) for k, v in kws]
        path = _slot_path(owner) if isinstance(owner, ast.Subscript) else None
        if isinstance(owner, ast.Name):
            path = (owner.id, ())
        known = path is not None and bool(self.env.get(path[0]))
        base = self.slot_expr(owner) if path is not None else None
        for key, item in items:
            if base is not None:
                self.f.stmts.append(("=", scope, ("s", base, key), item))
            if known and key is not None and path is not None:
                slot = (path[0], (*path[1], key))
                self.drop_slots(*slot)
                self.f.stmts.append(("=", scope, self.bind(scope, _slot_name(*slot)), item))

    def use(self, value: Expr, scope: str, methods: tuple[str, ...]) -> None:
        """A value read where the facts keep no result (a test, an operand, an f-string): the
        solver evaluates it (an attribute read may run a property or descriptor) and calls the
        first of `methods` its instances' classes define (`x == y` -> `__eq__`)."""
        if isinstance(value, tuple) and value and value[0] in _USED:
            if methods or value[0] in ("a", "s"):  # a name or a call's result alone runs nothing
                self.f.stmts.append(("use", scope, value, methods))
        elif isinstance(value, tuple) and value and value[0] == "u":  # `a and b`: either
            for v in value[1]:
                self.use(v, scope, methods)

    def lambda_(self, e: ast.Lambda, scope: str) -> Expr:
        n = self.lambdas[scope] = self.lambdas.get(scope, 0) + 1
        qual = self._qual(scope, f"<lambda{n}>")
        end = e.end_lineno or e.lineno
        self._function_scope(qual, scope, e.args, "", e.lineno, end)
        self.defaults(e.args, qual, scope)
        saved = self.nested(qual, _all_params(e.args))
        self.f.stmts.append(("ret", qual, self.expr(e.body, qual), None))
        self.env = saved
        self.slotted = True
        return ("fn", qual)
