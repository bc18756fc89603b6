"""Repository-wide symbol table and call/import/inheritance resolution.

Prefer no edge to a wrong edge: a name resolves only through evidence (a definition in scope,
an import, the enclosing class and its resolved bases); anything else gets no edge.
"""

from __future__ import annotations

import logging
import posixpath
from collections.abc import Iterator
from dataclasses import dataclass, field

from loaders.code.languages import SPECS
from loaders.code.modules import ModuleIndex, family
from loaders.code.parse import FunctionInfo, ImportBinding, ParsedFile

logger = logging.getLogger(__name__)

__all__ = ["CONFIDENCE", "FileSymbols", "SymbolTable", "Target", "c3_merge", "symbols_of"]

# (kind, path, qualname): kind is fn, class, module (a file) or package (a Go directory)
Target = tuple[str, str, str]
ClassKey = tuple[str, str]

CONFIDENCE = {
    "local": 0.95,
    "same_module": 0.95,
    "import": 0.95,
    "alias": 0.95,
    "same_package": 0.9,
    "self": 0.9,
    "super": 0.9,
    "constructor": 0.9,
    "class_hierarchy": 0.85,
    "static": 0.9,
    "class_attr": 0.85,
    "reexport": 0.85,
    "local_type": 0.75,
    "constructed_receiver": 0.85,
    "annotation": 0.7,
    "field_type": 0.75,
    "sole_implementation": 0.5,
    "value_flow": 0.8,
}
_SPEC = {s.name: s for s in SPECS}
_MAX_DEPTH = 4


@dataclass(slots=True)
class FileSymbols:
    """What other files may see of one file: definitions and what it imports by name."""

    path: str
    language: str
    functions: dict[str, str | None]  # qualname -> class qualname of a method
    classes: dict[str, list[str]]  # qualname -> bases as written
    bindings: dict[str, ImportBinding] = field(default_factory=dict)
    reexports: dict[str, tuple[str, str]] = field(default_factory=dict)  # local -> (path, name)
    wildcards: list[ImportBinding] = field(default_factory=list)
    default_export: str | None = None
    # JS/TS, Go, Java (see `receivers`): declared or constructed field types per class, the
    # declared result type per function, the names a function returns, Go interface methods
    fields: dict[str, dict[str, tuple[str, str] | None]] = field(default_factory=dict)
    results: dict[str, str] = field(default_factory=dict)
    returned: dict[str, list[str]] = field(default_factory=dict)
    interfaces: dict[str, list[str]] = field(default_factory=dict)
    called_params: dict[str, list[int]] = field(default_factory=dict)  # per function


def symbols_of(parsed: ParsedFile) -> FileSymbols:
    fs = FileSymbols(
        parsed.path,
        parsed.language,
        {f.qualname: f.class_name for f in parsed.functions},
        {c.qualname: c.bases for c in parsed.classes},
        default_export=parsed.default_export,
    )
    if parsed.language != "python":
        for c in parsed.classes:
            if c.field_types:
                fs.fields[c.qualname] = c.field_types
            if c.interface_methods is not None:
                fs.interfaces[c.qualname] = c.interface_methods
        for f in parsed.functions:
            if f.result_type:
                fs.results[f.qualname] = f.result_type
            if f.returned:
                fs.returned[f.qualname] = f.returned
            if f.params:
                fs.called_params[f.qualname] = f.called_params
    for b in parsed.imports:
        if b.kind == "wildcard":
            fs.wildcards.append(b)
        elif b.local and b.local not in fs.bindings:
            fs.bindings[b.local] = b
    return fs


def c3_merge(head: list[ClassKey], seqs: list[list[ClassKey]]) -> list[ClassKey] | None:
    """C3 linearization: `head` then the merge of the parents' orders and the parent list;
    None when no consistent order exists (Python raises TypeError for such a class)."""
    out = list(head)
    seqs = [list(s) for s in seqs if s]
    while seqs:
        for seq in seqs:
            candidate = seq[0]
            if not any(candidate in s[1:] for s in seqs):
                break
        else:
            return None
        out.append(candidate)
        seqs = [s[1:] if s[0] == candidate else s for s in seqs]
        seqs = [s for s in seqs if s]
    return out


class SymbolTable:
    """Definitions of every file of a repository, and the lookups that resolve names."""

    def __init__(self, index: ModuleIndex) -> None:
        self.index = index
        self.files: dict[str, FileSymbols] = {}
        self._lookup_cache: dict[tuple[str, str], Target | None] = {}
        self._parents: dict[ClassKey, list[ClassKey]] = {}
        self._unresolved: set[ClassKey] = set()
        self._mro_cache: dict[ClassKey, list[ClassKey]] = {}
        # Go: (directory, type) -> its method names, built at the first interface call
        self.go_method_sets: dict[ClassKey, set[str]] | None = None

    def add(self, fs: FileSymbols) -> None:
        self.files[fs.path] = fs

    def set_parents(self, key: ClassKey, parents: list[ClassKey], unresolved: bool) -> None:
        self._mro_cache.clear()
        self._parents[key] = parents
        if unresolved:
            self._unresolved.add(key)

    # ---- module-level names -------------------------------------------------------------
    def lookup(self, path: str, name: str, depth: int = 0) -> Target | None:
        """What `name` means at the top level of file `path` (definitions, imports, exports)."""
        key = (path, name)
        if key in self._lookup_cache:
            return self._lookup_cache[key]
        self._lookup_cache[key] = None  # cycle guard
        result = self._lookup(path, name, depth) if depth <= _MAX_DEPTH else None
        self._lookup_cache[key] = result
        return result

    def _lookup(self, path: str, name: str, depth: int) -> Target | None:
        fs = self.files.get(path)
        if fs is None:
            return None
        if name in fs.functions and "." not in name:
            return ("fn", path, name)
        if name in fs.classes:
            return ("class", path, name)
        if name == "default" and fs.default_export:
            return self.lookup(path, fs.default_export, depth + 1)
        binding = fs.bindings.get(name)
        if binding is not None:
            return self.binding_target(fs, binding, depth + 1)
        if name in fs.reexports:
            target_path, orig = fs.reexports[name]
            found = self.lookup(target_path, orig, depth + 1)
            if found is None and posixpath.basename(target_path).split(".")[0] == orig:
                return ("module", target_path, "")
            return found
        if fs.language == "python":
            mod = self.index.py_module_name(path)
            if mod and posixpath.basename(path).startswith("__init__."):
                sub = self.index.py_file(f"{mod}.{name}")
                if sub:
                    return ("module", sub, "")
        for wildcard in fs.wildcards:
            for target in self._wildcard_files(fs, wildcard):
                found = self.lookup(target, name, depth + 1)
                if found is not None:
                    return found
        return None

    def _wildcard_files(self, fs: FileSymbols, b: ImportBinding) -> list[str]:
        if fs.language == "python":
            mod = self.index.py_resolve(self.index.py_module_name(fs.path), fs.path, b.module)
            f = self.index.py_file(mod)
            return [f] if f else []
        if fs.language == "java":
            return self.index.java_package_files(b.module)
        return []

    def binding_target(self, fs: FileSymbols, b: ImportBinding, depth: int = 0) -> Target | None:
        """The in-repository target of one import binding, or None when external."""
        lang = fs.language
        if lang == "python":
            mod = self.index.py_resolve(self.index.py_module_name(fs.path), fs.path, b.module)
            if b.kind == "module":
                dotted = mod if b.alias else (mod or "").split(".")[0]
                f = self.index.py_file(dotted)
                return ("module", f, "") if f else None
            if mod is None or b.name is None:
                return None
            sub = self.index.py_file(f"{mod}.{b.name}")
            if sub:
                return ("module", sub, "")
            f = self.index.py_file(mod)
            return self.lookup(f, b.name, depth) if f else None
        if family(lang) == "js":
            f = self.index.js_file(fs.path, b.module)
            if f is None:
                return None
            if b.kind == "module":
                return ("module", f, "")
            if b.kind == "default":
                return self.lookup(f, "default", depth)
            return self.lookup(f, b.name, depth) if b.name else None
        if lang == "go":
            directory = self.index.go_package_dir(b.module)
            return ("package", directory, "") if directory is not None else None
        if lang == "java" and b.name:
            f = self.index.java_class_file(f"{b.module}.{b.name}")
            if f and b.name in self.files.get(f, fs).classes:
                return ("class", f, b.name)
            owner = self.index.java_class_file(b.module)
            if owner:
                cls = b.module.rsplit(".", 1)[-1]
                if f"{cls}.{b.name}" in self.files.get(owner, fs).functions:
                    return ("fn", owner, f"{cls}.{b.name}")
        return None

    def import_files(self, fs: FileSymbols, b: ImportBinding) -> list[str]:
        """Files an import statement depends on (for IMPORTS edges)."""
        lang = fs.language
        if lang == "python":
            mod = self.index.py_resolve(self.index.py_module_name(fs.path), fs.path, b.module)
            if b.kind == "symbol" and mod and b.name:
                sub = self.index.py_file(f"{mod}.{b.name}")
                if sub:
                    return [sub]
            f = self.index.py_file(mod)
            return [f] if f else []
        if family(lang) == "js":
            f = self.index.js_file(fs.path, b.module)
            return [f] if f else []
        if lang == "go":
            directory = self.index.go_package_dir(b.module)
            return self.index.go_files(directory) if directory is not None else []
        if lang == "java":
            if b.kind == "wildcard":
                return self.index.java_package_files(b.module)
            f = self.index.java_class_file(f"{b.module}.{b.name}")
            return [f] if f else []
        return []

    # ---- classes ------------------------------------------------------------------------
    def resolve_class(self, fs: FileSymbols, written: str) -> Target | None:
        """A base class or type name as written in `fs` -> the class it names."""
        target = self.resolve_expr(fs, None, written)
        return target if target is not None and target[0] == "class" else None

    def find_method(
        self, cls: ClassKey, name: str, *, skip_self: bool = False
    ) -> tuple[Target, bool, bool] | None:
        """(method, found_in_cls_itself, passed_unresolved_base) in MRO-like order."""
        unresolved = False
        for k in self._mro(cls)[1 if skip_self else 0 :]:
            qual = f"{k[1]}.{name}"
            fs = self.files.get(k[0])
            if fs is not None and fs.functions.get(qual, "") == k[1]:
                return ("fn", k[0], qual), k == cls, unresolved
            unresolved = unresolved or k in self._unresolved
        return None

    def _mro(self, cls: ClassKey) -> list[ClassKey]:
        """The class then its in-repository ancestors in Python's C3 order (for single
        inheritance, as in every other language, simply the chain of parents). A hierarchy C3
        refuses (or a cycle) yields the class alone: no edge rather than a wrong one."""
        cached = self._mro_cache.get(cls)
        if cached is not None:
            return cached
        self._mro_cache[cls] = [cls]  # cycle guard
        parents = self._parents.get(cls, [])
        order = c3_merge([cls], [self._mro(p) for p in parents] + [list(parents)])
        self._mro_cache[cls] = order if order is not None and len(order) <= 50 else [cls]
        return self._mro_cache[cls]

    # ---- expressions --------------------------------------------------------------------
    def resolve_expr(
        self, fs: FileSymbols, caller: FunctionInfo | None, dotted: str
    ) -> Target | None:
        """A dotted name as seen from inside `caller` (or the file's top level)."""
        parts = dotted.split(".")
        if caller is not None and parts[0] in caller.params:
            return None
        dotted_module = self._python_dotted_module(fs, parts) if fs.language == "python" else None
        target: Target | None
        if dotted_module is not None:
            target, parts = dotted_module
        else:
            target = self.lookup(fs.path, parts[0])
            if target is None:
                target = self._package_scope(fs, parts[0])
            parts = parts[1:]
        for seg in parts:
            if target is None:
                return None
            target = self.member(target, seg)
        return target

    def _python_dotted_module(
        self, fs: FileSymbols, parts: list[str]
    ) -> tuple[Target, list[str]] | None:
        b = fs.bindings.get(parts[0])
        if b is None or b.kind != "module" or b.alias:
            return None
        for i in range(len(parts), 0, -1):
            dotted = ".".join(parts[:i])
            if b.module == dotted or b.module.startswith(dotted + "."):
                f = self.index.py_file(dotted)
                if f:
                    return ("module", f, ""), parts[i:]
        return None

    def _package_scope(self, fs: FileSymbols, name: str) -> Target | None:
        """Go and Java: names defined by other files of the same package (directory)."""
        if fs.language == "go":
            return self._in_package(posixpath.dirname(fs.path), name, exclude=fs.path)
        if fs.language == "java":
            for other in self.index.same_dir(fs.path, ".java"):
                if other != fs.path and name in self.files.get(other, fs).classes:
                    return ("class", other, name)
            for qual in fs.classes:  # a nested class referred to by its simple name
                if qual.rsplit(".", 1)[-1] == name:
                    return ("class", fs.path, qual)
        return None

    def _in_package(self, directory: str, name: str, exclude: str = "") -> Target | None:
        hits = []
        for f in self.index.go_files(directory, include_tests=True):
            if f != exclude:
                t = self.lookup(f, name)
                if t is not None and t[0] in ("fn", "class"):
                    hits.append(t)
        return hits[0] if len(hits) == 1 else None

    def member(self, target: Target, name: str) -> Target | None:
        kind, path, qual = target
        if kind == "package":
            return self._in_package(path, name)
        if kind == "module":
            fs = self.files.get(path)
            if fs is not None and fs.language == "python":
                mod = self.index.py_module_name(path)
                sub = self.index.py_file(f"{mod}.{name}") if mod else None
                if sub:
                    return ("module", sub, "")
            return self.lookup(path, name)
        if kind == "class":
            fs = self.files.get(path)
            if fs is not None and f"{qual}.{name}" in fs.classes:
                return ("class", path, f"{qual}.{name}")
            found = self.find_method((path, qual), name)
            return found[0] if found else None
        return None

    def constructor(self, cls: Target) -> tuple[Target, float] | None:
        fs = self.files.get(cls[1])
        spec = _SPEC.get(fs.language) if fs else None
        if spec is None or not spec.constructor:
            return None
        if spec.constructor == "<class>":
            qual = f"{cls[2]}.{cls[2].rsplit('.', 1)[-1]}"
            return (("fn", cls[1], qual), 1.0) if fs and qual in fs.functions else None
        found = self.find_method((cls[1], cls[2]), spec.constructor)
        if found is None:
            return None
        return found[0], (0.7 if found[2] else 1.0)

    def iter_files(self) -> Iterator[FileSymbols]:
        return iter(self.files.values())
