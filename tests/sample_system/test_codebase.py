"""Edits the sample history makes to Python modules: valid code, same behaviour, bugs apply."""

from __future__ import annotations

import random

import pytest

from sample_system.bugs import BUGS, protected_lines
from sample_system.codebase import Codebase, filler_function, filler_module
from sample_system.history import module_path
from sample_system.plan import make_plan

SOURCE = '''"""A module."""

import logging

logger = logging.getLogger(__name__)
LIMIT = 10


def total(items, factor):
    """Sum of the weighted items."""
    result = 0
    for item in items:
        weight = item * factor
        result += weight
    return min(result, LIMIT * 100)


def pick(levels, region):
    local = [level for level in levels if level == region] or levels
    return sorted(local, key=lambda level: level)[0]
'''


def _run(text: str, name: str, *args: object) -> object:
    scope: dict[str, object] = {"__name__": "sample_under_test"}
    exec(compile(text, "m.py", "exec"), scope)
    return scope[name](*args)  # type: ignore[operator]


def test_cosmetic_edits_keep_behaviour() -> None:
    for seed in range(30):
        code = Codebase(frozenset())
        code.files["m.py"] = SOURCE
        rng = random.Random(seed)
        for _ in range(6):
            code.cosmetic("m.py", rng)
        text = code.files["m.py"]
        assert text != SOURCE
        assert _run(text, "total", [1, 2, 3], 2) == 12
        assert _run(text, "pick", ["a", "b"], "b") == "b"


def test_rename_local_renames_every_use_and_nothing_else() -> None:
    renamed = set()
    for seed in range(20):
        code = Codebase(frozenset())
        code.files["m.py"] = SOURCE
        result = code.rename_local("m.py", random.Random(seed))
        assert result is not None
        _func, old, new = result
        renamed.add(old)
        text = code.files["m.py"]
        assert new in text
        assert _run(text, "total", [1, 2, 3], 2) == 12
        assert _run(text, "pick", ["a", "b"], "b") == "b"
    assert "level" not in renamed  # also a lambda parameter: renaming it would break pick
    assert {"result", "weight"} <= renamed


def test_tune_constant_changes_the_value() -> None:
    code = Codebase(frozenset())
    code.files["m.py"] = SOURCE
    assert code.tune_constant("m.py", random.Random(1)) == "LIMIT"
    assert "LIMIT = 10\n" not in code.files["m.py"]


def test_protected_lines_survive_edits_so_every_bug_applies() -> None:
    from sample_system.history import _SERVICE_FILES

    rng = random.Random(3)
    code = Codebase(protected_lines())
    for service, files in _SERVICE_FILES.items():
        for name, text in files.items():
            code.files[module_path(service, name)] = text
    for bug in BUGS:
        path = module_path(bug.service, bug.module)
        for _ in range(25):
            code.cosmetic(path, rng)
            code.rename_local(path, rng)
        code.replace(path, bug.old, bug.new)
        compile(code.files[path], path, "exec")
        code.replace(path, bug.new, bug.fix or bug.old)
        compile(code.files[path], path, "exec")


def test_replace_refuses_ambiguous_or_missing_text() -> None:
    code = Codebase(frozenset())
    code.files["m.py"] = SOURCE
    with pytest.raises(RuntimeError):
        code.replace("m.py", "no such text", "x")
    with pytest.raises(RuntimeError):
        code.replace("m.py", "level", "x")


def test_rename_module_rewrites_sibling_imports() -> None:
    code = Codebase(frozenset())
    code.files["services/a/a/utils.py"] = "def f():\n    return 1\n"
    code.files["services/a/a/models.py"] = "from .utils import f\n"
    code.files["services/b/b/models.py"] = "from .utils import f\n"
    touched = code.rename("services/a/a/utils.py", "services/a/a/helpers.py")
    assert sorted(touched) == ["services/a/a/helpers.py", "services/a/a/models.py"]
    assert code.files["services/a/a/models.py"] == "from .helpers import f\n"
    assert code.files["services/b/b/models.py"] == "from .utils import f\n"
    assert code.path_of("services/a/a/utils.py") == "services/a/a/helpers.py"


def test_filler_code_compiles() -> None:
    rng = random.Random(5)
    for _ in range(50):
        text, name = filler_function(rng)
        assert f"def {name}(" in text
        compile(text, "f.py", "exec")
    module = filler_module(rng, 120)
    compile(module, "g.py", "exec")
    assert module.count("\ndef ") == 120


def test_plan_orders_bugs_tickets_and_releases() -> None:
    plan = make_plan(150, 11, 10, seed=4)
    assert plan.releases[-1] == len(plan.times) - 1
    assert plan.times == sorted(plan.times)
    numbers = [t.number for t in plan.tickets]
    assert numbers == list(range(1, len(plan.tickets) + 1))
    for bug in plan.bugs:
        shipped = plan.release_times[bug.ship_release]
        assert plan.releases[bug.ship_release] >= bug.intro
        assert shipped < bug.primary.created_at < plan.times[bug.fix]
        assert all(t.created_at < plan.times[bug.fix] for t in bug.tickets)
