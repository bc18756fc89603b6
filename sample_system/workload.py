"""The sample shop's data and traffic: customers, products, stock, and requests per window."""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
from datetime import timedelta
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sample_system.runtime import SimClock, WindowSpec

logger = logging.getLogger(__name__)

__all__ = ["FakeDatabase", "Workload"]

_FIRST = (
    "Ana",
    "Ben",
    "Chloe",
    "Dev",
    "Emil",
    "Fatima",
    "Goran",
    "Hiro",
    "Ines",
    "Jae",
    "Kofi",
    "Lena",
    "Mateo",
    "Nia",
    "Omar",
    "Pia",
    "Quinn",
    "Rosa",
    "Sven",
    "Tara",
)
_PRODUCTS = (
    "mug",
    "kettle",
    "notebook",
    "lamp",
    "backpack",
    "scarf",
    "teapot",
    "blanket",
    "pen set",
    "planter",
    "candle",
    "speaker",
    "poster",
    "bottle",
    "wallet",
)
_WAREHOUSES = (("EU-1", "EU"), ("EU-2", "EU"), ("US-1", "US"))
_CURRENCIES = {
    "EU": (("EUR", 65), ("GBP", 25), ("USD", 10)),
    "US": (("USD", 100),),
    "APAC": (("JPY", 60), ("USD", 40)),
}
_COUPONS = ("WELCOME10", "SPRING5", "VIP20", "welcome10", "BLACKFRIDAY")
_KINDS = ("checkout", "get_order", "list_products", "cancel", "refund")
_WEIGHTS = (45, 15, 20, 10, 10)


class FakeDatabase:
    """In-memory tables behind the services' database layer."""

    def __init__(self, products: dict[str, dict]) -> None:
        self.tables: dict[tuple[str, str], dict[Any, dict]] = {}
        self.sequences: dict[str, int] = {}
        self.products = products

    def price_usd_cents(self, sku: str) -> int:
        return int(self.products[sku]["price_cents"])

    def load(self, db: str, table: str, rows: list[dict]) -> None:
        store = self.tables.setdefault((db, table), {})
        for row in rows:
            store[row["id"]] = dict(row)

    def driver(self, clock: SimClock) -> Callable[[str, str, str, dict], Any]:
        def run(db: str, operation: str, table: str, params: dict) -> Any:
            if db.endswith("-cache"):
                clock.advance_ms(0.05, 0.4)
            else:
                clock.advance_ms(0.3, 3.0)
            return self._execute(db, operation, table, params)

        return run

    def _execute(self, db: str, operation: str, table: str, params: dict) -> Any:
        rows = self.tables.setdefault((db, table), {})
        if operation == "SELECT" and "key" in params:
            row = rows.get(params["key"])
            return dict(row) if row is not None else None
        if operation == "SELECT" and "where" in params:
            where = params["where"].items()
            return [dict(r) for r in rows.values() if all(r.get(k) == v for k, v in where)]
        if operation == "SELECT":
            self.sequences[table] = self.sequences.get(table, 1000) + 1
            return self.sequences[table]
        if operation == "INSERT":
            key = params["row"].get("id", f"{table}-{len(rows)}")
            rows[key] = dict(params["row"])
            return key
        row = rows.get(params["key"])
        if row is not None:
            changes = dict(params["changes"])
            if "taken" in changes:
                row["available"] = row.get("available", 0) - changes.pop("taken")
            row.update(changes)
        return 1 if row is not None else 0


class Workload:
    """Customers and products fixed by the seed; per-window data and traffic."""

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self.legacy: list[tuple[str, str]] = []
        rng = random.Random(f"data:{seed}")
        self.customers = [self._customer(k, rng) for k in range(1, 151)]
        self.products = {
            f"sku-{k:04d}": {
                "id": f"sku-{k:04d}",
                "name": f"{rng.choice(('Classic', 'Nordic', 'Tiny', 'Everyday'))} "
                f"{rng.choice(_PRODUCTS)}",
                "price_cents": rng.randrange(199, 19999),
            }
            for k in range(1, 61)
        }

    @staticmethod
    def _customer(k: int, rng: random.Random) -> dict:
        region = rng.choices(("EU", "US", "APAC"), weights=(50, 38, 12))[0]
        name = rng.choice(_FIRST)
        roll = rng.random()
        email = (
            None
            if roll < 0.08
            else (
                f"{name.lower()}{k}@mail.invalid"
                if roll < 0.11
                else f"{name.lower()}{k}@mail.example"
            )
        )
        row: dict[str, Any] = {
            "id": f"c{k:04d}",
            "name": name if rng.random() > 0.1 else None,
            "email": email,
            "phone": f"+1555{k:06d}",
            "region": region,
            "tier": rng.choices(("gold", "silver", "standard"), weights=(15, 25, 60))[0],
        }
        if rng.random() < 0.75:
            row["chargebacks"] = ["cb"] * rng.choices((0, 1, 2), weights=(80, 15, 5))[0]
        return row

    def database(self, spec: WindowSpec, rng: random.Random) -> FakeDatabase:
        db = FakeDatabase(self.products)
        for name in ("payments", "notifications"):
            db.load(name, "customers", self.customers)
        db.load("inventory", "products", list(self.products.values()))
        db.load(
            "inventory",
            "stock",
            [
                {
                    "id": f"{wh}:{sku}",
                    "sku": sku,
                    "warehouse": wh,
                    "region": region,
                    "distance_km": rng.randrange(5, 900),
                    "available": rng.randrange(0, 40),
                }
                for sku in self.products
                for wh, region in _WAREHOUSES
            ],
        )
        db.load(
            "payments",
            "gift_cards",
            [{"id": f"GIFT-{k:03d}", "balance_cents": rng.randrange(0, 30000)} for k in range(40)],
        )
        self.legacy = self._legacy_orders(db, spec, rng)
        return db

    def _legacy_orders(
        self, db: FakeDatabase, spec: WindowSpec, rng: random.Random
    ) -> list[tuple[str, str]]:
        """Orders placed before the window; 40% stored without a UTC offset (older rows)."""
        legacy: list[tuple[str, str]] = []
        for k in range(1, 31):
            customer = rng.choice(self.customers)
            created = spec.start - timedelta(minutes=rng.randrange(60, 60 * 40))
            stamp = created.replace(tzinfo=None) if rng.random() < 0.4 else created
            order_id = f"ord-{k:07d}"
            currency = self._currency(customer, rng)
            db.load(
                "orders",
                "orders",
                [
                    {
                        "id": order_id,
                        "customer_id": customer["id"],
                        "currency": currency,
                        "status": "paid",
                        "discount_cents": 0,
                        "created_at": stamp.isoformat(),
                    }
                ],
            )
            sku = rng.choice(list(self.products))
            db.load(
                "orders",
                "order_lines",
                [
                    {
                        "id": f"{order_id}:1",
                        "order_id": order_id,
                        "sku": sku,
                        "quantity": 1,
                        "unit_cents": self.products[sku]["price_cents"],
                    }
                ],
            )
            db.load(
                "payments",
                "payments",
                [
                    {
                        "id": order_id,
                        "customer_id": customer["id"],
                        "currency": currency,
                        "amount_cents": self.products[sku]["price_cents"],
                        "source": "card:4242",
                        "status": "captured",
                    }
                ],
            )
            legacy.append((order_id, customer["id"]))
        return legacy

    @staticmethod
    def _currency(customer: dict, rng: random.Random) -> str:
        options = _CURRENCIES[customer["region"]]
        return rng.choices([c for c, _ in options], weights=[w for _, w in options])[0]

    def _headers(self, customer: dict, rng: random.Random) -> dict:
        token = f"Bearer tok-{customer['id']}"
        if rng.random() < 0.25:
            return {"authorization": token, "user-agent": "shop-ios/4.2"}
        return {"Authorization": token, "User-Agent": "Mozilla/5.0"}

    def _checkout(self, customer: dict, rng: random.Random) -> dict:
        skus = rng.sample(list(self.products), rng.choice((1, 1, 2, 3)))
        lines = [
            {
                "sku": s,
                "quantity": rng.randrange(1, 4) if rng.random() < 0.88 else rng.randrange(20, 90),
            }
            for s in skus
        ]
        kind = rng.choices(("card", "wallet", "gift_card"), weights=(60, 22, 18))[0]
        payment: dict[str, str] = {"type": kind}
        if kind == "card":
            payment["token"] = "tok_visa_4242"
        elif kind == "wallet":
            payment["wallet_id"] = f"w-{customer['id']}"
        else:
            payment["code"] = f"GIFT-{rng.randrange(40):03d}"
        body = {
            "lines": lines,
            "currency": self._currency(customer, rng),
            "payment": payment,
            "region": customer["region"],
        }
        if rng.random() < 0.15:
            body["coupon"] = rng.choice(_COUPONS)
        return body

    def _request(
        self, kind: str, customer: dict, created: list[tuple[str, str]], rng: random.Random
    ) -> tuple[str, str, dict]:
        message: dict[str, Any] = {
            "headers": self._headers(customer, rng),
            "body": {},
            "params": {},
            "query": {},
        }
        if kind == "checkout":
            message["body"] = self._checkout(customer, rng)
            return "POST", "/checkout", message
        if kind == "list_products":
            query = {"size": "20"}
            if rng.random() < 0.7:
                query["page"] = str(rng.randrange(1, 4))
            message["query"] = query
            return "GET", "/products", message
        pool = created if created and rng.random() < 0.5 else self.legacy
        order_id, owner = rng.choice(pool)
        if rng.random() < 0.9:
            owner_row = next(c for c in self.customers if c["id"] == owner)
            message["headers"] = self._headers(owner_row, rng)
        if kind == "get_order":
            message["params"] = {"order_id": order_id}
            return "GET", "/orders/{order_id}", message
        if kind == "cancel":
            message["params"] = {"order_id": order_id}
            return "POST", "/orders/{order_id}/cancel", message
        message["body"] = {"order_id": order_id, "reason": "changed my mind"}
        return "POST", "/refunds", message

    def replay(
        self,
        spec: WindowSpec,
        dispatch: Callable[[str, str, str, dict], dict],
        clock: SimClock,
        db: FakeDatabase,
        rng: random.Random,
        progress: Callable[[int], None] | None = None,
    ) -> None:
        start = int(spec.start.timestamp() * 1e9)
        end = int(spec.end.timestamp() * 1e9)
        times = sorted(rng.randrange(start, max(end, start + 1)) for _ in range(spec.requests))
        created: list[tuple[str, str]] = []
        for i, at in enumerate(times):
            clock.now = max(at, clock.now)
            customer = rng.choice(self.customers)
            kind = rng.choices(_KINDS, weights=_WEIGHTS)[0]
            method, route, message = self._request(kind, customer, created, rng)
            response = dispatch("gateway", method, route, message)
            if kind == "checkout" and response.get("status") == 200:
                created.append((response["body"]["order_id"], customer["id"]))
            if progress is not None and i % 100 == 0:
                progress(i)
