"""Source templates of the sample shop's payments service."""

from __future__ import annotations

import logging

logger = logging.getLogger(__name__)

__all__ = ["PAYMENTS_FILES"]

_P_ROUTES = '''"""HTTP routes of the payments service."""

from .handlers import charge, refund

ROUTES = {
    ("POST", "/charges"): charge,
    ("POST", "/refunds"): refund,
}
'''

_P_HANDLERS = '''"""Request handlers of the payments service."""

import logging

from shopkit import telemetry

from .network import CardNetwork
from .processor import PaymentProcessor
from .repository import PaymentRepository

logger = logging.getLogger(__name__)
_processor = None


def processor():
    """The processor, built on first use."""
    global _processor
    if _processor is None:
        _processor = PaymentProcessor(PaymentRepository(), CardNetwork())
    return _processor


@telemetry.server("POST", "/charges")
def charge(request):
    body = request["body"]
    payment = processor().charge(
        body["order_id"], body["customer_id"], body["amount_cents"], body["currency"],
        body["method"],
    )
    return payment.to_public()


@telemetry.server("POST", "/refunds")
def refund(request):
    body = request["body"]
    return processor().refund(body["order_id"], body["customer_id"], body.get("reason", ""))
'''

_P_PROCESSOR = '''"""Charging and refunding payments."""

import logging

from shopkit import telemetry
from shopkit.errors import NotFound, PaymentDeclined, ValidationError

from .currency import convert
from .fraud import risk_score
from .models import Payment, Receipt

logger = logging.getLogger(__name__)
SETTLEMENT_CURRENCY = "USD"
DECLINE_SCORE = 0.9


class PaymentProcessor:
    """Runs risk checks, authorises and captures payments."""

    def __init__(self, repository, network):
        self.repository = repository
        self.network = network

    @telemetry.traced()
    def charge(self, order_id, customer_id, amount_cents, currency, method):
        """Capture the amount of an order."""
        if amount_cents <= 0:
            raise ValidationError("amount must be positive")
        customer = self.repository.customer(customer_id)
        settled_cents = convert(amount_cents, currency, SETTLEMENT_CURRENCY)
        if risk_score(customer, settled_cents) > DECLINE_SCORE:
            raise PaymentDeclined("payment flagged by risk checks")
        source = self._authorise(method, amount_cents)
        response = self.network.capture(source, amount_cents, currency)
        receipt = Receipt.from_network(response)
        payment = Payment(order_id, customer_id, amount_cents, currency, source, receipt)
        self.repository.save(payment)
        return payment

    def _authorise(self, method, amount_cents):
        kind = method.get("type", "card")
        if kind == "card":
            return "card:" + method["token"][-4:]
        if kind == "wallet":
            return "wallet:" + method["wallet_id"]
        if kind == "gift_card":
            return self._redeem_gift_card(method["code"], amount_cents)
        raise ValidationError(f"unsupported payment method {kind}")

    def _redeem_gift_card(self, code, amount_cents):
        card = self.repository.gift_card(code)
        if card is None or card["balance_cents"] < amount_cents:
            raise PaymentDeclined("gift card balance too low")
        self.repository.debit_gift_card(code, card["balance_cents"] - amount_cents)
        return "gift:" + code

    @telemetry.traced()
    def refund(self, order_id, customer_id, reason):
        """Refund a captured payment."""
        payment = self.repository.payment_for_order(order_id)
        if payment is None or payment["customer_id"] != customer_id:
            raise NotFound(f"no payment for order {order_id}")
        if payment["status"] == "refunded":
            raise ValidationError("the payment was already refunded")
        self.network.refund(payment["source"], payment["amount_cents"], payment["currency"])
        self.repository.mark_refunded(order_id, reason)
        return {"order_id": order_id, "status": "refunded", "amount_cents": payment["amount_cents"]}
'''

_P_CURRENCY = '''"""Currency conversion in minor units."""

import logging

logger = logging.getLogger(__name__)
MINOR_DIGITS = {"USD": 2, "EUR": 2, "GBP": 2, "JPY": 0}
RATES = {("EUR", "USD"): 1.08, ("GBP", "USD"): 1.27, ("JPY", "USD"): 0.0067}


def convert(amount, source, target):
    """Convert an amount in minor units of source into minor units of target."""
    if source == target:
        return amount
    rate = RATES[(source, target)]
    scale = 10 ** (MINOR_DIGITS[target] - MINOR_DIGITS[source])
    return int(round(amount * rate * scale))
'''

_P_FRAUD = '''"""Risk scoring of payments."""

import logging

logger = logging.getLogger(__name__)
TIER_WEIGHT = {"gold": 0.1, "silver": 0.2, "standard": 0.3}
LARGE_PAYMENT_CENTS = 200_000


def risk_score(customer, amount_usd_cents):
    """A score in [0, 1]; higher is riskier."""
    score = TIER_WEIGHT.get(customer.get("tier"), 0.3)
    score += 0.15 * len(customer.get("chargebacks") or [])
    if amount_usd_cents > LARGE_PAYMENT_CENTS:
        score += 0.3
    return min(score, 1.0)
'''

_P_MODELS = '''"""Payment records."""

import logging
from dataclasses import dataclass
from datetime import datetime, timezone

logger = logging.getLogger(__name__)


@dataclass
class Receipt:
    """What the card network confirmed."""

    auth_code: str
    settled_at: object = None

    @classmethod
    def from_network(cls, response):
        settled_ms = response.get("settled_at_ms")
        settled = None
        if settled_ms is not None:
            settled = datetime.fromtimestamp(settled_ms / 1000, tz=timezone.utc)
        return cls(response["auth_code"], settled)


@dataclass
class Payment:
    """A captured payment."""

    order_id: str
    customer_id: str
    amount_cents: int
    currency: str
    source: str
    receipt: Receipt
    status: str = "captured"

    def to_row(self):
        return {
            "id": self.order_id,
            "customer_id": self.customer_id,
            "amount_cents": self.amount_cents,
            "currency": self.currency,
            "source": self.source,
            "auth_code": self.receipt.auth_code,
            "status": self.status,
        }

    def to_public(self):
        return {"order_id": self.order_id, "status": self.status, "source": self.source}
'''

_P_REPOSITORY = '''"""Persistence of payments, customers and gift cards."""

import logging

from shopkit.db import Database

logger = logging.getLogger(__name__)
_db = Database("payments")


class PaymentRepository:
    """The payments database."""

    def customer(self, customer_id):
        return _db.fetch_one("customers", customer_id) or {"id": customer_id}

    def save(self, payment):
        _db.insert("payments", payment.to_row())

    def payment_for_order(self, order_id):
        return _db.fetch_one("payments", order_id)

    def mark_refunded(self, order_id, reason):
        _db.update("payments", order_id, {"status": "refunded", "refund_reason": reason})

    def gift_card(self, code):
        return _db.fetch_one("gift_cards", code)

    def debit_gift_card(self, code, balance_cents):
        _db.update("gift_cards", code, {"balance_cents": balance_cents})
'''

_P_NETWORK = '''"""Client of the external card network."""

import logging

from shopkit import telemetry, transport

logger = logging.getLogger(__name__)
ACQUIRER_HOST = "api.acquirer.example"


class CardNetwork:
    """Captures and refunds through the acquirer."""

    @telemetry.client("acquirer", "POST", "/v2/captures", address=ACQUIRER_HOST, port=443)
    def capture(self, source, amount_cents, currency):
        body = {"source": source, "amount": amount_cents, "currency": currency}
        return transport.request("acquirer", "POST", "/v2/captures", body=body)

    @telemetry.client("acquirer", "POST", "/v2/refunds", address=ACQUIRER_HOST, port=443)
    def refund(self, source, amount_cents, currency):
        body = {"source": source, "amount": amount_cents, "currency": currency}
        return transport.request("acquirer", "POST", "/v2/refunds", body=body)
'''

PAYMENTS_FILES: dict[str, str] = {
    "__init__.py": '"""Payments service."""\n',
    "routes.py": _P_ROUTES,
    "handlers.py": _P_HANDLERS,
    "processor.py": _P_PROCESSOR,
    "currency.py": _P_CURRENCY,
    "fraud.py": _P_FRAUD,
    "models.py": _P_MODELS,
    "repository.py": _P_REPOSITORY,
    "network.py": _P_NETWORK,
}
