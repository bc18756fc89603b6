"""Resolve the call sites and base classes of one parsed file against the symbol table."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from graph_service.schema import synthetic_caller
from loaders.code.languages import SPECS
from loaders.code.modules import family
from loaders.code.parse import CallSite, FunctionInfo, ImportBinding, ParsedFile
from loaders.code.receivers import TypedReceivers
from loaders.code.resolve import CONFIDENCE, ClassKey, FileSymbols, SymbolTable, Target

logger = logging.getLogger(__name__)

__all__ = [
    "PRECEDENCE",
    "ResolvedCall",
    "one_per_pair",
    "resolve_bases",
    "resolve_calls",
    "strength",
]

_SPEC = {s.name: s for s in SPECS}
# Two readings of one caller -> callee pair (two types of one receiver, two passes' edges): the
# higher confidence wins, then the resolution earlier here (a name, then a declaration, then a
# value followed, then a guess below a declared class), then the earlier line. A fixed rule:
# never the order a set happened to iterate in.
PRECEDENCE = (
    "local",
    "same_module",
    "import",
    "alias",
    "reexport",
    "same_package",
    "self",
    "super",
    "static",
    "class_attr",
    "class_hierarchy",
    "constructor",
    "constructed_receiver",
    "local_type",
    "field_type",
    "annotation",
    "decorator",
    "implicit",
    "value_flow",
    "wrapper",
    "sole_implementation",
    "override",
)
_RANK = {r: i for i, r in enumerate(PRECEDENCE)}


@dataclass(slots=True)
class ResolvedCall:
    """One caller -> callee pair with how it was resolved (call sites merged)."""

    caller: str
    callee_path: str
    callee: str
    resolution: str
    confidence: float
    line: int
    count: int = 1


def strength(c: ResolvedCall) -> tuple[float, int, int]:
    """Sort key of the readings of one pair: the strongest first (see `PRECEDENCE`)."""
    return (-c.confidence, _RANK.get(c.resolution, len(PRECEDENCE)), c.line)


def one_per_pair(calls: list[ResolvedCall]) -> list[ResolvedCall]:
    """One edge per (caller, callee): the strongest reading (`strength`), in first-seen order.
    Calls already one per pair come back as they are."""
    best: dict[tuple[str, str, str], ResolvedCall] = {}
    for c in calls:
        key = (c.caller, c.callee_path, c.callee)
        old = best.get(key)
        if old is None or strength(c) < strength(old):
            best[key] = c
    return calls if len(best) == len(calls) else list(best.values())


def resolve_bases(table: SymbolTable, fs: FileSymbols) -> list[tuple[str, str, str]]:
    """Set the parents of every class of `fs`; returns (class, base_path, base_qualname)."""
    out = []
    for qual, bases in fs.classes.items():
        parents: list[ClassKey] = []
        unresolved = False
        for written in bases:
            target = table.resolve_class(fs, written)
            if target is None or (target[1], target[2]) == (fs.path, qual):
                unresolved = True
                continue
            parents.append((target[1], target[2]))
            out.append((qual, target[1], target[2]))
        table.set_parents((fs.path, qual), parents, unresolved)
    return out


def resolve_calls(table: SymbolTable, parsed: ParsedFile) -> list[ResolvedCall]:
    """Every call site of `parsed` that resolves to exactly one in-repository function."""
    fs = table.files[parsed.path]
    by_qual = {f.qualname: f for f in parsed.functions}
    merged: dict[tuple[str, str, str], ResolvedCall] = {}
    resolver = _CallResolver(table, fs, by_qual)
    module = parsed.bodies.get("")
    if module is not None and resolver.typed is not None:
        resolver.typed.module_types = module.local_types
    for cs in parsed.calls:
        if cs.caller is not None:
            caller = by_qual.get(cs.caller)
            caller_name = cs.caller
        elif cs.body is not None:  # module-level or class-body code
            caller = parsed.bodies.get(cs.body)
            caller_name = synthetic_caller(cs.body)
        else:
            continue
        if caller is None:
            continue
        hit = resolver.resolve(cs, caller)
        if hit is None:
            continue
        target, resolution, factor = hit
        if target[0] != "fn" or target[1] not in table.files:
            continue
        key = (caller_name, target[1], target[2])
        site = int(cs.kind != "passed")  # a function passed by name is no call site of the caller
        if key in merged:
            merged[key].count += site
            continue
        conf = round(CONFIDENCE.get(resolution, 0.5) * factor, 3)
        merged[key] = ResolvedCall(
            caller_name, target[1], target[2], resolution, conf, cs.line, site
        )
    return list(merged.values())


Hit = tuple[Target, str, float]


def _aliased(binding: ImportBinding | None, local: str) -> bool:
    """True for `import x as y` / `from m import x as y` (not for JS default imports)."""
    if binding is None or binding.alias is None or binding.kind not in ("symbol", "module"):
        return False
    original = binding.name or binding.module.rsplit(".", 1)[-1].rsplit("/", 1)[-1]
    return original != local


class _CallResolver:
    def __init__(self, table: SymbolTable, fs: FileSymbols, by_qual: dict[str, FunctionInfo]):
        self.t = table
        self.fs = fs
        self.by_qual = by_qual
        self.spec = _SPEC[fs.language]
        self._bare_cache: dict[str, Hit | None] = {}
        self._dotted_cache: dict[tuple[str, str], Hit | None] = {}
        self.typed = TypedReceivers(self) if fs.language != "python" else None

    def resolve(self, cs: CallSite, caller: FunctionInfo) -> Hit | None:
        typed = self.typed
        if cs.kind == "passed":
            return typed.passed(cs, caller) if typed else None
        if cs.kind == "new":
            target = self.t.resolve_expr(self.fs, caller, cs.name)
            return self._construct(target) if target and target[0] == "class" else None
        if cs.kind == "on_new" and cs.receiver is not None:
            hit = self._typed_local(("constructed", cs.receiver), cs.name)
            return (hit[0], "constructed_receiver", hit[2]) if hit else None
        if cs.receiver is None:
            if (
                typed
                and self.fs.language != "java"  # Java: methods and variables share no names
                and cs.name in caller.local_types
                and not self._nested(cs.name, caller)
            ):
                bound = caller.local_types[cs.name]  # a variable: only a returned function
                return typed.returned_function(bound, caller) if bound else None
            return self._bare(cs.name, caller)
        if self.fs.language == "go" and cs.receiver == caller.self_name and caller.class_name:
            return self._go_method(caller.class_name, cs.name)
        method_of = self._self_class(cs.receiver, caller)
        if method_of is not None:
            return self._method(method_of, cs.name, skip_self=False)
        if cs.receiver in ("super", "super()"):
            cls = self._enclosing_class(caller)
            return self._method(cls, cs.name, skip_self=True) if cls else None
        if cs.receiver in caller.local_types:
            bound = caller.local_types[cs.receiver]
            if typed is None:
                return self._typed_local(bound, cs.name) if bound else None
            if bound and typed.class_of(bound, self.fs, caller) is not None:
                return typed.on_local(bound, cs.name, caller)
            # a variable of unknown type: the name rules below, as for any receiver
        if typed is not None:
            hit = typed.on_field(cs.receiver, cs.name, caller) or typed.on_module_variable(
                cs.receiver, cs.name, caller
            )
            if hit is not None:
                return hit
        if cs.receiver.partition(".")[0] in caller.params:
            return None  # a parameter: its type is unknown
        key = (cs.receiver, cs.name)
        if key not in self._dotted_cache:
            self._dotted_cache[key] = self._dotted(cs.receiver, cs.name)
        return self._dotted_cache[key]

    def _dotted(self, receiver: str, name: str) -> Hit | None:
        """`mod.f()`, `pkg.mod.Cls()`, `Cls.method()`: the same in every caller of the file."""
        target = self.t.resolve_expr(self.fs, None, receiver)
        if target is None:
            return self._assigned_method(receiver, name)
        member = self.t.member(target, name)
        if member is None:
            return None
        if target[0] == "class":
            return member, "static" if self.fs.language == "java" else "class_attr", 1.0
        if member[0] == "class":
            return self._construct(member)
        first = receiver.split(".")[0]
        binding = self.fs.bindings.get(first)
        return member, "alias" if _aliased(binding, first) else "import", 1.0

    def _assigned_method(self, receiver: str, name: str) -> Hit | None:
        """JS/TS `obj.f()` in the file that assigns `obj.f = function ...` (an object used as
        a namespace or mixin, e.g. a CommonJS module's `app.handle`)."""
        if family(self.fs.language) != "js" or "." in receiver:
            return None
        qual = f"{receiver}.{name}"
        if self.fs.functions.get(qual, "") != receiver:
            return None
        return ("fn", self.fs.path, qual), "same_module", 1.0

    def _bare(self, name: str, caller: FunctionInfo) -> Hit | None:
        scope = caller.qualname
        while scope:  # nested definitions of the caller and of its enclosing functions
            enclosing = self.by_qual.get(scope)
            if enclosing is None:
                break
            if name in enclosing.local_names:
                return ("fn", self.fs.path, f"{scope}.{name}"), "local", 1.0
            if name in enclosing.params:
                return None
            scope = scope.rpartition(".")[0]
        if self.spec.implicit_self_calls:
            cls = self._enclosing_class(caller)
            if cls is not None:
                hit = self._method(cls, name, skip_self=False)
                if hit is not None:
                    return hit
        if name not in self._bare_cache:
            self._bare_cache[name] = self._module_level(name)
        return self._bare_cache[name]

    def _nested(self, name: str, caller: FunctionInfo) -> bool:
        """Whether `name` is a function nested in the caller or in a function enclosing it."""
        fn: FunctionInfo | None = caller
        while fn is not None:
            if name in fn.local_names:
                return True
            fn = self.by_qual.get(fn.qualname.rpartition(".")[0])
        return False

    def _module_level(self, name: str) -> Hit | None:
        """A bare name not bound by the caller: the file's definitions and imports."""
        target = self.t.lookup(self.fs.path, name)
        if target is None:
            target = self.t._package_scope(self.fs, name)
            if target is not None and target[0] == "fn":
                return target, "same_package", 1.0
        if target is None:
            return None
        if target[0] == "class":
            return self._construct(target) if self.fs.language != "java" else None
        if target[0] != "fn":
            return None
        if target[1] == self.fs.path:
            return target, "same_module", 1.0
        binding = self.fs.bindings.get(name)
        return target, "alias" if _aliased(binding, name) else "import", 1.0

    def _typed_local(self, typed: tuple[str, str], name: str) -> Hit | None:
        """`x = Foo(); x.m()` or `def f(x: Foo): x.m()` -> Foo.m (lower confidence)."""
        how, written = typed
        cls = self.t.resolve_expr(self.fs, None, written)
        if cls is None or cls[0] != "class":
            return None
        hit = self._method((cls[1], cls[2]), name, skip_self=False)
        if hit is None:
            return None
        return hit[0], "local_type" if how == "constructed" else "annotation", hit[2]

    def _construct(self, cls: Target) -> Hit | None:
        found = self.t.constructor(cls)
        return (found[0], "constructor", found[1]) if found else None

    def _method(self, cls: ClassKey, name: str, *, skip_self: bool) -> Hit | None:
        found = self.t.find_method(cls, name, skip_self=skip_self)
        if found is None:
            return None
        target, own, passed_unresolved = found
        resolution = "super" if skip_self else ("self" if own else "class_hierarchy")
        return target, resolution, 0.6 if passed_unresolved else 1.0

    def _enclosing_class(self, caller: FunctionInfo) -> ClassKey | None:
        fn: FunctionInfo | None = caller
        while fn is not None:
            if fn.class_name:
                if self.fs.language == "go":
                    return None
                return (self.fs.path, fn.class_name)
            parent = fn.qualname.rpartition(".")[0]
            fn = self.by_qual.get(parent)
        return None

    def _self_class(self, receiver: str, caller: FunctionInfo) -> ClassKey | None:
        """The class a `self.x()` / `this.x()` / Go receiver call dispatches on."""
        if receiver not in self.spec.self_names:
            return None
        if family(self.fs.language) == "js" and not self._this_is_enclosing(caller):
            return None
        if self.fs.language == "python":
            method: FunctionInfo | None = caller
            while method is not None and not method.class_name:
                method = self.by_qual.get(method.qualname.rpartition(".")[0])
            if method is None or not method.params or method.params[0] != receiver:
                return None
            return (self.fs.path, method.class_name) if method.class_name else None
        return self._enclosing_class(caller)

    def _this_is_enclosing(self, caller: FunctionInfo) -> bool:
        """JS/TS: whether `this` in `caller` is its enclosing method's: no plain `function`
        between them (each rebinds `this` to whatever calls it)."""
        fn: FunctionInfo | None = caller
        while fn is not None and fn.class_name is None:
            if fn.own_this:
                return False
            fn = self.by_qual.get(fn.qualname.rpartition(".")[0])
        return True

    def _go_method(self, type_name: str, name: str) -> Hit | None:
        """Go methods may live in any file of the package: the one defining `T.name`."""
        qual = f"{type_name}.{name}"
        directory = self.fs.path.rpartition("/")[0]
        hits = (
            [
                f
                for f in self.t.index.go_files(directory, include_tests=True)
                if qual in self.t.files.get(f, self.fs).functions
            ]
            if qual not in self.fs.functions
            else [self.fs.path]
        )
        return (("fn", hits[0], qual), "self", 1.0) if len(hits) == 1 else None
