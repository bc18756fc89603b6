"""Source templates of the sample shop's orders service."""

from __future__ import annotations

import logging

logger = logging.getLogger(__name__)

__all__ = ["ORDERS_FILES"]

_O_ROUTES = '''"""HTTP routes of the orders service."""

from .handlers import cancel_order, create_order, get_order

ROUTES = {
    ("POST", "/orders"): create_order,
    ("GET", "/orders/{order_id}"): get_order,
    ("POST", "/orders/{order_id}/cancel"): cancel_order,
}
'''

_O_HANDLERS = '''"""Request handlers of the orders service."""

import logging

from shopkit import telemetry

from .clients import InventoryClient, NotificationsClient, PaymentsClient, PricingClient
from .repository import OrderRepository
from .service import OrderService

logger = logging.getLogger(__name__)
_service = None


def order_service():
    """The service object, built on first use."""
    global _service
    if _service is None:
        _service = OrderService(
            OrderRepository(), PricingClient(), InventoryClient(), PaymentsClient(),
            NotificationsClient(),
        )
    return _service


@telemetry.server("POST", "/orders")
def create_order(request):
    body = request["body"]
    order = order_service().place(
        body["customer_id"], body["lines"], body["currency"], body.get("coupon"),
        body["payment"], body.get("region", "EU"),
    )
    return order.to_public()


@telemetry.server("GET", "/orders/{order_id}")
def get_order(request):
    return order_service().find(request["params"]["order_id"]).to_public()


@telemetry.server("POST", "/orders/{order_id}/cancel")
def cancel_order(request):
    order_id = request["params"]["order_id"]
    order = order_service().cancel(order_id, request["body"]["customer_id"])
    return order.to_public()
'''

_O_SERVICE = '''"""Order placement, lookup and cancellation."""

import logging
from datetime import timedelta

from shopkit import clock, telemetry
from shopkit.errors import NotFound, UpstreamError, ValidationError

from .discounts import apply_coupon
from .models import Order, OrderLine

logger = logging.getLogger(__name__)
CANCEL_WINDOW = timedelta(hours=24)


class OrderService:
    """Coordinates pricing, stock, payment and notification for orders."""

    def __init__(self, repository, pricing, inventory, payments, notifications):
        self.repository = repository
        self.pricing = pricing
        self.inventory = inventory
        self.payments = payments
        self.notifications = notifications

    @telemetry.traced()
    def place(self, customer_id, lines, currency, coupon, payment, region):
        """Price, reserve, charge and store a new order."""
        quote = self.pricing.quote(lines, currency)
        order_lines = [
            OrderLine(line["sku"], int(line["quantity"]), quote["prices"][line["sku"]])
            for line in lines
        ]
        order_id = self.repository.next_id()
        order = Order(order_id, customer_id, currency, order_lines, created_at=clock.now())
        if coupon:
            order.discount_cents = apply_coupon(order.subtotal_cents(), coupon)
        self.inventory.reserve(order_id, lines, region)
        self.payments.charge(order_id, customer_id, order.total_cents(), currency, payment)
        order.status = "paid"
        self.repository.save(order)
        self.notify_placed(order)
        return order

    def notify_placed(self, order):
        """Confirmation mails are best effort."""
        try:
            self.notifications.order_confirmation(order.customer_id, order.to_public())
        except UpstreamError:
            logger.warning("confirmation for %s was not sent", order.order_id)

    @telemetry.traced()
    def find(self, order_id):
        """Load an order or fail with 404."""
        order = self.repository.get(order_id)
        if order is None:
            raise NotFound(f"order {order_id} not found")
        return order

    @telemetry.traced()
    def cancel(self, order_id, customer_id):
        """Cancel and refund an order inside the cancellation window."""
        order = self.find(order_id)
        if order.customer_id != customer_id:
            raise NotFound(f"order {order_id} not found")
        if clock.now() - order.created_at > CANCEL_WINDOW:
            raise ValidationError("the cancellation window has passed")
        self.payments.refund(order_id, customer_id, "cancelled by customer")
        order.status = "cancelled"
        self.repository.update_status(order)
        return order
'''

_O_MODELS = '''"""Order records."""

import logging
from dataclasses import dataclass, field

from .utils import format_money, parse_timestamp

logger = logging.getLogger(__name__)


@dataclass
class OrderLine:
    """One product line of an order, priced in minor units."""

    sku: str
    quantity: int
    unit_cents: int

    def subtotal_cents(self):
        return self.quantity * self.unit_cents


@dataclass
class Order:
    """An order and its lines."""

    order_id: str
    customer_id: str
    currency: str
    lines: list = field(default_factory=list)
    status: str = "pending"
    discount_cents: int = 0
    created_at: object = None

    def subtotal_cents(self):
        return sum(line.subtotal_cents() for line in self.lines)

    def total_cents(self):
        return self.subtotal_cents() - self.discount_cents

    def to_public(self):
        total = self.total_cents()
        return {
            "order_id": self.order_id,
            "customer_id": self.customer_id,
            "status": self.status,
            "currency": self.currency,
            "total_cents": total,
            "total_display": format_money(total, self.currency),
            "lines": [{"sku": line.sku, "quantity": line.quantity} for line in self.lines],
        }

    def to_row(self):
        return {
            "id": self.order_id,
            "customer_id": self.customer_id,
            "currency": self.currency,
            "status": self.status,
            "discount_cents": self.discount_cents,
            "created_at": self.created_at.isoformat(),
        }

    @classmethod
    def from_row(cls, row, line_rows):
        lines = [OrderLine(r["sku"], r["quantity"], r["unit_cents"]) for r in line_rows]
        return cls(
            row["id"], row["customer_id"], row["currency"], lines, row["status"],
            row.get("discount_cents", 0), parse_timestamp(row["created_at"]),
        )
'''

_O_REPOSITORY = '''"""Persistence of orders."""

import logging

from shopkit.db import Database

from .models import Order
from .utils import new_order_id

logger = logging.getLogger(__name__)
_db = Database("orders")


class OrderRepository:
    """Orders and order lines in the orders database."""

    def next_id(self):
        return new_order_id(_db.next_value("orders_id_seq"))

    def get(self, order_id):
        row = _db.fetch_one("orders", order_id)
        if row is None:
            return None
        return Order.from_row(row, _db.fetch_all("order_lines", order_id=order_id))

    def save(self, order):
        _db.insert("orders", order.to_row())
        for line in order.lines:
            row = {"order_id": order.order_id, "sku": line.sku, "quantity": line.quantity}
            _db.insert("order_lines", {**row, "unit_cents": line.unit_cents})

    def update_status(self, order):
        _db.update("orders", order.order_id, {"status": order.status})
'''

_O_CLIENTS = '''"""Clients of the services that orders depends on."""

import logging

from shopkit import telemetry, transport

logger = logging.getLogger(__name__)


class PricingClient:
    """Calls the pricing service."""

    @telemetry.client("pricing", "POST", "/quote")
    def quote(self, lines, currency):
        skus = [line["sku"] for line in lines]
        body = {"skus": skus, "currency": currency}
        return transport.request("pricing", "POST", "/quote", body=body)


class InventoryClient:
    """Calls the inventory service."""

    @telemetry.client("inventory", "POST", "/reservations")
    def reserve(self, order_id, lines, region):
        body = {"order_id": order_id, "lines": lines, "region": region}
        return transport.request("inventory", "POST", "/reservations", body=body)


class PaymentsClient:
    """Calls the payments service."""

    @telemetry.client("payments", "POST", "/charges")
    def charge(self, order_id, customer_id, amount_cents, currency, method):
        body = {
            "order_id": order_id,
            "customer_id": customer_id,
            "amount_cents": amount_cents,
            "currency": currency,
            "method": method,
        }
        return transport.request("payments", "POST", "/charges", body=body)

    @telemetry.client("payments", "POST", "/refunds")
    def refund(self, order_id, customer_id, reason):
        body = {"order_id": order_id, "customer_id": customer_id, "reason": reason}
        return transport.request("payments", "POST", "/refunds", body=body)


class NotificationsClient:
    """Calls the notifications service."""

    @telemetry.client("notifications", "POST", "/notifications/order-confirmation")
    def order_confirmation(self, customer_id, order):
        body = {"customer_id": customer_id, "order": order}
        route = "/notifications/order-confirmation"
        return transport.request("notifications", "POST", route, body=body)
'''

_O_DISCOUNTS = '''"""Coupons and discounts."""

import logging

from shopkit import telemetry
from shopkit.errors import ValidationError

logger = logging.getLogger(__name__)
COUPONS = {
    "WELCOME10": {"percent": 10},
    "SPRING5": {"amount_cents": 500},
    "VIP20": {"percent": 20},
}


@telemetry.traced()
def apply_coupon(subtotal_cents, code):
    """Discount in minor units for a coupon code."""
    coupon = COUPONS.get(code.upper())
    if coupon is None:
        raise ValidationError(f"unknown coupon {code}")
    if "percent" in coupon:
        return subtotal_cents * coupon["percent"] // 100
    return min(coupon["amount_cents"], subtotal_cents)
'''

_O_UTILS = '''"""Small helpers of the orders service."""

import logging
from datetime import datetime, timezone

logger = logging.getLogger(__name__)
MINOR_UNITS = {"USD": 2, "EUR": 2, "GBP": 2}
SYMBOLS = {"USD": "$", "EUR": "EUR ", "GBP": "GBP ", "JPY": "JPY "}


def format_money(cents, currency):
    """Human-readable amount, e.g. $12.50."""
    digits = MINOR_UNITS.get(currency, 0)
    symbol = SYMBOLS.get(currency, currency + " ")
    if digits == 0:
        return f"{symbol}{cents:,}"
    return f"{symbol}{cents / 10 ** digits:,.{digits}f}"


def parse_timestamp(value):
    """Stored timestamps; rows written before 2024 have no offset and are UTC."""
    stamp = datetime.fromisoformat(value)
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=timezone.utc)
    return stamp


def new_order_id(sequence):
    return f"ord-{sequence:07d}"
'''

ORDERS_FILES: dict[str, str] = {
    "__init__.py": '"""Order management service."""\n',
    "routes.py": _O_ROUTES,
    "handlers.py": _O_HANDLERS,
    "service.py": _O_SERVICE,
    "models.py": _O_MODELS,
    "repository.py": _O_REPOSITORY,
    "clients.py": _O_CLIENTS,
    "discounts.py": _O_DISCOUNTS,
    "utils.py": _O_UTILS,
}
