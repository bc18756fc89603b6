"""The sample's timeline: commit times, authors, releases, bug windows and ticket numbers."""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sample_system.bugs import BUGS, BugSpec

logger = logging.getLogger(__name__)

__all__ = ["AUTHORS", "SCAFFOLD_COMMITS", "BugPlan", "Plan", "TicketPlan", "make_plan"]

START = datetime(2025, 1, 6, 9, 0, tzinfo=UTC)
SCAFFOLD_COMMITS = 7

# name, e-mail, GitHub login, UTC offset in hours
AUTHORS: tuple[tuple[str, str, str, float], ...] = (
    ("Maya Chen", "maya.chen@example-shop.dev", "mayachen", 1),
    ("Jonas Weber", "jonas.weber@example-shop.dev", "jweber", 1),
    ("Priya Natarajan", "priya@example-shop.dev", "priyan", 5.5),
    ("Tom Okafor", "tom.okafor@example-shop.dev", "tokafor", 0),
    ("Lucia Ferreira", "lucia.ferreira@example-shop.dev", "lferreira", -3),
    ("Sam Rivera", "sam.rivera@example-shop.dev", "samr", -5),
    ("Aiko Tanaka", "aiko.tanaka@example-shop.dev", "aikot", 9),
)
AUTHOR_WEIGHTS = (9, 7, 6, 5, 4, 3, 2)
REPORTERS = (
    "support-bot",
    "hannah-support",
    "mobile-team",
    "qa-anna",
    "ops-oncall",
    "eu-success",
    "d.morgan",
    "kwame-qa",
    "rita.sales",
    "marco-ops",
)


@dataclass
class TicketPlan:
    """A ticket known before its text exists."""

    kind: str  # bug, duplicate, vague, incident, feature, question
    created_at: datetime
    bug: str | None = None
    declared: bool = False
    number: int = 0
    duplicate_of: int | None = None
    closed_at: datetime | None = None
    reporter: str = ""


@dataclass
class BugPlan:
    """When one bug enters the history, ships, is reported and is fixed."""

    spec: BugSpec
    intro: int
    fix: int
    ship_release: int
    tickets: list[TicketPlan] = field(default_factory=list)

    @property
    def primary(self) -> TicketPlan:
        return self.tickets[0]


@dataclass
class Plan:
    """Everything about the sample that is decided before any file is written."""

    times: list[datetime]
    authors: list[int]
    releases: list[int]  # commit index each release deploys
    release_times: list[datetime]
    bugs: list[BugPlan]
    tickets: list[TicketPlan]

    def bug_at(self, index: int) -> tuple[BugPlan | None, BugPlan | None]:
        intro = next((b for b in self.bugs if b.intro == index), None)
        fix = next((b for b in self.bugs if b.fix == index), None)
        return intro, fix


def _commit_times(n: int, rng: random.Random) -> list[datetime]:
    times, t = [], START
    for _ in range(n):
        times.append(t)
        t += timedelta(minutes=rng.randrange(40, 60 * 30))
        if t.weekday() >= 5:
            t += timedelta(days=7 - t.weekday())
            t = t.replace(hour=rng.randrange(7, 11))
    return times


def _releases(times: list[datetime], rng: random.Random) -> tuple[list[int], list[datetime]]:
    releases, release_times = [], []
    i = SCAFFOLD_COMMITS - 1
    while i < len(times):
        releases.append(i)
        at = times[i] + timedelta(minutes=rng.randrange(20, 240))
        if i + 1 < len(times):
            at = min(at, times[i] + (times[i + 1] - times[i]) / 2)
        release_times.append(at)
        if i == len(times) - 1:
            break
        i = min(i + rng.randrange(2, 7), len(times) - 1)
    return releases, release_times


def _place_bugs(plan: Plan, count: int, rng: random.Random) -> None:
    n = len(plan.times)
    specs = list(BUGS)
    rng.shuffle(specs)
    taken: set[int] = set()
    lo, hi = SCAFFOLD_COMMITS + 2, int(n * 0.8)
    slots = sorted(rng.sample(range(lo, hi), min(count, max(0, hi - lo))))
    for spec, intro in zip(specs, slots, strict=False):
        if intro in taken:
            continue
        ship = next((r for r, c in enumerate(plan.releases) if c >= intro), None)
        if ship is None:
            continue
        reported = plan.release_times[ship] + timedelta(minutes=rng.randrange(60, 60 * 20))
        fix_after = reported + timedelta(minutes=rng.randrange(120, 60 * 30))
        fix = next(
            (i for i in range(intro + 1, n) if plan.times[i] > fix_after and i not in taken), None
        )
        if fix is None:
            continue
        taken.update((intro, fix))
        bug = BugPlan(spec, intro, fix, ship)
        bug.tickets.append(TicketPlan("bug", reported, spec.key))
        _extra_tickets(bug, plan.release_times[ship], plan.times[fix], rng)
        plan.bugs.append(bug)


def _extra_tickets(bug: BugPlan, shipped: datetime, fixed: datetime, rng: random.Random) -> None:
    first = bug.primary.created_at
    if bug.spec.incident:
        at = shipped + (first - shipped) * rng.uniform(0.2, 0.7)
        bug.tickets.append(TicketPlan("incident", at, bug.spec.key))
    if rng.random() < 0.6:
        at = first + (fixed - first) * rng.uniform(0.1, 0.9)
        bug.tickets.append(TicketPlan("duplicate", at, bug.spec.key, declared=rng.random() < 0.5))
    if rng.random() < 0.35:
        at = first + (fixed - first) * rng.uniform(0.05, 0.95)
        bug.tickets.append(TicketPlan("vague", at, bug.spec.key))


def _number_tickets(plan: Plan, noise: int, rng: random.Random) -> None:
    span = (plan.times[-1] - plan.times[0]).total_seconds()
    for _ in range(noise):
        at = plan.times[0] + timedelta(seconds=rng.uniform(0.05, 0.98) * span)
        plan.tickets.append(TicketPlan(rng.choice(("feature", "feature", "question")), at))
    for bug in plan.bugs:
        plan.tickets.extend(bug.tickets)
    plan.tickets.sort(key=lambda t: t.created_at)
    for number, ticket in enumerate(plan.tickets, start=1):
        ticket.number = number
        ticket.reporter = rng.choice(REPORTERS)
    for bug in plan.bugs:
        fixed = plan.times[bug.fix]
        for ticket in bug.tickets:
            if ticket.kind == "duplicate":
                ticket.duplicate_of = bug.primary.number
                if ticket.reporter == bug.primary.reporter:
                    k = REPORTERS.index(ticket.reporter)
                    ticket.reporter = REPORTERS[(k + 1) % len(REPORTERS)]
            if ticket.kind == "duplicate" and ticket.declared:
                ticket.closed_at = ticket.created_at + timedelta(minutes=rng.randrange(30, 600))
            elif ticket.kind != "duplicate" or rng.random() < 0.7:
                ticket.closed_at = fixed + timedelta(minutes=rng.randrange(5, 240))
    end = plan.times[-1]
    for ticket in plan.tickets:
        if ticket.kind in ("feature", "question") and rng.random() < 0.5:
            closed = ticket.created_at + timedelta(hours=rng.randrange(2, 24 * 20))
            ticket.closed_at = closed if closed < end else None


def make_plan(commits: int, bugs: int, noise_tickets: int, seed: int) -> Plan:
    """Decide times, authors, releases, bugs and ticket numbers for a history of ``commits``."""
    rng = random.Random(f"plan:{seed}")
    commits = max(commits, SCAFFOLD_COMMITS + 12)
    times = _commit_times(commits, rng)
    authors = rng.choices(range(len(AUTHORS)), weights=AUTHOR_WEIGHTS, k=commits)
    releases, release_times = _releases(times, rng)
    plan = Plan(times, authors, releases, release_times, [], [])
    _place_bugs(plan, min(bugs, len(BUGS)), rng)
    _number_tickets(plan, noise_tickets, rng)
    return plan
