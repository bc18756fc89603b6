"""Error signatures: type + in-app frames by function identity; messages normalised, except a
quoted key or attribute name, which tells two bugs apart."""

from __future__ import annotations

from loaders import stacktrace as st

TRACE = """Traceback (most recent call last):
  File "/srv/app/shop/pricing.py", line {outer}, in convert
    return rates[currency]
  File "/srv/app/shop/rates.py", line {inner}, in lookup
    return table[key]
KeyError: {key}
"""


def _fp(outer: int, inner: int, key: str) -> str:
    trace = st.parse(TRACE.format(outer=outer, inner=inner, key=key))
    assert trace is not None
    return trace.fingerprint


def test_line_numbers_do_not_split_a_signature_but_functions_do() -> None:
    assert _fp(10, 20, "'JPY'") == _fp(11, 27, "'JPY'")  # the code moved: same error
    other = TRACE.replace("in lookup", "in lookup_cached")
    moved = st.parse(other.format(outer=10, inner=20, key="'JPY'"))
    assert moved is not None and moved.fingerprint != _fp(10, 20, "'JPY'")


def test_keys_and_attribute_names_stay_values_do_not() -> None:
    t = st.message_template
    assert t("'JPY'", "KeyError") == "'JPY'"
    assert t("'JPY'", "builtins.KeyError") != t("'Authorization'", "KeyError")
    assert t("'NoneType' object has no attribute 'total'", "AttributeError") == (
        "'NoneType' object has no attribute 'total'"
    )
    # ids, numbers and free text inside quotes are values even in a KeyError
    assert t("'order_18231'", "KeyError") == "<str>"
    assert t("'a b c'", "KeyError") == "<str>"
    # other errors: every quoted value, number, hex and path is normalised
    assert t("invalid literal for int() with base 10: 'abc'", "ValueError") == (
        "invalid literal for int() with base <num>: <str>"
    )
    assert t("orders answered 503 at /srv/app/x.py: 0xdeadbeef", "UpstreamError") == (
        "orders answered <num> at <path>: <hex>"
    )


def test_frameless_errors_group_by_type_and_template() -> None:
    a = st.fingerprint("KeyError", [], "'JPY'")
    assert a == st.fingerprint("KeyError", [], "'JPY'")
    assert a != st.fingerprint("KeyError", [], "'Authorization'")
    assert st.fingerprint("ValueError", [], "order 12 failed") == st.fingerprint(
        "ValueError", [], "order 9981 failed"
    )
