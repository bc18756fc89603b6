"""Stack-trace parsing in five formats, mangled pastes, fingerprints and message templates."""

from __future__ import annotations

import traceback
from pathlib import Path

import pytest

from loaders import stacktrace as st

JAVA = """\
Exception in thread "main" java.lang.IllegalStateException: order 1234 not found
\tat com.acme.orders.OrderService.load(OrderService.java:88)
\tat com.acme.orders.OrderController.get(OrderController.java:41)
\tat java.base/jdk.internal.reflect.NativeMethodAccessorImpl.invoke0(Native Method)
\tat org.springframework.web.servlet.FrameworkServlet.service(FrameworkServlet.java:897)
\t... 12 more
Caused by: java.sql.SQLException: connection reset
\tat com.acme.db.Pool.take(Pool.java:17)
\t... 14 more
"""

NODE = """\
TypeError: Cannot read properties of undefined (reading 'id')
    at getUser (/srv/app/src/users.js:10:15)
    at async Router.handle (/srv/app/src/router.js:55:7)
    at Layer.handle [as handle_request] (/srv/app/node_modules/express/lib/router/layer.js:95:5)
    at process.processTicksAndRejections (node:internal/process/task_queues:95:5)
"""

GO = """\
panic: runtime error: index out of range [5] with length 3

goroutine 1 [running]:
github.com/acme/cart/internal/pricing.(*Engine).Total(0xc000012345, {0xc00001c0a0, 0x3, 0x4})
\t/home/ci/cart/internal/pricing/engine.go:42 +0x1d
main.main()
\t/home/ci/cart/cmd/cart/main.go:12 +0x25
runtime.main()
\t/usr/local/go/src/runtime/proc.go:250 +0x207
exit status 2
"""

DOTNET = """\
Unhandled exception. System.InvalidOperationException: Sequence contains no elements
   at System.Linq.ThrowHelper.ThrowNoElementsException()
   at System.Linq.Enumerable.First[TSource](IEnumerable`1 source)
   at Acme.Billing.InvoiceService.Latest(Int32 id) in C:\\src\\Billing\\InvoiceService.cs:line 57
   at Acme.Billing.Program.Main(String[] args) in C:\\src\\Billing\\Program.cs:line 12
"""


def _py_trace_text(tmp_path: Path) -> str:
    mod = tmp_path / "shop_handlers.py"
    mod.write_text(
        "def parse_qty(raw):\n    return int(raw)\n\n\n"
        "def handle(raw):\n    return parse_qty(raw)\n"
    )
    ns: dict[str, object] = {}
    exec(compile(mod.read_text(), str(mod), "exec"), ns)
    try:
        ns["handle"]("abc")  # type: ignore[operator]
    except ValueError as e:
        return "".join(traceback.format_exception(e))
    raise AssertionError("no error raised")


def test_python_real_traceback(tmp_path: Path) -> None:
    trace = st.parse(_py_trace_text(tmp_path))
    assert trace is not None and trace.language == "python"
    assert trace.error_type == "ValueError"
    assert "invalid literal" in trace.message
    assert [f.function for f in trace.frames][-2:] == ["handle", "parse_qty"]
    assert trace.frames[-1].path.endswith("shop_handlers.py") and trace.frames[-1].line == 2


def test_python_chained_takes_the_raised_one() -> None:
    text = """Traceback (most recent call last):
  File "/app/a.py", line 3, in f
    x = d["k"]
KeyError: 'k'

During handling of the above exception, another exception occurred:

Traceback (most recent call last):
  File "/app/a.py", line 5, in f
    raise LookupError("missing")
  File "/usr/lib/python3.11/site-packages/lib/x.py", line 9, in g
    pass
LookupError: missing
"""
    trace = st.parse(text)
    assert trace is not None and trace.error_type == "LookupError"
    assert [f.in_app for f in trace.frames] == [True, False]
    assert len(st.parse_all(text)) == 2


def test_java_frames_innermost_last_and_in_app() -> None:
    trace = st.parse(JAVA)
    assert trace is not None and trace.language == "java"
    assert trace.error_type == "java.lang.IllegalStateException"
    assert trace.message == "order 1234 not found"
    inner = trace.frames[-1]
    assert (inner.function, inner.module, inner.line) == (
        "load",
        "com.acme.orders.OrderService",
        88,
    )
    assert inner.path == "com/acme/orders/OrderService.java"
    assert [f.in_app for f in trace.frames] == [False, False, True, True]
    assert len(st.parse_all(JAVA)) == 2  # the cause is a second trace


def test_node_frames() -> None:
    trace = st.parse(NODE)
    assert trace is not None and trace.language == "javascript"
    assert trace.error_type == "TypeError"
    assert [f.function for f in trace.in_app_frames] == ["handle", "getUser"]
    assert trace.frames[-1].path == "/srv/app/src/users.js"
    assert not any(f.in_app for f in trace.frames[:2])


def test_go_panic() -> None:
    trace = st.parse(GO)
    assert trace is not None and trace.language == "go"
    assert trace.error_type == "panic" and "index out of range" in trace.message
    inner = trace.frames[-1]
    assert inner.function == "Total" and inner.line == 42
    assert inner.module == "github.com/acme/cart/internal/pricing.Engine"
    assert [f.in_app for f in trace.frames] == [False, True, True]


def test_dotnet() -> None:
    trace = st.parse(DOTNET)
    assert trace is not None and trace.language == "dotnet"
    assert trace.error_type == "System.InvalidOperationException"
    inner_app = trace.in_app_frames[-1]
    assert inner_app.function == "Latest" and inner_app.line == 57
    assert inner_app.path == "C:/src/Billing/InvoiceService.cs"
    assert len(trace.in_app_frames) == 2


@pytest.mark.parametrize("text", [JAVA, NODE, GO, DOTNET])
def test_mangled_pastes_keep_the_fingerprint(text: str) -> None:
    clean = st.parse(text)
    assert clean is not None
    fenced_flat = "Steps:\n```\n" + "\n".join(x.strip() for x in text.splitlines()) + "\n```\n"
    quoted = "\n".join("> " + x for x in text.splitlines())
    for variant in (fenced_flat, quoted):
        got = st.parse(variant)
        assert got is not None and got.fingerprint == clean.fingerprint


def test_wrapped_lines_are_joined(tmp_path: Path) -> None:
    text = _py_trace_text(tmp_path)
    clean = st.parse(text)
    wrapped = text.replace(", line 6, in handle", ",\nline 6, in handle")
    java = JAVA.replace(
        "OrderService.load(OrderService.java:88)", "OrderService.load(\nOrderService.java:88)"
    )
    assert clean is not None and st.parse(wrapped) is not None
    assert st.parse(wrapped).fingerprint == clean.fingerprint  # type: ignore[union-attr]
    assert st.parse(java).frames[-1].line == 88  # type: ignore[union-attr]
    assert st.parse(java).fingerprint == st.parse(JAVA).fingerprint  # type: ignore[union-attr]


def test_fingerprint_ignores_lines_ids_and_qualification() -> None:
    a = st.parse(JAVA)
    moved = st.parse(JAVA.replace(":88)", ":91)").replace("1234", "99"))
    assert a is not None and moved is not None
    assert a.fingerprint == moved.fingerprint
    assert st.fingerprint("IllegalStateException", a.frames) == a.fingerprint
    other = st.parse(JAVA.replace("OrderService.load", "OrderService.save"))
    assert other is not None and other.fingerprint != a.fingerprint
    assert st.fingerprint("KeyError", []) != st.fingerprint("ValueError", [])


def test_file_references_in_log_lines() -> None:
    text = "2024-05-01 ERROR [worker] pricing/engine.go:42 total failed; see src/app/db.py:120"
    refs = {(f.path, f.line) for f in st.file_references(text)}
    assert refs == {("pricing/engine.go", 42), ("src/app/db.py", 120)}


def test_message_template() -> None:
    a = st.message_template(
        "user 42 (bob@example.com) order 7f3c9a2e-1b2d-4c5e-8f90-123456789abc failed at "
        "/var/lib/app/x.db: 'abc' 0xdeadbeef"
    )
    assert a == "user <num> (<email>) order <uuid> failed at <path>: <str> <hex>"
    assert st.message_template("order 12 not found") == st.message_template("order 9981 not found")
    assert st.short_type("svc.errors.PaymentError") == "PaymentError"


def test_tool_prefixed_traceback_parses_like_the_plain_one() -> None:
    plain = (
        "Traceback (most recent call last):\n"
        '  File "/app/src/shop/main.py", line 191, in wrap_session\n'
        "    session.exitstatus = doit(config, session) or 0\n"
        '  File "/app/src/shop/report.py", line 50, in summary\n'
        "    x.render()\n"
        "AttributeError: 'NoneType' object has no attribute 'render'\n"
    )
    for prefix in ("INTERNALERROR> ", "2024-05-01 12:00:00,123 ERROR shop.worker: "):
        prefixed = "".join(prefix + line + "\n" for line in plain.splitlines())
        got, want = st.parse("Some words first.\n" + prefixed), st.parse(plain)
        assert got is not None and want is not None
        assert (got.error_type, got.frames) == (want.error_type, want.frames)
        assert got.fingerprint == want.fingerprint
        assert [f.function for f in got.frames] == ["wrap_session", "summary"]


def test_pytest_failure_reports() -> None:
    long_form = """
________________________________ test_checkout ________________________________

    def test_checkout():
>       helper(1)

tests/test_shop.py:5:
_ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _ _
src/shop/core.py:20: in helper
    return inner(x)
src/shop/core.py:30: in inner
    raise ValueError(x)
E   ValueError: 1

src/shop/core.py:30: ValueError
=========================== short test summary info ===========================
"""
    t = st.parse(long_form)
    assert t is not None and (t.error_type, t.message) == ("ValueError", "1")
    assert [(f.path, f.line, f.function) for f in t.frames] == [
        ("tests/test_shop.py", 5, ""),
        ("src/shop/core.py", 20, "helper"),
        ("src/shop/core.py", 30, "inner"),  # innermost last, the closing line not repeated
    ]
    short_form = (
        "tests/test_shop.py:10: in test_total\n    assert total() == 3\n"
        "src/shop/cart.py:20: in total\n    return sum(lines)\n"
        "E   TypeError: unsupported operand type(s) for +: 'int' and 'str'\n"
    )
    s = st.parse(short_form)
    assert s is not None and s.error_type == "TypeError"
    assert [f.function for f in s.frames] == ["test_total", "total"]
    # a log line that merely names a file and line is not a pytest trace
    assert st.parse_all("see src/shop/cart.py:20: for details") == []
