"""The project's error hierarchy: each class says who must act on it."""

from __future__ import annotations

__all__ = [
    "AuthError",
    "BatchValidationError",
    "CallerError",
    "ForbiddenError",
    "ModelMissingError",
    "NotFoundError",
    "OperatorError",
    "ProdgraphError",
    "QueryError",
    "QueryLimitError",
    "QueryTimeoutError",
    "ReadOnlyViolation",
    "SchemaMismatchError",
    "StoreLockedError",
    "TransientError",
]


class ProdgraphError(Exception):
    """Root of every error the project raises on purpose."""

    status_code = 500
    code = "internal"

    def __init__(self, message: str, detail: object | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.detail = detail


class CallerError(ProdgraphError):
    """The caller sent something wrong: fix the input and retry."""

    status_code = 400
    code = "bad_request"


class BatchValidationError(CallerError):
    """A batch does not match the schema; nothing from it was written."""

    code = "invalid_batch"


class QueryError(CallerError):
    """A Cypher query failed to parse, bind or run."""

    code = "query_error"


class QueryLimitError(QueryError):
    """A query is over a size, nesting or result limit: narrow it (the detail names the limit)."""

    code = "query_limit"


class QueryTimeoutError(QueryError):
    """A query ran past its timeout and was stopped: narrow it, or raise timeout_s if allowed."""

    code = "query_timeout"


class ReadOnlyViolation(CallerError):
    """A write was attempted through a read-only path."""

    status_code = 403
    code = "read_only"


class NotFoundError(CallerError):
    status_code = 404
    code = "not_found"


class AuthError(CallerError):
    status_code = 401
    code = "unauthenticated"


class ForbiddenError(CallerError):
    status_code = 403
    code = "forbidden"


class TransientError(ProdgraphError):
    """The store is busy or unreachable: retry later."""

    status_code = 503
    code = "unavailable"


class StoreLockedError(TransientError):
    """Another process holds the embedded store for writing."""

    code = "store_locked"


class OperatorError(ProdgraphError):
    """Someone operating prodgraph must act (migrate, train, configure)."""

    status_code = 503
    code = "operator_action_required"


class SchemaMismatchError(OperatorError):
    code = "schema_mismatch"


class ModelMissingError(OperatorError):
    code = "model_missing"
