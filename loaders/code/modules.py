"""Where an import points inside the repository: Python modules, JS/TS files, Go/Java packages."""

from __future__ import annotations

import logging
import posixpath
import sys
from collections import defaultdict
from collections.abc import Iterable

logger = logging.getLogger(__name__)

__all__ = ["ModuleIndex", "family"]

_STDLIB = frozenset(sys.stdlib_module_names)
_JS_EXTS = (".ts", ".tsx", ".js", ".jsx", ".mjs", ".cjs", ".mts", ".cts")
_FAMILY = {"typescript": "js", "tsx": "js", "javascript": "js"}


def family(language: str) -> str:
    """Languages whose files may import each other (JS and TS share one family)."""
    return _FAMILY.get(language, language)


def _namespace_subpackages(paths: set[str], init_dirs: set[str]) -> set[str]:
    """Folders without `__init__.py` inside a package (`flask/sansio/`): Python imports them as
    namespace subpackages (`flask.sansio.app`), so their modules keep the package's name. A
    folder at the root is left alone (scripts, tests)."""
    py_dirs: set[str] = set()
    for p in paths:
        if p.endswith((".py", ".pyi")):
            d = posixpath.dirname(p)
            while d and d not in py_dirs:
                py_dirs.add(d)
                d = posixpath.dirname(d)
    found: set[str] = set()
    for d in sorted(py_dirs, key=lambda x: x.count("/")):
        parent = posixpath.dirname(d)
        if d not in init_dirs and parent and (parent in init_dirs or parent in found):
            found.add(d)
    return found


class ModuleIndex:
    """Maps import strings to repository files, given every path of the tree and its root name."""

    def __init__(self, paths: Iterable[str], root_name: str, go_modules: dict[str, str]) -> None:
        self.paths = set(paths)
        self.root_name = root_name
        self.go_modules = go_modules  # module path -> directory of its go.mod ('' for root)
        self.py: dict[str, str] = {}
        self.py_name_of: dict[str, str] = {}
        self.by_dir: dict[str, list[str]] = defaultdict(list)
        self.java_by_stem: dict[str, list[str]] = defaultdict(list)
        self._index()

    def _index(self) -> None:
        init_dirs = {posixpath.dirname(p) for p in self.paths if p.endswith("/__init__.py")}
        if "__init__.py" in self.paths:
            init_dirs.add("")
        init_dirs |= _namespace_subpackages(self.paths, init_dirs)
        for path in sorted(self.paths):
            self.by_dir[posixpath.dirname(path)].append(path)
            if path.endswith(".java"):
                self.java_by_stem[posixpath.basename(path)[:-5]].append(path)
            if path.endswith((".py", ".pyi")):
                for name in self._py_names(path, init_dirs):
                    if name not in self.py or path.endswith(".py"):
                        self.py[name] = path
                        self.py_name_of.setdefault(path, name)

    def _py_names(self, path: str, init_dirs: set[str]) -> list[str]:
        stem = path.rsplit(".", 1)[0]
        parts = stem.split("/")
        if parts[-1] == "__init__":
            parts = parts[:-1]
        directory = posixpath.dirname(path)
        # walk up while the directory is a package
        top = directory
        while top in init_dirs and top != "":
            top = posixpath.dirname(top)
        depth = 0 if top == "" else len(top.split("/"))
        names = []
        rel = parts[depth:]
        root_is_package = "" in init_dirs
        if top == "" and root_is_package:
            rel = [self.root_name, *rel]
        if rel:
            names.append(".".join(rel))
        full = ".".join(parts)
        if full and full not in names:
            # also importable from the repository root (scripts, src/, tests run from a root
            # that is itself a package)
            names.append(full)
        # A top-level name that is also a standard-library module is ambiguous: no edge.
        return [
            n
            for n in names
            if n.split(".")[0] not in _STDLIB
            or (root_is_package and n.startswith(self.root_name + "."))
        ]

    # ---- Python -------------------------------------------------------------------------
    def py_module_name(self, path: str) -> str | None:
        return self.py_name_of.get(path)

    def py_resolve(
        self, importer_module: str | None, importer_path: str, module: str
    ) -> str | None:
        """The dotted absolute module name of `module` as imported from a file (relative ok)."""
        if not module.startswith("."):
            return module
        level = len(module) - len(module.lstrip("."))
        rest = module[level:]
        if importer_module is None:
            return None
        pkg = importer_module.split(".")
        if not importer_path.endswith("__init__.py") and not importer_path.endswith("__init__.pyi"):
            pkg = pkg[:-1]
        if level - 1 > len(pkg):
            return None
        base = pkg[: len(pkg) - (level - 1)]
        return ".".join([*base, rest] if rest else base) or None

    def py_file(self, dotted: str | None) -> str | None:
        return self.py.get(dotted) if dotted else None

    # ---- JS / TS ------------------------------------------------------------------------
    def js_file(self, importer_path: str, spec: str) -> str | None:
        if not spec.startswith("."):
            return None
        base = posixpath.normpath(posixpath.join(posixpath.dirname(importer_path), spec))
        if base.startswith(".."):
            return None
        candidates = [base]
        stem, ext = posixpath.splitext(base)
        if ext in (".js", ".jsx", ".mjs", ".cjs"):
            candidates += [stem + e for e in (".ts", ".tsx", ".mts", ".cts")]
        candidates += [base + e for e in _JS_EXTS]
        candidates += [f"{base}/index{e}" for e in _JS_EXTS]
        return next((c for c in candidates if c in self.paths), None)

    # ---- Go -----------------------------------------------------------------------------
    def go_package_dir(self, import_path: str) -> str | None:
        for module, root in self.go_modules.items():
            if import_path == module or import_path.startswith(module + "/"):
                rest = import_path[len(module) :].lstrip("/")
                directory = posixpath.join(root, rest) if root else rest
                return directory.rstrip("/")
        return None

    def go_files(self, directory: str, include_tests: bool = False) -> list[str]:
        return [
            p
            for p in self.by_dir.get(directory, ())
            if p.endswith(".go") and (include_tests or not p.endswith("_test.go"))
        ]

    # ---- Java ---------------------------------------------------------------------------
    def java_class_file(self, dotted: str) -> str | None:
        """The file of a top-level class `a.b.C` (by the usual directory layout)."""
        parts = dotted.split(".")
        for i in range(len(parts), 0, -1):  # `a.b.C.Inner` -> a/b/C.java
            suffix = "/".join(parts[:i]) + ".java"
            hits = [
                p
                for p in self.java_by_stem.get(parts[i - 1], ())
                if p == suffix or p.endswith("/" + suffix)
            ]
            if len(hits) == 1:
                return hits[0]
        return None

    def java_package_files(self, dotted: str) -> list[str]:
        suffix = "/".join(dotted.split("."))
        return [
            p
            for d, files in self.by_dir.items()
            if d == suffix or d.endswith("/" + suffix)
            for p in files
            if p.endswith(".java")
        ]

    def same_dir(self, path: str, suffix: str) -> list[str]:
        return [p for p in self.by_dir.get(posixpath.dirname(path), ()) if p.endswith(suffix)]
