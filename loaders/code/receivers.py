"""Calls on typed receivers and functions as values in JavaScript/TypeScript, Go and Java.

What the extractor recorded as written (`typed`) becomes a class here: a variable's declared
type or constructed class (`local_type`, `annotation`), a field's (`field_type`: `this.c.m()`,
Go `s.c.m()`, a Java field `c.m()`), the declared result of the function a variable was
assigned from (`c := NewClient()`), a Go interface with exactly one implementation in the
repository (`sole_implementation`, low confidence), a function another returns or that is
passed by name (`value_flow`). Anything less certain gets no edge.
"""

from __future__ import annotations

import logging
import posixpath
from collections import defaultdict
from typing import TYPE_CHECKING

from loaders.code.modules import family
from loaders.code.parse import CallSite, FunctionInfo, ParsedFile
from loaders.code.resolve import ClassKey, FileSymbols, SymbolTable, Target, symbols_of

if TYPE_CHECKING:
    from loaders.code.calls import Hit, _CallResolver

logger = logging.getLogger(__name__)

__all__ = ["TypedReceivers", "imported_files"]

Typed = tuple[str, str]
_PASSED_FACTOR = 0.75  # a function passed by name runs only if the callee calls it
_NAME_RESOLUTIONS = frozenset({"local", "same_module", "same_package", "import", "alias"})


class TypedReceivers:
    """The rules above for one file; `resolver` supplies the class-method lookups."""

    def __init__(self, resolver: _CallResolver) -> None:
        self.r = resolver
        self.t: SymbolTable = resolver.t
        self.fs: FileSymbols = resolver.fs
        self.go = resolver.fs.language == "go"
        self.module_types: dict[str, Typed | None] = {}  # the file's module-level variables

    # ---- variables and fields -----------------------------------------------------------
    def on_local(self, typed: Typed, name: str, caller: FunctionInfo | None) -> Hit | None:
        """`x.m()` where the caller bound `x` (declared, constructed or assigned a result)."""
        cls = self.class_of(typed, self.fs, caller)
        if cls is None:
            return None
        hit = self.method_on(cls, name)
        if hit is None:
            return None
        how = "annotation" if typed[0] == "annotation" else "local_type"
        return hit[0], how if hit[1] != "sole_implementation" else hit[1], hit[2]

    def on_field(self, receiver: str, name: str, caller: FunctionInfo) -> Hit | None:
        """`this.f.m()` (JS/TS/Java), a Java field `f.m()`, Go `recv.f.m()`, `x.f.m()` on a
        typed variable `x`."""
        owner, dot, field_name = receiver.partition(".")
        if "." in field_name:
            return None
        if not dot:  # Java: a bare name that is a field of the class (not a local or param)
            if self.fs.language != "java":
                return None
            owner, field_name = "this", receiver
        cls = self._receiver_class(owner, caller)
        if cls is None:
            return None
        for key in self.t._mro(cls):
            fields = self.t.files.get(key[0], self.fs).fields.get(key[1])
            if fields is not None and field_name in fields:
                typed = fields[field_name]
                field_cls = self.class_of(typed, self.t.files[key[0]], None) if typed else None
                hit = self.method_on(field_cls, name) if field_cls else None
                if hit is None:
                    return None
                return hit[0], "field_type" if hit[1] != "sole_implementation" else hit[1], hit[2]
        return None

    def on_module_variable(self, receiver: str, name: str, caller: FunctionInfo) -> Hit | None:
        """`std.SetOutput()` in a function, `std` a variable the file binds at module level
        (Go `var std = New()`) and the function does not bind, take or nest a scope for."""
        if caller.qualname == "" or receiver not in self.module_types:
            return None
        fn: FunctionInfo | None = caller
        while fn is not None:  # a parameter of the caller or of an enclosing function
            if receiver in fn.params or receiver in fn.local_types:
                return None
            fn = self.r.by_qual.get(fn.qualname.rpartition(".")[0])
        typed = self.module_types[receiver]
        if typed is None or self.class_of(typed, self.fs, None) is None:
            return None
        return self.on_local(typed, name, None)

    def _receiver_class(self, owner: str, caller: FunctionInfo) -> ClassKey | None:
        if owner in caller.local_types and owner != caller.self_name:
            typed = caller.local_types[owner]
            return self.class_of(typed, self.fs, caller) if typed else None
        if self.go:
            if owner != caller.self_name or not caller.class_name:
                return None
            target = self.t.resolve_class(self.fs, caller.class_name)
            return (target[1], target[2]) if target else None
        if owner != "this":
            return None
        if family(self.fs.language) == "js" and not self.r._this_is_enclosing(caller):
            return None
        return self.r._enclosing_class(caller)

    def class_of(
        self, typed: Typed, fs: FileSymbols, caller: FunctionInfo | None
    ) -> ClassKey | None:
        """The class a declared type, a constructed class or a function's declared result
        names, as seen from file `fs`."""
        how, written = typed
        if how == "returned":
            fn = self.t.resolve_expr(fs, caller, written)
            if fn is None or fn[0] != "fn":
                return None
            fs = self.t.files.get(fn[1], fs)
            result = fs.results.get(fn[2])
            if result is None:
                return None
            written = result
        target = self.t.resolve_class(fs, written)
        return (target[1], target[2]) if target else None

    def method_on(self, cls: ClassKey, name: str) -> Hit | None:
        """Method `name` of `cls`: Go looks in every file of the type's package and through
        an interface to its only implementation; the others along the class hierarchy."""
        if not self.go:
            return self.r._method(cls, name, skip_self=False)
        fs = self.t.files.get(cls[0])
        if fs is not None and cls[1] in fs.interfaces:
            impl = self._sole_implementation(cls, fs.interfaces[cls[1]])
            if impl is None or name not in fs.interfaces[cls[1]]:
                return None
            found = self._go_method(impl, name)
            return (found, "sole_implementation", 1.0) if found else None
        found = self._go_method(cls, name)
        return (found, "self", 1.0) if found else None

    def _go_method(self, cls: ClassKey, name: str) -> Target | None:
        qual = f"{cls[1]}.{name}"
        directory = posixpath.dirname(cls[0])
        hits = [
            f
            for f in self.t.index.go_files(directory, include_tests=True)
            if self.t.files.get(f, self.fs).functions.get(qual, "") == cls[1]
        ]
        return ("fn", hits[0], qual) if len(hits) == 1 else None

    def _sole_implementation(self, iface: ClassKey, methods: list[str]) -> ClassKey | None:
        """The one Go type of the repository whose methods include all of `methods`."""
        if not methods:
            return None
        sets = self.t.go_method_sets
        if sets is None:
            sets = self.t.go_method_sets = _go_method_sets(self.t)
        wanted = set(methods)
        found = [key for key, names in sets.items() if wanted <= names]
        if len(found) != 1:
            return None
        directory, type_name = found[0]
        for f in self.t.index.go_files(directory, include_tests=True):
            if type_name in self.t.files.get(f, self.fs).classes:
                return (f, type_name)
        return None

    # ---- functions as values ------------------------------------------------------------
    def returned_function(self, typed: Typed, caller: FunctionInfo) -> Hit | None:
        """`f = make(); f()` where `make` returns one named function (nested or top-level)."""
        if typed[0] != "returned":
            return None
        fn = self.t.resolve_expr(self.fs, caller, typed[1])
        if fn is None or fn[0] != "fn":
            return None
        fs = self.t.files.get(fn[1])
        if fs is None:
            return None
        targets = set()
        for name in fs.returned.get(fn[2], ()):
            nested = f"{fn[2]}.{name}"
            if nested in fs.functions:
                targets.add(("fn", fn[1], nested))
                continue
            found = self.t.lookup(fn[1], name)
            if found is None and self.go:
                found = self.t._package_scope(fs, name)
            if found is None or found[0] != "fn":
                return None  # returns something else too: not followed
            targets.add(found)
        if len(targets) != 1:
            return None
        return targets.pop(), "value_flow", 1.0

    def passed(self, cs: CallSite, caller: FunctionInfo) -> Hit | None:
        """A function passed by name (`items.map(helper)`, `http.HandleFunc("/", index)`), to
        a callee outside the repository or to one that calls that parameter."""
        if cs.name in caller.local_types:
            typed = caller.local_types[cs.name]
            hit = self.returned_function(typed, caller) if typed else None
        elif self._a_parameter(cs.name, caller):
            return None  # a parameter's value (JS object literals' methods share its name)
        else:
            hit = self.r._bare(cs.name, caller)
            if hit is None or hit[0][0] != "fn" or hit[1] not in _NAME_RESOLUTIONS:
                return None
        if hit is None or not self._may_call(cs, caller):
            return None
        return hit[0], "value_flow", hit[2] * _PASSED_FACTOR

    def _a_parameter(self, name: str, caller: FunctionInfo) -> bool:
        fn: FunctionInfo | None = caller
        while fn is not None:
            if name in fn.params:
                return True
            fn = self.r.by_qual.get(fn.qualname.rpartition(".")[0])
        return False

    def _may_call(self, cs: CallSite, caller: FunctionInfo) -> bool:
        """False when the function it is passed to is in the repository and never calls the
        parameter in that position (`addConstant(ctx, fn)` stores it; `run(cb)` calls it)."""
        if cs.receiver is None:
            return True
        owner, _, name = cs.receiver.rpartition(".")
        via = CallSite(cs.caller, name, owner or None, "call", cs.line, cs.body)
        hit = self.r.resolve(via, caller)
        if hit is None or hit[0][0] != "fn":
            return True  # outside the repository (`arr.map`, `app.get`, `file.on`): it may
        fs = self.t.files.get(hit[0][1])
        called = fs.called_params.get(hit[0][2]) if fs is not None else None
        return called is None or cs.arg in called


def _go_method_sets(table: SymbolTable) -> dict[ClassKey, set[str]]:
    sets: dict[ClassKey, set[str]] = defaultdict(set)
    for fs in table.iter_files():
        if fs.language != "go":
            continue
        directory = posixpath.dirname(fs.path)
        for qual, cls in fs.functions.items():
            if cls and cls not in fs.interfaces:
                sets[(directory, cls)].add(qual.rpartition(".")[2])
    return dict(sets)


def imported_files(table: SymbolTable, parsed: list[ParsedFile]) -> set[str]:
    """The in-repository files that non-Python `parsed` files import. Their declared result
    and field types type the importers' receivers, and a file an incremental load does not
    parse keeps none of them (the store holds no types), so these are parsed again too."""
    out: set[str] = set()
    for p in parsed:
        if p.language != "python":
            fs = symbols_of(p)
            for b in p.imports:
                out.update(table.import_files(fs, b))
    return out
