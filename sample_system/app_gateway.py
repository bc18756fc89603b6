"""Source templates of the sample shop's gateway service."""

from __future__ import annotations

import logging

logger = logging.getLogger(__name__)

__all__ = ["GATEWAY_FILES"]

_G_ROUTES = '''"""HTTP routes of the public gateway."""

from .handlers import cancel_order, checkout, get_order, list_products, request_refund

ROUTES = {
    ("POST", "/checkout"): checkout,
    ("GET", "/orders/{order_id}"): get_order,
    ("POST", "/orders/{order_id}/cancel"): cancel_order,
    ("GET", "/products"): list_products,
    ("POST", "/refunds"): request_refund,
}
'''

_G_HANDLERS = '''"""Request handlers of the public gateway."""

import logging

from shopkit import telemetry
from shopkit.errors import NotFound

from .auth import authenticate
from .clients import CatalogClient, OrdersClient, PaymentsClient
from .pagination import parse_page
from .validation import validate_checkout

logger = logging.getLogger(__name__)
orders = OrdersClient()
catalog = CatalogClient()
payments = PaymentsClient()


@telemetry.server("POST", "/checkout")
def checkout(request):
    """Place an order for the signed-in customer."""
    customer_id = authenticate(request["headers"])
    body = validate_checkout(request["body"])
    order = orders.create(customer_id, body)
    return {"order_id": order["order_id"], "total": order["total_display"]}


@telemetry.server("GET", "/orders/{order_id}")
def get_order(request):
    """Show one order of the signed-in customer."""
    customer_id = authenticate(request["headers"])
    order = orders.get(request["params"]["order_id"])
    if order["customer_id"] != customer_id:
        raise NotFound("no such order")
    return order


@telemetry.server("POST", "/orders/{order_id}/cancel")
def cancel_order(request):
    """Cancel an order while the cancellation window is open."""
    customer_id = authenticate(request["headers"])
    return orders.cancel(request["params"]["order_id"], customer_id)


@telemetry.server("GET", "/products")
def list_products(request):
    """One page of the catalogue."""
    page, size = parse_page(request["query"])
    return catalog.list_products(page, size)


@telemetry.server("POST", "/refunds")
def request_refund(request):
    """Refund a paid order."""
    customer_id = authenticate(request["headers"])
    body = request["body"]
    return payments.refund(body["order_id"], customer_id, body.get("reason", ""))
'''

_G_AUTH = '''"""Bearer-token authentication of gateway requests."""

import logging

from shopkit import telemetry
from shopkit.errors import Unauthorized

logger = logging.getLogger(__name__)
TOKEN_PREFIX = "Bearer "


@telemetry.traced()
def authenticate(headers):
    """Return the customer id a request is signed in as."""
    normalised = {key.lower(): value for key, value in headers.items()}
    token = normalised.get("authorization")
    if not token or not token.startswith(TOKEN_PREFIX):
        raise Unauthorized("missing bearer token")
    return parse_token(token[len(TOKEN_PREFIX):])


def parse_token(token):
    """Tokens look like tok-<customer id>."""
    prefix, _, customer_id = token.partition("-")
    if prefix != "tok" or not customer_id:
        raise Unauthorized("malformed token")
    return customer_id
'''

_G_PAGINATION = '''"""Page and size query parameters."""

import logging

from shopkit.errors import ValidationError

logger = logging.getLogger(__name__)
DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100


def parse_page(query):
    """Read page (1-based) and size from a query string."""
    page = int(query.get("page") or 1)
    size = int(query.get("size") or DEFAULT_PAGE_SIZE)
    if page < 1:
        raise ValidationError("page must be at least 1")
    return page, min(size, MAX_PAGE_SIZE)
'''

_G_VALIDATION = '''"""Validation of checkout requests."""

import logging

from shopkit.errors import ValidationError

logger = logging.getLogger(__name__)
SUPPORTED_CURRENCIES = ("USD", "EUR", "GBP", "JPY")


def validate_checkout(body):
    """Check a checkout body and normalise its currency."""
    lines = body.get("lines") or []
    if not lines:
        raise ValidationError("an order needs at least one line")
    for line in lines:
        if int(line.get("quantity", 0)) <= 0:
            raise ValidationError(f"bad quantity for {line.get('sku')}")
    currency = body.get("currency", "USD").upper()
    if currency not in SUPPORTED_CURRENCIES:
        raise ValidationError(f"unsupported currency {currency}")
    if "payment" not in body:
        raise ValidationError("a payment method is required")
    return {**body, "lines": lines, "currency": currency}
'''

_G_CLIENTS = '''"""Clients of the internal services the gateway fronts."""

import logging

from shopkit import telemetry, transport

logger = logging.getLogger(__name__)


class OrdersClient:
    """Calls the orders service."""

    @telemetry.client("orders", "POST", "/orders")
    def create(self, customer_id, body):
        payload = {
            "customer_id": customer_id,
            "lines": body["lines"],
            "currency": body["currency"],
            "coupon": body.get("coupon"),
            "payment": body["payment"],
            "region": body.get("region", "EU"),
        }
        return transport.request("orders", "POST", "/orders", body=payload)

    @telemetry.client("orders", "GET", "/orders/{order_id}")
    def get(self, order_id):
        params = {"order_id": order_id}
        return transport.request("orders", "GET", "/orders/{order_id}", params=params)

    @telemetry.client("orders", "POST", "/orders/{order_id}/cancel")
    def cancel(self, order_id, customer_id):
        params = {"order_id": order_id}
        body = {"customer_id": customer_id}
        route = "/orders/{order_id}/cancel"
        return transport.request("orders", "POST", route, body=body, params=params)


class CatalogClient:
    """Calls the inventory service's catalogue."""

    @telemetry.client("inventory", "GET", "/products")
    def list_products(self, page, size):
        query = {"page": str(page), "size": str(size)}
        return transport.request("inventory", "GET", "/products", query=query)


class PaymentsClient:
    """Calls the payments service."""

    @telemetry.client("payments", "POST", "/refunds")
    def refund(self, order_id, customer_id, reason):
        body = {"order_id": order_id, "customer_id": customer_id, "reason": reason}
        return transport.request("payments", "POST", "/refunds", body=body)
'''

GATEWAY_FILES: dict[str, str] = {
    "__init__.py": '"""Public HTTP gateway of the shop."""\n',
    "routes.py": _G_ROUTES,
    "handlers.py": _G_HANDLERS,
    "auth.py": _G_AUTH,
    "pagination.py": _G_PAGINATION,
    "validation.py": _G_VALIDATION,
    "clients.py": _G_CLIENTS,
}
