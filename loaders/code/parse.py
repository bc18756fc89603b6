"""Parse one source file with tree-sitter into plain records: functions, classes, imports, calls.

`parse_source` is pure (bytes in, records out) and keeps no tree, so callers can stream files.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field, fields
from itertools import accumulate
from operator import attrgetter
from typing import Any, TypeVar

from tree_sitter import Node, Parser, QueryCursor

from loaders.code.languages import (
    LanguageSpec,
    combined_query,
    grammar,
    is_test_path,
    spec_for,
)
from loaders.code.syntax import (
    docstring_of,
    first_error_line,
    has_test_annotation,
    node_text,
    param_names,
    receiver_text,
)
from loaders.code.typed import bind_local, bind_member, is_go_interface, type_name

logger = logging.getLogger(__name__)

__all__ = ["CallSite", "ClassInfo", "FunctionInfo", "ImportBinding", "ParsedFile", "parse_source"]

_parsers: dict[str, Parser] = {}
_T = TypeVar("_T")


_JS_LANGUAGES = frozenset({"javascript", "typescript", "tsx"})
_CALL_METHODS = frozenset({"call", "apply"})


def _pickled_as_tuple(cls: type[_T]) -> type[_T]:
    """Pickle instances as `(cls, field values)`: a third smaller and ~1.6x faster to load.

    Records travel from the parser processes to the loader this way (see `workers`).
    """
    values = attrgetter(*(f.name for f in fields(cls)))  # type: ignore[arg-type]

    def reduce(self: _T) -> tuple[type[_T], tuple[Any, ...]]:
        return cls, values(self)

    cls.__reduce__ = reduce  # type: ignore[assignment,method-assign]
    return cls


@_pickled_as_tuple
@dataclass(slots=True)
class FunctionInfo:
    """A function or method; lines are 1-based and inclusive."""

    qualname: str
    name: str
    start_line: int
    end_line: int
    class_name: str | None = None  # qualname of the class it is a method of
    self_name: str | None = None  # Go receiver variable
    params: list[str] = field(default_factory=list)
    loc: int = 0
    complexity: int = 1
    docstring: str | None = None
    is_test: bool = False
    local_names: set[str] = field(default_factory=set)  # nested defs (resolution scope)
    # variable -> (how its type is known: "annotation"/"constructed", type as written);
    # None when the variable is bound in ways that disagree
    local_types: dict[str, tuple[str, str] | None] = field(default_factory=dict)
    # JS/TS: a plain `function` that is no method, so `this` inside it is whatever its caller
    # binds, not an enclosing object (arrow functions keep the enclosing `this`)
    own_this: bool = False
    # JS/TS, Go: positions of the parameters it calls (`function run(cb) { cb() }` -> [0])
    called_params: list[int] = field(default_factory=list)
    result_type: str | None = None  # the declared result type (Go, TypeScript), as written
    returned: list[str] = field(default_factory=list)  # JS/TS: names it returns (`return f`)


@_pickled_as_tuple
@dataclass(slots=True)
class ClassInfo:
    """A class, struct, interface or enum; lines are 1-based and inclusive."""

    qualname: str
    name: str
    start_line: int
    end_line: int
    bases: list[str] = field(default_factory=list)
    # field -> (how its type is known, type as written), None when its bindings disagree (Go
    # struct fields, Java fields, TS declared or constructor-parameter fields, `this.x = new C()`)
    field_types: dict[str, tuple[str, str] | None] = field(default_factory=dict)
    interface_methods: list[str] | None = None  # Go: the method names of an interface type


@_pickled_as_tuple
@dataclass(slots=True)
class ImportBinding:
    """One imported name: `module` as written, `name` imported from it, local `alias`.

    kind: module (binds the module), symbol (binds `name`), default (JS default import),
    wildcard, or side_effect (a dependency without a binding).
    """

    kind: str
    module: str
    name: str | None = None
    alias: str | None = None
    line: int = 0

    @property
    def local(self) -> str | None:
        """The name this import binds in the importing file."""
        if self.alias:
            return self.alias
        if self.kind == "symbol" and self.name:
            return self.name
        if self.kind == "module":
            if "/" in self.module:  # a Go import path: the package is named by its last element
                rest, _, last = self.module.rpartition("/")
                if re.fullmatch(r"v\d+", last) and rest:  # `.../mod/v2` is package mod
                    last = rest.rpartition("/")[2]
                return last.split(".")[0]
            return self.module.split(".")[0]
        return None


@_pickled_as_tuple
@dataclass(slots=True)
class CallSite:
    """A call: callee `name` and its `receiver` as a dotted name (None for a bare call)."""

    caller: str | None
    name: str
    receiver: str | None
    # call, new, on_new (a method of class `receiver` on a new instance), or passed (a
    # function named as an argument, JS/TS/Go, not a call site: `receiver` is then the
    # callee it is passed to, when a dotted name, and `arg` its position)
    kind: str
    line: int
    # outside any function: the enclosing class's qualname (class body) or "" (module level);
    # the graph names these callers (see `graph_service.schema.synthetic_caller`)
    body: str | None = None
    arg: int = -1


@dataclass
class ParsedFile:
    """Everything extracted from one file; `has_error` when tree-sitter had to recover."""

    path: str
    language: str
    loc: int
    lines: int
    is_test: bool
    has_error: bool
    functions: list[FunctionInfo]
    classes: list[ClassInfo]
    imports: list[ImportBinding]
    calls: list[CallSite]
    package: str | None = None
    default_export: str | None = None
    error_line: int | None = None  # first line tree-sitter could not parse
    call_count: int = 0  # call sites, resolvable or not
    # module-level ("") and class-body (class qualname) code that makes calls: its local types
    bodies: dict[str, FunctionInfo] = field(default_factory=dict)
    bad_utf8_at: int | None = None  # first byte that is not UTF-8 (the text was decoded lossily)


def parse_source(path: str, source: bytes) -> ParsedFile | None:
    """Parse `source` as the language of `path`; None when the language is unsupported."""
    spec = spec_for(path)
    if spec is None:
        return None
    parser = _parsers.get(spec.name)
    if parser is None:
        parser = _parsers[spec.name] = Parser(grammar(spec.name))
    tree = parser.parse(source)
    root = tree.root_node
    blank = _nonblank_prefix(source)
    out = ParsedFile(
        path=path,
        language=spec.name,
        loc=blank[-1],
        lines=len(blank) - (2 if source.endswith(b"\n") else 1),
        is_test=is_test_path(spec, path),
        has_error=root.has_error,
        functions=[],
        classes=[],
        imports=[],
        calls=[],
    )
    if not source.isascii():
        try:
            source.decode("utf-8")
        except UnicodeDecodeError as e:
            out.bad_utf8_at = e.start
    extractor = _Extractor(spec, out, blank, source)
    calls, local_bindings, members = extractor.calls, extractor.locals, extractor.members
    branches: list[int] = []  # where the branch points (complexity) start
    for _, caps in QueryCursor(combined_query(spec.name)).matches(root):
        if "call" in caps:
            calls.append(caps)
        elif "branch" in caps:
            branches.append(caps["branch"][0].start_byte)
        elif "local.name" in caps:
            local_bindings.append(caps)
        elif "field.name" in caps or "return.name" in caps:
            members.append(caps)
        else:
            extractor.add(caps)
    extractor.finish(branches)
    if out.has_error:
        out.error_line = first_error_line(root)
    return out


def _local_type(caps: dict[str, list[Node]], fn: FunctionInfo) -> None:
    """Record what a variable's type is known to be; disagreeing bindings poison it."""
    name = node_text(caps["local.name"][0])
    typed = caps.get("local.type")
    found: tuple[str, str] | None = None
    if typed is not None:
        found = ("annotation", node_text(typed[0]))
    elif "local.value" in caps:
        value = caps["local.value"][0]
        callee = value.child_by_field_name("function") if value.type == "call" else None
        if callee is not None and callee.type in ("identifier", "attribute"):
            found = ("constructed", node_text(callee))
    if name in fn.local_types and fn.local_types[name] != found:
        found = None
    fn.local_types[name] = found


def _first(caps: dict[str, list[Node]], name: str) -> Node | None:
    nodes = caps.get(name)
    return nodes[0] if nodes else None


def _bare_call(caps: dict[str, list[Node]]) -> bool:
    return "call.name" in caps and "call.receiver" not in caps and "call.ctor" not in caps


def _nonblank_prefix(source: bytes) -> list[int]:
    """prefix[i] = non-blank lines among lines 1..i."""
    return list(accumulate(map(bool, map(bytes.strip, source.split(b"\n"))), initial=0))


class _Extractor:
    """Turns query matches into records; nesting is computed by one sweep over byte ranges."""

    def __init__(
        self, spec: LanguageSpec, out: ParsedFile, blank: list[int], source: bytes
    ) -> None:
        self.spec = spec
        self.out = out
        self.blank = blank
        self.source = source  # what the tree was parsed from: a node's text is a slice of it
        self.scopes: list[tuple[int, int, str, Node, dict[str, Any]]] = []
        self.bases: dict[int, list[str]] = {}
        self.calls: list[dict[str, list[Node]]] = []
        self.locals: list[dict[str, list[Node]]] = []
        self.members: list[dict[str, list[Node]]] = []  # fields, interface methods, returns
        self.passed: set[bytes | None] = set()  # names only passed as arguments (not called)

    def add(self, caps: dict[str, list[Node]]) -> None:
        if "function" in caps:
            node = caps["function"][0]
            self.scopes.append((node.start_byte, node.end_byte, "f", node, caps))
        elif "class" in caps:
            node = caps["class"][0]
            self.scopes.append((node.start_byte, node.end_byte, "c", node, caps))
        elif "base.of" in caps:
            key = caps["base.of"][0].start_byte
            self.bases.setdefault(key, []).append(node_text(caps["base"][0]))
        elif "package" in caps:
            self.out.package = node_text(caps["package"][0])
        elif "export.default" in caps:
            self.out.default_export = node_text(caps["export.default"][0])
        else:
            self._import(caps)

    def _import(self, caps: dict[str, list[Node]]) -> None:
        def get(name: str) -> str | None:
            nodes = caps.get(name)
            return node_text(nodes[0]).strip("\"'`") if nodes else None

        first = next(iter(caps.values()))[0]
        line = first.start_point[0] + 1
        module = get("import.module")
        if module is not None:
            self.out.imports.append(
                ImportBinding("module", module, None, get("import.alias"), line)
            )
            return
        src = get("import.from")
        if src is None:
            return
        if "import.name" in caps:
            sib = caps["import.name"][0].parent
            nxt = sib.next_named_sibling if sib is not None else None
            if nxt is not None and nxt.type == "asterisk":  # Java `a.b.*` also matches as a.b
                return
            kind, name, alias = "symbol", get("import.name"), get("import.alias")
        elif "import.default" in caps:
            kind, name, alias = "default", None, get("import.default")
        elif "import.wildcard" in caps:
            kind, name, alias = "wildcard", None, None
        elif "import.alias" in caps:
            kind, name, alias = "module", None, get("import.alias")
        else:
            kind, name, alias = "side_effect", None, None
        self.out.imports.append(ImportBinding(kind, src, name, alias, line))

    def finish(self, branches: list[int]) -> None:
        """Sweep definitions, calls and branch points in byte order to nest them."""
        self.scopes.sort(key=lambda s: (s[0], -s[1]))
        scopes, calls = self.scopes, self.calls
        events = [(s[0], 0, i) for i, s in enumerate(scopes)]
        events += [(c["call"][0].start_byte, 1, i) for i, c in enumerate(calls)]
        events += [(pos, 2, 0) for pos in branches]
        # only variables that some call is made on matter for local type inference
        src = self.source  # node.text is src[start_byte:end_byte], sliced here for less overhead
        found = (_first(c, "call.receiver") for c in calls)
        receivers: set[bytes | None] = {
            src[n.start_byte : n.end_byte] for n in found if n is not None
        }
        if self.spec.name == "python":  # `ctx.command.m()`: `ctx`'s type types its attributes
            receivers |= {r.split(b".")[0] for r in receivers if r}
        if self.spec.name != "python":  # `f = make(); f()`; `g(cb)` needs only "bound here"
            receivers |= {c["call.name"][0].text for c in calls if _bare_call(c)}
            self.passed = {a[0].text for c in calls if (a := c.get("call.arg"))} - receivers
            receivers |= self.passed
        self.locals = [
            c
            for c in self.locals
            if src[(n := c["local.name"][0]).start_byte : n.end_byte] in receivers
        ]
        events += [(c["local.name"][0].start_byte, 3, i) for i, c in enumerate(self.locals)]
        events += [(next(iter(c.values()))[0].start_byte, 4, i) for i, c in enumerate(self.members)]
        events.sort()
        # (end_byte, qualname, record, innermost enclosing function or None)
        stack: list[tuple[int, str, Any, FunctionInfo | None]] = []
        fn: FunctionInfo | None = None
        for pos, what, i in events:
            if stack and stack[-1][0] <= pos:
                while stack and stack[-1][0] <= pos:
                    stack.pop()
                fn = stack[-1][3] if stack else None
            if what == 4:
                cls = next((s[2] for s in reversed(stack) if isinstance(s[2], ClassInfo)), None)
                bind_member(self.members[i], cls, fn)
            elif what == 0:
                record = self._scope(scopes[i], stack)
                if isinstance(record, FunctionInfo):
                    fn = record
                stack.append((scopes[i][1], record.qualname, record, fn))
            elif fn is None:  # module- or class-level code: the module's or class's body
                if what == 2:
                    continue
                body = self._body(stack[-1][2] if stack else None)
                if what == 1:
                    self._call(calls[i], body, body.qualname)
                else:
                    self._bind(self.locals[i], body)
            elif what == 1:
                self._call(calls[i], fn)
            elif what == 2:
                fn.complexity += 1
            else:
                self._bind(self.locals[i], fn)

    def _bind(self, caps: dict[str, list[Node]], fn: FunctionInfo) -> None:
        if self.spec.name == "python":
            _local_type(caps, fn)
        elif caps["local.name"][0].text in self.passed:
            fn.local_types[node_text(caps["local.name"][0])] = None  # a variable, not a function
        else:
            bind_local(caps, fn.local_types)

    def _body(self, cls: ClassInfo | None) -> FunctionInfo:
        """The code of the module (`cls` None) or of a class body, as a caller."""
        owner = cls.qualname if cls is not None else ""
        body = self.out.bodies.get(owner)
        if body is None:
            first, last = (cls.start_line, cls.end_line) if cls else (1, self.out.lines)
            body = self.out.bodies[owner] = FunctionInfo(
                owner, owner, first, last, class_name=cls.qualname if cls else None
            )
        return body

    def _scope(self, scope: tuple[int, int, str, Node, dict[str, Any]], stack: list) -> Any:
        start, _, kind, node, caps = scope
        name_node = caps["function.name" if kind == "f" else "class.name"][0]
        name = self._text(name_node)
        parent = node.parent  # computed from the root on each access: read once
        outer = parent if parent is not None else node
        first = (outer if outer.type == "decorated_definition" else node).start_point[0] + 1
        last = node.end_point[0] + 1
        if kind == "c":
            qual = f"{stack[-1][1]}.{name}" if stack else name
            cls = ClassInfo(qual, name, first, last, self.bases.get(start, []))
            if is_go_interface(node):
                cls.interface_methods = []
            self.out.classes.append(cls)
            return cls
        parent = stack[-1][2] if stack else None
        class_name = parent.qualname if isinstance(parent, ClassInfo) else None
        if "function.receiver" in caps:
            class_name = node_text(caps["function.receiver"][0])
        qual = f"{class_name}.{name}" if class_name else name
        if stack:
            qual = f"{stack[-1][1]}.{name}"
        if isinstance(parent, FunctionInfo):
            parent.local_names.add(name)
        fn = FunctionInfo(
            qualname=qual,
            name=name,
            start_line=first,
            end_line=last,
            class_name=class_name,
            self_name=node_text(caps["function.self"][0]) if "function.self" in caps else None,
            params=param_names(caps["function.params"][0]) if "function.params" in caps else [],
            loc=self.blank[min(last, len(self.blank) - 1)] - self.blank[first - 1],
            docstring=docstring_of(self.spec, node),
            own_this=class_name is None
            and self.spec.name in _JS_LANGUAGES
            and node.type != "arrow_function",
            result_type=type_name(caps["function.result"][0])
            if "function.result" in caps
            else None,
        )
        fn.is_test = self.out.is_test and (
            re.search(self.spec.test_function, name) is not None or has_test_annotation(node)
        )
        self.out.functions.append(fn)
        return fn

    def _text(self, node: Node) -> str:
        """`node_text(node)`, sliced from the source (`node.text` costs twice as much)."""
        return self.source[node.start_byte : node.end_byte].decode("utf-8", "replace")

    def _call(self, caps: dict[str, list[Node]], fn: FunctionInfo, body: str | None = None) -> None:
        caller = fn.qualname if body is None else None
        passed = caps.get("call.arg")
        if passed is not None:  # a function passed by name (`items.map(helper)`): no call site
            arg = node_text(passed[0])
            if arg in fn.params or arg in fn.local_types:
                return  # a parameter or a variable bound before (it resolves to no function)
            line = passed[0].start_point[0] + 1
            via = receiver_text(caps["call.via"][0]) if "call.via" in caps else None
            args = passed[0].parent.named_children if passed[0].parent else []
            pos = next((i for i, a in enumerate(args) if a == passed[0]), -1)
            cs = CallSite(caller, arg, via, "passed", line, body, pos)
            self.out.calls.append(cs)
            return
        self.out.call_count += 1
        new = caps.get("call.new")
        if new is not None:
            line = new[0].start_point[0] + 1
            self.out.calls.append(CallSite(caller, node_text(new[0]), None, "new", line, body))
            return
        ctor = caps.get("call.ctor")
        if ctor is not None:  # `new C().m()`: m of class C
            name = caps["call.name"][0]
            line = name.start_point[0] + 1
            cs = CallSite(caller, node_text(name), node_text(ctor[0]), "on_new", line, body)
            self.out.calls.append(cs)
            return
        receiver = None
        recv = caps.get("call.receiver")
        if recv is not None:
            receiver = receiver_text(recv[0])
            if receiver is None:
                return  # called on an expression (a call result, an index, ...): unresolvable
        name = caps["call.name"][0]
        line = name.start_point[0] + 1
        self.out.calls.append(CallSite(caller, self._text(name), receiver, "call", line, body))
        if self.spec.name != "python" and body is None:  # `cb()`, `cb.call(...)` on a parameter
            called = node_text(name) if receiver is None else receiver
            if (receiver is None or node_text(name) in _CALL_METHODS) and called in fn.params:
                fn.called_params.append(fn.params.index(called))
