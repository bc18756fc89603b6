"""Stack traces in five formats, parsed by the trace loader's parser, mapped to Function nodes."""

from __future__ import annotations

import pytest

from graph_service.store import GraphStore
from graph_service.triage.code_index import code_index
from graph_service.triage.models import TicketInput
from graph_service.triage.parse import read_ticket
from loaders import stacktrace
from tests.graph_service.triage.conftest import fn_uid

PYTHON = """Traceback (most recent call last):
  File "/srv/app/shop/parsing.py", line 6, in handle
    return parse_qty(raw)
  File "/srv/app/shop/parsing.py", line 2, in parse_qty
    return int(raw)
ValueError: invalid literal for int() with base 10: 'abc'
"""
JAVA = """Exception in thread "main" java.lang.IllegalStateException: order 1234 not found
\tat com.acme.orders.OrderService.load(OrderService.java:88)
\tat com.acme.orders.OrderController.get(OrderController.java:41)
\tat org.springframework.web.servlet.FrameworkServlet.service(FrameworkServlet.java:897)
"""
NODE = """TypeError: Cannot read properties of undefined (reading 'id')
    at getUser (/srv/app/web/src/users.js:10:15)
    at async Router.handle (/srv/app/web/src/router.js:55:7)
    at Layer.handle [as handle_request] (/srv/app/node_modules/express/lib/router/layer.js:95:5)
"""
GO = """panic: runtime error: index out of range [5] with length 3

goroutine 1 [running]:
github.com/acme/cart/internal/pricing.(*Engine).Total(0xc000012345, {0xc00001c0a0, 0x3, 0x4})
\t/home/ci/cart/internal/pricing/engine.go:42 +0x1d
main.main()
\t/home/ci/cart/cmd/cart/main.go:12 +0x25
"""
DOTNET = """Unhandled exception. System.InvalidOperationException: Sequence contains no elements
   at System.Linq.ThrowHelper.ThrowNoElementsException()
   at Acme.Billing.InvoiceService.Latest(Int32 id) in C:\\src\\Billing\\InvoiceService.cs:line 57
   at Acme.Billing.Program.Main(String[] args) in C:\\src\\Billing\\Program.cs:line 12
"""

CASES = [
    (PYTHON, "python", fn_uid("shop/parsing.py", "parse_qty")),
    (
        JAVA,
        "java",
        fn_uid("svc/src/main/java/com/acme/orders/OrderService.java", "OrderService.load"),
    ),
    (NODE, "javascript", fn_uid("web/src/users.js", "getUser")),
    (GO, "go", fn_uid("cart/internal/pricing/engine.go", "Engine.Total")),
    (DOTNET, "dotnet", fn_uid("billing/src/Billing/InvoiceService.cs", "InvoiceService.Latest")),
]


@pytest.mark.parametrize(("text", "language", "innermost"), CASES, ids=[c[1] for c in CASES])
def test_frames_map_to_functions(
    code_store: GraphStore, text: str, language: str, innermost: str
) -> None:
    parsed = read_ticket(TicketInput(title="boom", body=text))
    assert parsed.language == language
    code = code_index(code_store)
    innermost_frame = min(
        (f for f in parsed.frames if f.depth is not None and f.in_app), key=lambda f: f.depth or 0
    )
    hit = code.map_frame(innermost_frame.path, innermost_frame.function, innermost_frame.line)
    assert hit is not None and hit.in_range
    assert code.fn_uid[hit.function] == innermost
    mapped = {
        code.fn_uid[h.function]
        for f in parsed.frames
        if (h := code.map_frame(f.path, f.function, f.line)) is not None and h.function >= 0
    }
    assert innermost in mapped
    assert not any("node_modules" in u or "springframework" in u for u in mapped)


@pytest.mark.parametrize(("text", "language", "innermost"), CASES, ids=[c[1] for c in CASES])
def test_fingerprint_is_the_trace_loaders(text: str, language: str, innermost: str) -> None:
    trace = stacktrace.parse(text)
    assert trace is not None
    parsed = read_ticket(TicketInput(title="", body=text))
    assert parsed.fingerprint == stacktrace.fingerprint(
        trace.error_type, trace.frames, trace.message
    )


def test_line_outside_every_function_maps_to_the_file_only(code_store: GraphStore) -> None:
    code = code_index(code_store)
    hit = code.map_frame("/x/shop/orders.py", "nothing_here", 500)
    assert hit is not None and hit.function == -1
    assert code.file_uid[hit.file] == "file:shop:shop/orders.py"


def test_a_file_name_alone_does_not_make_another_folders_frame_ours(code_store: GraphStore) -> None:
    """The reporter's own `/srv/app/tool/emails.py` is not the repository's `shop/emails.py`
    because both are called emails.py: without a function of the frame's name there, the
    frame maps nowhere (it used to land on whatever function held its line)."""
    code = code_index(code_store)
    receipt = fn_uid("shop/emails.py", "send_receipt")
    assert code.map_frame("/srv/app/tool/emails.py", "report", 5) is None
    assert code.map_frame("/srv/app/tool/emails.py", "<module>", 5) is None
    # the function the frame names is defined there: the frame is taken
    hit = code.map_frame("/srv/app/tool/emails.py", "send_receipt", 5)
    assert hit is not None and code.fn_uid[hit.function] == receipt
    # the folder agrees too, or the frame names no folder: the line range still decides
    for path in ("/srv/app/shop/emails.py", "emails.py"):
        hit = code.map_frame(path, "report", 5)
        assert hit is not None and code.fn_uid[hit.function] == receipt


def test_unknown_path_does_not_map(code_store: GraphStore) -> None:
    code = code_index(code_store)
    assert code.map_frame("/x/elsewhere/nowhere.py", "f", 3) is None


def test_log_lines_with_file_line_references_are_read() -> None:
    body = "2026-03-01 ERROR shop/payments.py:12 charge failed: card declined\n"
    parsed = read_ticket(TicketInput(title="charges fail", body=body))
    assert any(f.path.endswith("shop/payments.py") and f.line == 12 for f in parsed.frames)
    assert parsed.fingerprint is None


def test_go_frames_without_goroutine_header_are_a_trace() -> None:
    """A Go dump pasted from its `panic(...)` line, or a race report's blocks, still gives the
    failing goroutine's frames innermost first (the second block carries no depth)."""
    dump = (
        "panic(0x19f4ce0, 0x23e7190)\n"
        "\t/usr/local/go/src/runtime/panic.go:513 +0x1b9\n"
        "github.com/acme/logrus.(*TextFormatter).Format(0xc0002ef540, 0xc000305440)\n"
        "\t/home/u/go/src/github.com/acme/logrus/text_formatter.go:177 +0xad7 fp=0xc0 sp=0xc1\n"
        "github.com/acme/logrus.(*Entry).write(0xc000305440)\n"
        "\t/home/u/go/src/github.com/acme/logrus/entry.go:232 +0x93\n"
        "\n"
        "Previous write by goroutine 7:\n"
        "  github.com/acme/logrus.(*Entry).log()\n"
        "      /home/u/go/src/github.com/acme/logrus/entry.go:84 +0x373\n"
    )
    frames = read_ticket(TicketInput(title="panic in formatter", body=dump)).frames
    got = [(f.path.rsplit("/", 1)[-1], f.line, f.function, f.depth) for f in frames]
    assert got[:3] == [
        ("text_formatter.go", 177, "TextFormatter.Format", 0),
        ("entry.go", 232, "Entry.write", 1),
        ("entry.go", 84, "Entry.log", None),
    ]


def test_go_frame_lines_are_not_read_as_names_or_words() -> None:
    """Go frames reach triage with their depth; their function names must not count again as
    names the ticket mentions or as its words (as for Python and JavaScript frames)."""
    from graph_service.triage.signals import prose

    body = "Calling `applyDiscount` crashes:\n" + GO
    parsed = read_ticket(TicketInput(title="cart panics", body=body))
    assert "applyDiscount" in parsed.identifiers
    assert "Total" not in parsed.identifiers and "Engine" not in parsed.identifiers
    words = prose(body)
    assert "pricing" not in words and "engine.go" not in words
    assert "index out of range" in words


def test_python_frames_cut_before_the_opening_quote_are_read() -> None:
    """A paste that starts each frame line inside the path (`pkg/mod.py", line 12, in f`) still
    gives the frames, outermost first as Python prints them."""
    body = (
        "An exception is issued:\n"
        'shop/api.py", line 40, in handle\n'
        " return parsing.parse_qty(raw)\n"
        'shop/parsing.py", line 2, in parse_qty\n'
        "   return int(raw)\n"
        "ValueError: invalid literal for int() with base 10: 'abc'\n"
    )
    frames = read_ticket(TicketInput(title="qty", body=body)).frames
    got = [(f.path, f.line, f.function, f.depth) for f in frames]
    assert got == [("shop/api.py", 40, "handle", 1), ("shop/parsing.py", 2, "parse_qty", 0)]
