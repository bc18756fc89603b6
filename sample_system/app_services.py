"""Source templates of the sample shop's inventory, notifications and Go pricing services."""

from __future__ import annotations

import logging

logger = logging.getLogger(__name__)

__all__ = ["INVENTORY_FILES", "NOTIFICATIONS_FILES", "PRICING_FILES"]

_I_ROUTES = '''"""HTTP routes of the inventory service."""

from .handlers import list_products, reserve

ROUTES = {
    ("POST", "/reservations"): reserve,
    ("GET", "/products"): list_products,
}
'''

_I_HANDLERS = '''"""Request handlers of the inventory service."""

import logging

from shopkit import telemetry

from .catalog import list_page
from .stock import reserve_lines

logger = logging.getLogger(__name__)


@telemetry.server("POST", "/reservations")
def reserve(request):
    body = request["body"]
    picks = reserve_lines(body["order_id"], body["lines"], body.get("region", "EU"))
    return {"order_id": body["order_id"], "picks": picks}


@telemetry.server("GET", "/products")
def list_products(request):
    query = request["query"]
    return list_page(int(query["page"]), int(query["size"]))
'''

_I_STOCK = '''"""Stock reservation across warehouses."""

import logging

from shopkit import telemetry
from shopkit.errors import OutOfStock

from .repository import StockRepository

logger = logging.getLogger(__name__)
_stock = StockRepository()


@telemetry.traced()
def reserve_lines(order_id, lines, region):
    """Reserve every line of an order; returns the warehouse picks."""
    picks = []
    for line in lines:
        levels = sort_by_proximity(_stock.levels(line["sku"]), region)
        for pick in allocate(levels, int(line["quantity"])):
            _stock.take(pick["warehouse"], line["sku"], pick["quantity"])
            picks.append({**pick, "sku": line["sku"]})
    logger.info("reserved %d picks for %s", len(picks), order_id)
    return picks


def sort_by_proximity(levels, region):
    """Nearest warehouse in the customer's region first."""
    local = [level for level in levels if level["region"] == region] or levels
    first = min(local, key=lambda level: level["distance_km"])
    return [first] + [level for level in levels if level is not first]


def allocate(levels, quantity):
    """Take stock from the warehouses in order until the quantity is covered."""
    picks = []
    remaining = quantity
    index = 0
    while remaining > 0 and index < len(levels):
        level = levels[index]
        take = min(level["available"], remaining)
        if take > 0:
            picks.append({"warehouse": level["warehouse"], "quantity": take})
            remaining -= take
        index += 1
    if remaining > 0:
        raise OutOfStock(f"short by {remaining}")
    return picks
'''

_I_CATALOG = '''"""The product catalogue."""

import logging

from shopkit import telemetry

from .repository import ProductRepository

logger = logging.getLogger(__name__)
_products = ProductRepository()


@telemetry.traced()
def list_page(page, size):
    """One page (1-based) of products."""
    products = _products.all()
    start = (page - 1) * size
    items = [summarise(product) for product in products[start:start + size]]
    return {"page": page, "size": size, "total": len(products), "items": items}


def summarise(product):
    return {"sku": product["id"], "name": product["name"], "price_cents": product["price_cents"]}
'''

_I_REPOSITORY = '''"""Persistence of products and stock levels."""

import logging

from shopkit.db import Database

logger = logging.getLogger(__name__)
_db = Database("inventory")
_cache = Database("inventory-cache", system="redis", host="cache.internal", port=6379)


class StockRepository:
    """Stock levels per warehouse."""

    def levels(self, sku):
        return _db.fetch_all("stock", sku=sku)

    def take(self, warehouse, sku, quantity):
        _db.update("stock", f"{warehouse}:{sku}", {"taken": quantity})


class ProductRepository:
    """Products, read through the cache."""

    def all(self):
        cached = _cache.fetch_one("products", "all")
        if cached is not None:
            return cached["value"]
        products = _db.fetch_all("products")
        _cache.insert("products", {"id": "all", "value": products})
        return products
'''

INVENTORY_FILES: dict[str, str] = {
    "__init__.py": '"""Inventory and catalogue service."""\n',
    "routes.py": _I_ROUTES,
    "handlers.py": _I_HANDLERS,
    "stock.py": _I_STOCK,
    "catalog.py": _I_CATALOG,
    "repository.py": _I_REPOSITORY,
}

_N_ROUTES = '''"""HTTP routes of the notifications service."""

from .handlers import order_confirmation

ROUTES = {
    ("POST", "/notifications/order-confirmation"): order_confirmation,
}
'''

_N_HANDLERS = '''"""Request handlers of the notifications service."""

import logging

from shopkit import telemetry

from .channels import deliver, pick_channel
from .repository import NotificationRepository
from .templates import render_confirmation

logger = logging.getLogger(__name__)
_repository = NotificationRepository()


@telemetry.server("POST", "/notifications/order-confirmation")
def order_confirmation(request):
    body = request["body"]
    customer = _repository.customer(body["customer_id"])
    message = render_confirmation(customer, body["order"])
    channel = pick_channel(customer)
    receipt = deliver(channel, customer, message)
    _repository.record(body["order"]["order_id"], channel, receipt)
    return {"channel": channel, "receipt": receipt}
'''

_N_TEMPLATES = '''"""Message templates."""

import logging

from shopkit import telemetry

logger = logging.getLogger(__name__)
POINTS_PER_UNIT = 1


@telemetry.traced()
def render_confirmation(customer, order):
    """The order confirmation text."""
    name = customer.get("name") or "there"
    lines = [f"Hi {name},", f"thanks for your order {order['order_id']}."]
    lines.append(f"Total: {order['total_display']}")
    if customer.get("tier") == "gold":
        points = order["total_cents"] // 100 * POINTS_PER_UNIT
        lines.append(f"You earned {points} loyalty points.")
    return "\\n".join(lines)
'''

_N_CHANNELS = '''"""Delivery channels: e-mail and SMS."""

import logging

from shopkit import telemetry, transport

logger = logging.getLogger(__name__)
MAIL_HOST = "smtp.mailer.example"
SMS_HOST = "api.sms.example"


def pick_channel(customer):
    """E-mail when the customer has a usable address, SMS otherwise."""
    email = customer.get("email")
    if email is None:
        return "sms"
    if email.endswith(".invalid"):
        return "sms"
    return "email"


def deliver(channel, customer, message):
    if channel == "email":
        return send_email(customer["email"], message)
    return send_sms(customer.get("phone", ""), message)


@telemetry.client("mailer", "POST", "/v1/messages", address=MAIL_HOST, port=443)
def send_email(address, message):
    body = {"to": address, "text": message}
    return transport.request("mailer", "POST", "/v1/messages", body=body)


@telemetry.client("sms-gateway", "POST", "/sms", address=SMS_HOST, port=443)
def send_sms(number, message):
    return transport.request("sms-gateway", "POST", "/sms", body={"to": number, "text": message})
'''

_N_REPOSITORY = '''"""Persistence of customers' contact data and sent notifications."""

import logging

from shopkit.db import Database

logger = logging.getLogger(__name__)
_db = Database("notifications")


class NotificationRepository:
    """The notifications database."""

    def customer(self, customer_id):
        return _db.fetch_one("customers", customer_id) or {"id": customer_id}

    def record(self, order_id, channel, receipt):
        _db.insert("sent", {"order_id": order_id, "channel": channel, "receipt": receipt})
'''

NOTIFICATIONS_FILES: dict[str, str] = {
    "__init__.py": '"""Customer notifications service."""\n',
    "routes.py": _N_ROUTES,
    "handlers.py": _N_HANDLERS,
    "templates.py": _N_TEMPLATES,
    "channels.py": _N_CHANNELS,
    "repository.py": _N_REPOSITORY,
}

_GO_MOD = """module github.com/example-shop/pricing

go 1.22
"""

_GO_MAIN = """package main

import (
\t"log"
\t"net/http"

\t"github.com/example-shop/pricing/internal/quote"
)

func main() {
\tcatalog := quote.NewCatalog()
\thandler := quote.NewHandler(catalog)
\thttp.HandleFunc("/quote", handler.ServeQuote)
\tlog.Fatal(http.ListenAndServe(":8080", nil))
}
"""

_GO_HANDLER = """package quote

import (
\t"encoding/json"
\t"net/http"
)

// Handler serves price quotes over HTTP.
type Handler struct {
\tcatalog *Catalog
}

// NewHandler builds a handler over a catalogue.
func NewHandler(catalog *Catalog) *Handler {
\treturn &Handler{catalog: catalog}
}

type quoteRequest struct {
\tSKUs     []string `json:"skus"`
\tCurrency string   `json:"currency"`
}

// ServeQuote answers POST /quote.
func (h *Handler) ServeQuote(w http.ResponseWriter, r *http.Request) {
\tvar req quoteRequest
\tif err := json.NewDecoder(r.Body).Decode(&req); err != nil {
\t\thttp.Error(w, err.Error(), http.StatusBadRequest)
\t\treturn
\t}
\tprices, err := Compute(h.catalog, req.SKUs, req.Currency)
\tif err != nil {
\t\thttp.Error(w, err.Error(), http.StatusUnprocessableEntity)
\t\treturn
\t}
\tjson.NewEncoder(w).Encode(map[string]any{"prices": prices, "currency": req.Currency})
}
"""

_GO_QUOTE = """package quote

import (
\t"fmt"
\t"math"
)

// Catalog holds list prices in US cents.
type Catalog struct {
\tprices map[string]int64
}

// NewCatalog loads the list prices.
func NewCatalog() *Catalog {
\treturn &Catalog{prices: map[string]int64{}}
}

var rates = map[string]float64{"USD": 1, "EUR": 0.93, "GBP": 0.79, "JPY": 1.49}

// Compute prices every SKU in the requested currency, in minor units.
func Compute(c *Catalog, skus []string, currency string) (map[string]int64, error) {
\trate, ok := rates[currency]
\tif !ok {
\t\treturn nil, fmt.Errorf("unsupported currency %q", currency)
\t}
\tout := make(map[string]int64, len(skus))
\tfor _, sku := range skus {
\t\tlist, ok := c.prices[sku]
\t\tif !ok {
\t\t\treturn nil, fmt.Errorf("unknown sku %q", sku)
\t\t}
\t\tout[sku] = int64(math.Round(float64(list) * rate))
\t}
\treturn out, nil
}
"""

PRICING_FILES: dict[str, str] = {
    "go.mod": _GO_MOD,
    "cmd/pricing/main.go": _GO_MAIN,
    "internal/quote/handler.go": _GO_HANDLER,
    "internal/quote/quote.go": _GO_QUOTE,
}
