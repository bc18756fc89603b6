"""Builds the sample repository's history in memory and writes it with git fast-import."""

from __future__ import annotations

import logging
import os
import random
import subprocess
from dataclasses import dataclass
from pathlib import Path

from sample_system.app_deploy import compose_file, service_extras
from sample_system.app_gateway import GATEWAY_FILES
from sample_system.app_orders import ORDERS_FILES
from sample_system.app_payments import PAYMENTS_FILES
from sample_system.app_platform import PLATFORM_FILES
from sample_system.app_services import INVENTORY_FILES, NOTIFICATIONS_FILES, PRICING_FILES
from sample_system.bugs import protected_lines
from sample_system.codebase import Codebase, Edit, filler_module
from sample_system.plan import AUTHORS, SCAFFOLD_COMMITS, Plan

logger = logging.getLogger(__name__)

__all__ = ["PY_SERVICES", "CommitRecord", "build_history", "git", "module_path", "write_repo"]

PY_SERVICES = ("gateway", "orders", "payments", "inventory", "notifications")
_SERVICE_FILES = {
    "gateway": GATEWAY_FILES,
    "orders": ORDERS_FILES,
    "payments": PAYMENTS_FILES,
    "inventory": INVENTORY_FILES,
    "notifications": NOTIFICATIONS_FILES,
}
_RENAMES = (
    ("orders", "utils.py", "formatting.py"),
    ("inventory", "repository.py", "storage.py"),
    ("payments", "network.py", "acquirer.py"),
    ("notifications", "channels.py", "delivery.py"),
    ("gateway", "pagination.py", "paging.py"),
)
_MODULE_NOUNS = ("exports", "audit", "webhooks", "reports", "limits", "feature_flags", "locales")
_README = """# example-shop

The shop's services, one folder each under `services/`:

| service | language | what it does |
| --- | --- | --- |
| gateway | Python | public HTTP API, authentication |
| orders | Python | order placement and cancellation |
| payments | Python | charges, refunds, risk checks |
| inventory | Python | catalogue and stock reservation |
| notifications | Python | order confirmations by e-mail and SMS |
| pricing | Go | price quotes in the customer's currency |

`libs/shopkit` holds what the Python services share: tracing, transport and database access.
"""


def module_path(service: str, module: str) -> str:
    return f"services/{service}/{service}/{module}"


@dataclass
class CommitRecord:
    """One commit as written: metadata and the files it changed."""

    index: int
    author: int
    message: str
    edit: Edit
    sha: str = ""
    bug_path: str = ""


def git(repo: Path, *args: str, stdin: bytes | None = None) -> bytes:
    """Run git with a clean, deterministic configuration."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_CONFIG_GLOBAL": os.devnull,
        "HOME": str(repo),
        "LC_ALL": "C",
        "TZ": "UTC",
    }
    result = subprocess.run(
        ["git", "-C", str(repo), *args], input=stdin, capture_output=True, env=env, check=False
    )
    if result.returncode != 0:
        raise RuntimeError(f"git {args[0]} failed: {result.stderr.decode(errors='replace')}")
    return result.stdout


class _Builder:
    def __init__(self, plan: Plan, seed: int, filler_modules: int) -> None:
        self.plan = plan
        self.rng = random.Random(f"history:{seed}")
        self.code = Codebase(protected_lines())
        self.filler_modules = filler_modules
        self.renamed: set[str] = set()

    def _diff(self, before: dict[str, str]) -> Edit:
        edit = Edit()
        for path, text in self.code.files.items():
            if before.get(path) != text:
                edit.written[path] = text
        edit.removed = sorted(p for p in before if p not in self.code.files)
        return edit

    def scaffold(self, index: int) -> str:
        files = self.code.files
        if index == 0:
            files["README.md"] = _README
            files[".gitignore"] = "__pycache__/\n*.pyc\n.venv/\n"
            files.update(PLATFORM_FILES)
            return "Initial commit: README and the shopkit library"
        if index <= len(PY_SERVICES):
            service = PY_SERVICES[index - 1]
            for name, text in _SERVICE_FILES[service].items():
                files[module_path(service, name)] = text
            files[f"services/{service}/README.md"] = f"# {service}\n\nPart of example-shop.\n"
            files.update(service_extras(service))
            return f"Add the {service} service"
        for name, text in PRICING_FILES.items():
            files[f"services/pricing/{name}"] = text
        files.update(service_extras("pricing"))
        files["docker-compose.yml"] = compose_file()
        for service in PY_SERVICES:
            for k in range(self.filler_modules):
                path = f"services/{service}/{service}/generated/helpers_{k:04d}.py"
                files[path] = filler_module(self.rng, 50)
            if self.filler_modules:
                files[f"services/{service}/{service}/generated/__init__.py"] = '"""Helpers."""\n'
        return "Add the pricing service (Go)"

    def _python_modules(self, service: str) -> list[str]:
        prefix = f"services/{service}/{service}/"
        return sorted(
            p
            for p in self.code.files
            if p.startswith(prefix)
            and p.endswith(".py")
            and "/generated/" not in p
            and not p.endswith(("__init__.py", "routes.py"))
        )

    def _cosmetic_commit(self, path: str) -> str:
        service = path.split("/")[1]
        module = path.rsplit("/", 1)[1][:-3]
        kind, name = self.code.cosmetic(path, self.rng)
        for _ in range(self.rng.choice((0, 0, 1, 2))):
            self.code.cosmetic(path, self.rng)
        if not name:
            return f"Add {kind} helper to {service}"
        templates = {
            "log": (f"Add debug logging to {name}", f"Log {name} calls in {service}"),
            "comment": (f"Document {name}", f"Explain {module}.{name} edge cases"),
            "trailing": (f"Annotate {service}/{module}", f"Tidy comments in {module}.{name}"),
        }
        return self.rng.choice(templates[kind])

    def _active_modules(self, index: int) -> set[str]:
        return {
            module_path(b.spec.service, b.spec.module)
            for b in self.plan.bugs
            if b.intro - 2 <= index <= b.fix + 1
        }

    def ordinary(self, index: int, target: str | None = None) -> str:
        rng = self.rng
        roll = rng.random()
        if target is None and roll < 0.08:
            return self._go_commit()
        if target is None and roll < 0.12:
            log = self.code.files.get("CHANGELOG.md", "# Changelog\n")
            self.code.files["CHANGELOG.md"] = log + f"\n- {self.plan.times[index].date()}: notes\n"
            return "Update the changelog"
        if target is None and roll < 0.14 and self._rename(index):
            return self._rename_message
        if target is None and roll < 0.17:
            return self._new_module()
        if target is None:
            service = rng.choice(PY_SERVICES)
            target = rng.choice(self._python_modules(service))
        else:
            target = self.code.path_of(target)
        message = self._module_edit(target, roll)
        if rng.random() < 0.25:
            others = [m for m in self._python_modules(target.split("/")[1]) if m != target]
            self.code.cosmetic(rng.choice(others), rng)
        return message

    def _module_edit(self, target: str, roll: float) -> str:
        rng = self.rng
        service = target.split("/")[1]
        module = target.rsplit("/", 1)[1][:-3]
        if roll > 0.82:
            name = self.code.add_function(target, rng)
            return rng.choice((f"Add {name} to {service}", f"{service}: add {name} helper"))
        if roll > 0.64 and (renamed := self.code.rename_local(target, rng)) is not None:
            func, old, new = renamed
            return rng.choice((f"Rename {old} to {new} in {func}", f"Clearer names in {module}"))
        if roll > 0.58 and (constant := self.code.tune_constant(target, rng)) is not None:
            return rng.choice((f"Tune {constant}", f"{service}: adjust {constant.lower()}"))
        return self._cosmetic_commit(target)

    def _new_module(self) -> str:
        service = self.rng.choice(PY_SERVICES)
        noun = self.rng.choice(_MODULE_NOUNS)
        path = module_path(service, f"{noun}.py")
        if path in self.code.files:
            self.code.add_function(path, self.rng)
            return f"Extend {service}/{noun}"
        self.code.files[path] = filler_module(
            self.rng, self.rng.randrange(2, 6), f"{noun.replace('_', ' ').capitalize()} helpers."
        )
        return self.rng.choice((f"Add {noun} module to {service}", f"{service}: new {noun} module"))

    def _go_commit(self) -> str:
        path = self.rng.choice(
            (
                "services/pricing/internal/quote/quote.go",
                "services/pricing/internal/quote/handler.go",
            )
        )
        lines = self.code.files[path].split("\n")
        spots = [i for i, line in enumerate(lines) if line.startswith("\t") and "//" not in line]
        i = self.rng.choice(spots)
        pad = lines[i][: len(lines[i]) - len(lines[i].lstrip("\t"))]
        lines.insert(i, f"{pad}// {self.rng.choice(('guarded by the caller', 'see pricing.md'))}")
        self.code.files[path] = "\n".join(lines)
        return self.rng.choice(("pricing: document the quote flow", "pricing: clarify handler"))

    def _rename(self, index: int) -> bool:
        active = self._active_modules(index)
        options = [
            r
            for r in _RENAMES
            if module_path(r[0], r[1]) not in self.renamed
            and self.code.path_of(module_path(r[0], r[1])) not in active
            and module_path(r[0], r[1]) not in active
        ]
        if not options:
            return False
        service, old, new = self.rng.choice(options)
        self.code.rename(module_path(service, old), module_path(service, new))
        self.renamed.add(module_path(service, old))
        self._rename_message = f"Rename {service}/{old[:-3]} to {new[:-3]}"
        return True

    def commit(self, index: int) -> CommitRecord:
        before = dict(self.code.files)
        intro, fix = self.plan.bug_at(index)
        if index < SCAFFOLD_COMMITS:
            message = self.scaffold(index)
        elif fix is not None:
            path = self.code.path_of(module_path(fix.spec.service, fix.spec.module))
            self.code.replace(path, fix.spec.new, fix.spec.fix or fix.spec.old)
            if self.rng.random() < 0.3:
                self.code.cosmetic(path, self.rng)
            numbers = f"Fixes #{fix.primary.number}"
            body = self.rng.choice(
                (
                    f"Requests to {fix.spec.route} failed with {fix.spec.exc_type} on some inputs.",
                    "Adds the missing case and keeps the old behaviour otherwise.",
                    "",
                )
            )
            message = f"{fix.spec.fix_message}\n\n{body + chr(10) * 2 if body else ''}{numbers}"
        else:
            message = self.ordinary(
                index,
                target=(module_path(intro.spec.service, intro.spec.module) if intro else None),
            )
            if intro is not None:
                path = self.code.path_of(module_path(intro.spec.service, intro.spec.module))
                self.code.replace(path, intro.spec.old, intro.spec.new)
        edit = self._diff(before)
        for path, text in edit.written.items():
            if path.endswith(".py"):
                compile(text, path, "exec")
        record = CommitRecord(index, self.plan.authors[index], message, edit)
        if intro is not None:
            record.bug_path = self.code.path_of(module_path(intro.spec.service, intro.spec.module))
        return record


def build_history(
    plan: Plan, seed: int, filler_modules: int = 0
) -> tuple[list[CommitRecord], dict[int, dict[str, str]]]:
    """Every commit of the plan, and the full file set at each release commit."""
    builder = _Builder(plan, seed, filler_modules)
    records, snapshots = [], {}
    releases = set(plan.releases)
    for index in range(len(plan.times)):
        records.append(builder.commit(index))
        if index in releases:
            snapshots[index] = dict(builder.code.files)
    return records, snapshots


def _stamp(plan: Plan, record: CommitRecord) -> bytes:
    name, email, _, offset = AUTHORS[record.author]
    when = plan.times[record.index]
    epoch = int(when.timestamp())
    sign = "-" if offset < 0 else "+"
    hours, minutes = int(abs(offset)), int(abs(offset) * 60) % 60
    tz = f"{sign}{hours:02d}{minutes:02d}"
    committed = epoch + (0 if record.index % 3 else 60 * (record.index % 7 + 1))
    return (
        f"author {name} <{email}> {epoch} {tz}\ncommitter {name} <{email}> {committed} {tz}\n"
    ).encode()


def write_repo(repo: Path, plan: Plan, records: list[CommitRecord]) -> list[str]:
    """Create the git repository from the records; returns the commit shas in order."""
    repo.mkdir(parents=True, exist_ok=True)
    git(repo, "init", "-q", "-b", "main")
    chunks: list[bytes] = []
    for record in records:
        message = record.message.encode() + b"\n"
        chunks.append(b"commit refs/heads/main\n" + f"mark :{record.index + 1}\n".encode())
        chunks.append(_stamp(plan, record))
        chunks.append(f"data {len(message)}\n".encode() + message)
        for path in record.edit.removed:
            chunks.append(f"D {path}\n".encode())
        for path in sorted(record.edit.written):
            data = record.edit.written[path].encode()
            chunks.append(f"M 100644 inline {path}\ndata {len(data)}\n".encode() + data + b"\n")
        chunks.append(b"\n")
    git(repo, "fast-import", "--quiet", "--date-format=raw", stdin=b"".join(chunks))
    git(repo, "reset", "--hard", "-q", "main")
    shas = git(repo, "rev-list", "--reverse", "main").decode().split()
    for record, sha in zip(records, shas, strict=True):
        record.sha = sha
    return shas
