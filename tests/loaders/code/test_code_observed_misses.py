"""Golden edges for call-graph misses found against calls observed at run time
(bench/dynamic_calls.py on real test suites; docs/call_graph_eval.md)."""

from __future__ import annotations

import textwrap
from pathlib import Path

from graph_service.batch import EdgeBatch
from loaders.base import LoadReport
from loaders.code.loader import CodeConfig, CodeLoader
from loaders.code.modules import ModuleIndex


def _load(
    root: Path, files: dict[str, str]
) -> tuple[set[tuple[str, str, str]], set[tuple[str, str]]]:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(textwrap.dedent(text))
    calls: set[tuple[str, str, str]] = set()
    inherits: set[tuple[str, str]] = set()
    cfg = CodeConfig(root=root, repo="r", use_git=False, workers=1)
    for batch in CodeLoader(cfg).extract(LoadReport("code")):
        if isinstance(batch, EdgeBatch) and batch.type == "CALLS":
            for row in batch.table.to_pylist():
                calls.add((row["src"][5:], row["dst"][5:], row["resolution"]))
        elif isinstance(batch, EdgeBatch) and batch.type == "INHERITS":
            for row in batch.table.to_pylist():
                inherits.add((row["src"], row["dst"]))
    return calls, inherits


def test_a_generic_base_is_its_class_in_the_mro(tmp_path: Path) -> None:
    # `class Child(Base[int], Other)`: the MRO is Child, Base, Other. The subscripted base was
    # dropped, so `self.fail()` went to Other.fail (a wrong edge) and super() found nothing.
    calls, inherits = _load(
        tmp_path,
        {
            "m.py": """
                import typing as t
                T = t.TypeVar("T")

                class Base(t.Generic[T]):
                    def fail(self):
                        pass
                    def info(self):
                        return {}

                class Other:
                    def fail(self):
                        pass

                class Child(Base[int], Other):
                    def convert(self):
                        self.fail()
                    def info(self):
                        return super().info()
            """,
            "n.py": """
                import m

                class Far(m.Base[str]):
                    def run(self):
                        self.fail()
            """,
        },
    )
    assert ("class:r:m.py:Child", "class:r:m.py:Base") in inherits
    assert ("class:r:n.py:Far", "class:r:m.py:Base") in inherits
    pairs = {(a, b) for a, b, _ in calls}
    assert ("m.py:Child.convert", "m.py:Base.fail") in pairs
    assert ("m.py:Child.convert", "m.py:Other.fail") not in pairs
    assert ("m.py:Child.info", "m.py:Base.info", "super") in calls
    assert ("n.py:Far.run", "m.py:Base.fail") in pairs


def test_self_calls_reach_the_overrides_of_constructed_subclasses(tmp_path: Path) -> None:
    # A base class's template method calling its hooks (`Field.deserialize` ->
    # `self._deserialize`): at run time `self` is a subclass. With more subclasses built than
    # value flow follows (8), the overrides come from the class hierarchy and the classes the
    # code constructs.
    many = "".join(
        f"class F{i}(Field):\n    def _deserialize(self, value):\n        return {i}\n\n"
        for i in range(10)
    )
    calls, _ = _load(
        tmp_path,
        {
            "fields.py": textwrap.dedent("""
                class Field:
                    def deserialize(self, value):
                        return self._deserialize(value)
                    def _deserialize(self, value):
                        return value

                class Date(Field):
                    def _deserialize(self, value):
                        return value

                class LocalDate(Date):
                    pass

                class Unused(Field):
                    def _deserialize(self, value):
                        return value
            """)
            + many,
            "use.py": "import fields\n\ndef load(x):\n"
            + "".join(f"    fields.F{i}().deserialize(x)\n" for i in range(10))
            + "    return fields.LocalDate().deserialize(x)\n",
        },
    )
    by = {(a, b): how for a, b, how in calls}
    assert by[("fields.py:Field.deserialize", "fields.py:Field._deserialize")] == "self"
    for i in range(10):
        assert by[("fields.py:Field.deserialize", f"fields.py:F{i}._deserialize")] == "override"
    # Date is reached through LocalDate, which inherits its override; Unused is never built
    assert by[("fields.py:Field.deserialize", "fields.py:Date._deserialize")] == "override"
    assert ("fields.py:Field.deserialize", "fields.py:Unused._deserialize") not in by


def test_a_folder_without_init_inside_a_package_is_a_namespace_subpackage(tmp_path: Path) -> None:
    # flask's `src/flask/sansio/` has no __init__.py: `from ..helpers import f` in
    # `sansio/app.py` is `flask.helpers` (Python imports it as `flask.sansio.app`); the module
    # was named `app`, so none of its relative imports resolved.
    index = ModuleIndex(
        ["src/pkg/__init__.py", "src/pkg/helpers.py", "src/pkg/sansio/app.py", "tools/x.py"],
        "r",
        {},
    )
    assert index.py_module_name("src/pkg/sansio/app.py") == "pkg.sansio.app"
    assert index.py_module_name("tools/x.py") == "x"  # a root folder: as before
    calls, _ = _load(
        tmp_path,
        {
            "src/pkg/__init__.py": "",
            "src/pkg/helpers.py": """
                def get_flag():
                    return 1
            """,
            "src/pkg/sansio/app.py": """
                from ..helpers import get_flag
                from .scaffold import Scaffold

                class App(Scaffold):
                    def make(self):
                        return get_flag(), self.setup()
            """,
            "src/pkg/sansio/scaffold.py": """
                class Scaffold:
                    def setup(self):
                        return 2
            """,
        },
    )
    pairs = {(a, b) for a, b, _ in calls}
    assert ("src/pkg/sansio/app.py:App.make", "src/pkg/helpers.py:get_flag") in pairs
    assert ("src/pkg/sansio/app.py:App.make", "src/pkg/sansio/scaffold.py:Scaffold.setup") in pairs


def test_callers_of_a_widely_shared_decorator_reach_its_wrapper(tmp_path: Path) -> None:
    # flask's `setupmethod` wraps 43 methods: value flow conflates them in its wrapper (more
    # than 8) and gives up, so `route()`'s callers kept only their name edge. At run time the
    # caller calls the wrapper, and the wrapper calls the method it wraps.
    methods = "".join(
        f"    @setupmethod\n    def m{i}(self):\n        return {i}\n\n" for i in range(10)
    )
    calls, _ = _load(
        tmp_path,
        {
            "scaffold.py": textwrap.dedent("""
                def setupmethod(f):
                    def wrapper_func(self, *args):
                        self.check()
                        return f(self, *args)
                    return wrapper_func

                def register(f):
                    return f

                class Scaffold:
                    def check(self):
                        pass

                    @register
                    def plain(self):
                        return self.m0()

            """)
            + methods,
        },
    )
    by = {(a, b): how for a, b, how in calls}
    assert ("scaffold.py:Scaffold.plain", "scaffold.py:Scaffold.m0") in by  # the name edge
    assert by[("scaffold.py:Scaffold.plain", "scaffold.py:setupmethod.wrapper_func")] in (
        "wrapper",
        "value_flow",
    )
    for i in range(10):  # beyond value flow's 8: only the wrapper rule finds these
        assert by[("scaffold.py:setupmethod.wrapper_func", f"scaffold.py:Scaffold.m{i}")] == (
            "wrapper"
        )
    assert (
        "scaffold.py:setupmethod.wrapper_func",
        "scaffold.py:setupmethod.wrapper_func",
    ) not in by
    # `register` returns its argument: no wrapper, nothing added
    assert not any(b.startswith("scaffold.py:register.") for _, b in by)


def test_reading_a_property_on_self_runs_it(tmp_path: Path) -> None:
    # `if self.has_static_folder:` / `int(self.pct * 100)`: reads in tests, operators and
    # f-strings, of properties found from the method's class upwards (another file's base too)
    calls, _ = _load(
        tmp_path,
        {
            "base.py": """
                class Scaffold:
                    @property
                    def has_static_folder(self):
                        return True

                    @property
                    def debug(self):
                        return False

                    @debug.setter
                    def debug(self, value):
                        pass

                    def plain(self):
                        return 1
            """,
            "app.py": """
                from base import Scaffold

                class App(Scaffold):
                    @property
                    def pct(self):
                        return 0.5

                    def setup(self):
                        if self.has_static_folder:
                            return f"{int(self.pct * 100)}%"

                    def configure(self):
                        self.debug = True
                        return self.plain

                    def later(self):
                        def inner():
                            return self.pct
                        return inner
            """,
        },
    )
    by = {(a, b): how for a, b, how in calls}
    assert by[("app.py:App.setup", "base.py:Scaffold.has_static_folder")] == "implicit"
    assert by[("app.py:App.setup", "app.py:App.pct")] == "implicit"
    assert by[("app.py:App.later.inner", "app.py:App.pct")] == "implicit"
    # a write runs the setter (named as the getter is: one Function); a method read is no call
    assert by[("app.py:App.configure", "base.py:Scaffold.debug")] == "implicit"
    assert ("app.py:App.configure", "base.py:Scaffold.plain") not in by


def test_an_attribute_declared_with_a_class_types_its_calls(tmp_path: Path) -> None:
    # click: `self.type.get_metavar()` where Parameter declares `type: ParamType` in its body;
    # `self.command.get_help()` where `self.command: Command = command` in __init__;
    # `ctx.command.invoke()` where `ctx: Context` is a parameter
    calls, _ = _load(
        tmp_path,
        {
            "ptypes.py": """
                import typing as t

                class ParamType:
                    def get_metavar(self):
                        return None

                class Choice(ParamType):
                    def get_metavar(self):
                        return "[a|b]"

                class Unused(ParamType):
                    def get_metavar(self):
                        return "x"

                def convert_type(ty) -> ParamType:
                    return Choice() if ty else ParamType()
            """,
            "core.py": """
                import typing as t
                from ptypes import ParamType, convert_type

                class Command:
                    def get_help(self):
                        return "help"

                class Context:
                    def __init__(self, command):
                        self.command: Command = command

                    def get_help(self):
                        return self.command.get_help()

                class Parameter:
                    type: ParamType
                    parent: t.Optional["Context"] = None

                    def __init__(self, ty=None):
                        self.type = convert_type(ty)

                    def make_metavar(self):
                        def inner():
                            return self.type.get_metavar()
                        return self.type.get_metavar(), inner()

                def run(ctx: Context):
                    return ctx.command.get_help()

                def not_typed(obj):
                    return obj.command.get_help()
            """,
        },
    )
    by = {(a, b): how for a, b, how in calls}
    assert by[("core.py:Context.get_help", "core.py:Command.get_help")] == "field_type"
    assert by[("core.py:Parameter.make_metavar", "ptypes.py:ParamType.get_metavar")] in (
        "field_type",
        "value_flow",
    )
    assert ("core.py:Parameter.make_metavar.inner", "ptypes.py:ParamType.get_metavar") in by
    # the declared class's overrides that the code constructs, not the others
    assert ("core.py:Parameter.make_metavar", "ptypes.py:Choice.get_metavar") in by
    assert ("core.py:Parameter.make_metavar", "ptypes.py:Unused.get_metavar") not in by
    assert by[("core.py:run", "core.py:Command.get_help")] == "field_type"
    assert not any(a == "core.py:not_typed" for a, _ in by)


def test_declared_types_read_from_annotations() -> None:
    from loaders.code.field_types import declared_type

    assert declared_type("types.ParamType[t.Any]") == "types.ParamType"
    assert declared_type(' t.Optional["Context"] ') == "Context"
    assert declared_type("Command | None") == "Command"
    assert declared_type("None") is None
    assert declared_type("dict[str, int] | None") == "dict"
    assert declared_type("'a b'") is None


def test_a_declared_result_types_the_calls_on_it(tmp_path: Path) -> None:
    # click: `get_current_context().ensure_object()` and `ctx = get_current_context()` with
    # `-> Context`; `for param in self.get_params(ctx): param.get_help_record(ctx)` with
    # `-> list[Parameter]` (and the constructed overrides of the declared item class);
    # `except ClickException as e: e.show()`; `cast(Context, v)`; a module variable declared
    # `current_app: App = LocalProxy(...)` and imported elsewhere (flask)
    calls, _ = _load(
        tmp_path,
        {
            "core.py": """
                from __future__ import annotations
                import typing as t

                class Context:
                    def ensure_object(self):
                        return {}

                class Parameter:
                    def get_help_record(self, ctx):
                        return None

                    def get_default(self, ctx):
                        return None

                class Option(Parameter):
                    def get_help_record(self, ctx):
                        return ("--x", "help")

                    def get_default(self, ctx):
                        return 1

                class Argument(Parameter):
                    def get_default(self, ctx):
                        return 2

                class ClickException(Exception):
                    def show(self):
                        pass

                _stack: list = []

                def get_current_context() -> "Context":
                    return _stack[-1]

                def maybe_context() -> t.Optional[Context]:
                    return _stack[-1] if _stack else None

                class Command:
                    def __init__(self, params):
                        self.params = params

                    def get_params(self, ctx) -> list[Parameter]:
                        return list(self.params)

                    def format_options(self, ctx):
                        for param in self.get_params(ctx):
                            param.get_help_record(ctx)
                            param.get_default(ctx)
                        return [p.get_help_record(ctx) for p in self.get_params(ctx)]

                    def main(self):
                        try:
                            pass
                        except ClickException as e:
                            e.show()

                def new_func():
                    ctx = get_current_context()
                    ctx.ensure_object()
                    get_current_context().ensure_object()
                    other = maybe_context()
                    if other is not None:
                        other.ensure_object()
                    t.cast(Context, _stack[0]).ensure_object()

                def rebound(ctx: Context):
                    ctx = make_other()  # a parameter's type holds until it is bound again
                    ctx.ensure_object()

                def not_declared(x):
                    x.ensure_object()
                    for p in x:
                        p.get_help_record(None)

                Option()  # built, but never seen flowing into a Command
                Argument()
                Command(_stack)
            """,
            "globals_.py": """
                from core import Context
                current: Context = make_proxy()

                def make_proxy():
                    return object()
            """,
            "use.py": """
                from globals_ import current

                def helper():
                    return current.ensure_object()
            """,
        },
    )
    by = {(a, b): how for a, b, how in calls}
    assert by[("core.py:new_func", "core.py:Context.ensure_object")] == "annotation"
    # the declared item class's method where a constructed class runs it (Argument inherits
    # get_help_record), not where every constructed class overrides it (get_default)
    assert ("core.py:Command.format_options", "core.py:Parameter.get_help_record") in by
    assert by[("core.py:Command.format_options", "core.py:Option.get_default")] == "override"
    assert by[("core.py:Command.format_options", "core.py:Argument.get_default")] == "override"
    assert ("core.py:Command.format_options", "core.py:Parameter.get_default") not in by
    assert by[("core.py:Command.format_options", "core.py:Option.get_help_record")] == ("override")
    assert by[("core.py:Command.main", "core.py:ClickException.show")] == "annotation"
    assert ("use.py:helper", "core.py:Context.ensure_object") in by
    assert not any(a == "core.py:not_declared" for a, _ in by)
    assert ("core.py:rebound", "core.py:Context.ensure_object") not in by


def test_overrides_reached_through_a_typed_attribute_or_parameter(tmp_path: Path) -> None:
    # flask: `app.session_interface.save_session(...)` where the class body declares
    # `session_interface: SessionInterface = SecureCookieSessionInterface()`; click:
    # `cmd.invoke(ctx)` on a parameter `cmd: Command` where a constructed Group overrides it
    calls, _ = _load(
        tmp_path,
        {
            "sessions.py": """
                class SessionInterface:
                    def save_session(self, app):
                        raise NotImplementedError
                    def is_null(self):
                        return False

                class SecureCookieSessionInterface(SessionInterface):
                    def save_session(self, app):
                        return "saved"

                class NeverBuilt(SessionInterface):
                    def save_session(self, app):
                        return "never"
            """,
            "app.py": """
                from sessions import SessionInterface, SecureCookieSessionInterface

                class App:
                    session_interface: SessionInterface = SecureCookieSessionInterface()

                class Client:
                    application: App

                    def transaction(self):
                        app = self.application
                        app.session_interface.save_session(app)
                        return app.session_interface.is_null()

                class Command:
                    def invoke(self, ctx):
                        return None

                class Group(Command):
                    def invoke(self, ctx):
                        return "group"

                def run(cmd: Command, ctx):
                    return cmd.invoke(ctx)

                cli = Group()
            """,
        },
    )
    by = {(a, b): how for a, b, how in calls}
    # the base's save_session is overridden by the one class built: only the override runs
    assert ("app.py:Client.transaction", "sessions.py:SessionInterface.save_session") not in by
    # the declared class (its overrides) and the class-body default's own class (its method)
    assert (
        "app.py:Client.transaction",
        "sessions.py:SecureCookieSessionInterface.save_session",
    ) in by
    assert ("app.py:Client.transaction", "sessions.py:NeverBuilt.save_session") not in by
    assert ("app.py:Client.transaction", "sessions.py:SessionInterface.is_null") in by
    assert by[("app.py:run", "app.py:Command.invoke")] == "annotation"
    assert by[("app.py:run", "app.py:Group.invoke")] == "override"


def test_a_class_held_in_a_variable_is_constructed(tmp_path: Path) -> None:
    # flask: `tag = tag_class(self)` with `tag_class: type[JSONTag]`; `self.json =
    # self.json_provider_class(self)` with the class attribute `json_provider_class =
    # DefaultJSONProvider`; `type(self)(...)` builds the instance's own class
    calls, _ = _load(
        tmp_path,
        {
            "tag.py": """
                from __future__ import annotations

                class JSONTag:
                    def __init__(self, serializer):
                        self.serializer = serializer

                    def check(self, value):
                        raise NotImplementedError

                class TagDict(JSONTag):
                    def check(self, value):
                        return isinstance(value, dict)

                class TagNever(JSONTag):  # neither built nor held
                    def check(self, value):
                        return False

                class Serializer:
                    default_tags = [TagDict]

                    def register(self, tag_class: type[JSONTag]) -> None:
                        tag = tag_class(self)
                        return tag.check(None)

                class JSONProvider:
                    def __init__(self, app):
                        self.app = app

                class DefaultJSONProvider(JSONProvider):
                    def __init__(self, app):
                        super().__init__(app)

                class App:
                    json_provider_class: type[JSONProvider] = DefaultJSONProvider

                    def __init__(self):
                        self.json = self.json_provider_class(self)

                    def copy(self):
                        return type(self)()

            """,
        },
    )
    by = {(a, b): how for a, b, how in calls}
    assert by[("tag.py:Serializer.register", "tag.py:JSONTag.__init__")] == "constructor"
    # the classes held in a list of classes count as built: TagDict's override runs
    assert by[("tag.py:Serializer.register", "tag.py:TagDict.check")] == "override"
    assert ("tag.py:Serializer.register", "tag.py:JSONTag.check") not in by
    assert ("tag.py:Serializer.register", "tag.py:TagNever.check") not in by
    assert ("tag.py:App.__init__", "tag.py:DefaultJSONProvider.__init__") in by
    assert ("tag.py:App.copy", "tag.py:App.__init__") in by


def test_callbacks_registered_in_containers_are_called(tmp_path: Path) -> None:
    # flask's `self.view_functions[endpoint] = view_func` / `self.deferred_functions.append(f)`
    # in one method and `self.view_functions[rule.endpoint](...)` / `for d in ...: d(state)` in
    # another; marshmallow's class-level `SERIALIZATION_FUNCS = {...}` read with `.get(k)`.
    calls, _ = _load(
        tmp_path,
        {
            "reg.py": """
                from collections import defaultdict

                def on_start(): pass
                def on_stop(): pass
                def index(): pass
                def deferred(state): pass
                def never_registered(): pass
                def to_iso(v): pass
                def to_ts(v): pass

                class App:
                    FORMATS = {"iso": to_iso, "ts": to_ts}

                    def __init__(self):
                        self.views = {}
                        self.deferred = []
                        self.hooks = defaultdict(list)
                        self.before = {}

                    def add_view(self, endpoint, view):
                        self.views[endpoint] = view

                    def record(self, func):
                        self.deferred.append(func)

                    def hook(self, name, func):
                        self.hooks[name].append(func)

                    def before_request(self, func):
                        self.before.setdefault(None, []).append(func)

                    def dispatch(self, endpoint):
                        return self.views[endpoint]()

                    def register(self, state):
                        for d in self.deferred:
                            d(state)

                    def fire(self, name):
                        for f in self.hooks[name]:
                            f()

                    def preprocess(self):
                        for f in self.before.get(None, ()):
                            f()

                    def format(self, kind, v):
                        func = self.FORMATS.get(kind)
                        return func(v)

                app = App()
                app.add_view("index", index)
                app.record(deferred)
                app.hook("start", on_start)
                app.hook("stop", on_stop)
                app.before_request(on_stop)
            """,
        },
    )
    pairs = {(a, b) for a, b, _ in calls}
    assert ("reg.py:App.dispatch", "reg.py:index", "value_flow") in calls
    assert ("reg.py:App.register", "reg.py:deferred", "value_flow") in calls
    assert ("reg.py:App.fire", "reg.py:on_start") in pairs
    assert ("reg.py:App.fire", "reg.py:on_stop") in pairs
    assert ("reg.py:App.preprocess", "reg.py:on_stop") in pairs
    assert ("reg.py:App.format", "reg.py:to_iso") in pairs
    assert ("reg.py:App.format", "reg.py:to_ts") in pairs
    # what no registration stored is not called; a view is not a deferred function
    assert not any(b == "reg.py:never_registered" for _, b in pairs)
    assert ("reg.py:App.register", "reg.py:index") not in pairs
    assert ("reg.py:App.preprocess", "reg.py:on_start") not in pairs


def test_implicit_protocol_methods_of_known_instances(tmp_path: Path) -> None:
    # Operators, tests, f-strings and builtins run dunder methods of the operand's class:
    # marshmallow's `if self.exclude:` (OrderedSet.__len__), `set(self)` (__iter__),
    # f"{invalid_fields}" (__repr__); click's `__getattr__` proxies.
    calls, _ = _load(
        tmp_path,
        {
            "p.py": """
                class Bag:
                    def __init__(self, items):
                        self.items = list(items)
                    def __len__(self):
                        return len(self.items)
                    def __iter__(self):
                        return iter(self.items)
                    def __contains__(self, x):
                        return x in self.items
                    def __eq__(self, other):
                        return True
                    def __repr__(self):
                        return "Bag()"

                class Proxy:
                    def __init__(self, target):
                        self._target = target
                    def __getattr__(self, name):
                        return getattr(self._target, name)

                class Text(str):
                    def __repr__(self):
                        return "Text()"

                def use(bag, other, proxy, text):
                    if bag:
                        pass
                    n = len(bag)
                    found = 1 in bag
                    same = bag == other
                    copied = set(bag)
                    shown = f"{bag}"
                    proxy.read(0)
                    kept = proxy._target
                    plain = f"{text}"

                def main():
                    use(Bag([]), Bag([]), Proxy(None), Text("x"))
            """,
        },
    )
    implicit = {(a, b) for a, b, r in calls if r == "implicit"}
    for dunder in ("__len__", "__contains__", "__eq__", "__iter__", "__repr__"):
        assert ("p.py:use", f"p.py:Bag.{dunder}") in implicit, dunder
    assert ("p.py:use", "p.py:Proxy.__getattr__") in implicit  # `proxy.read`: not defined
    # `Text` subclasses `str`, whose own `__format__` runs: no edge to Text.__repr__
    assert ("p.py:use", "p.py:Text.__repr__") not in {(a, b) for a, b, _ in calls}
    # an attribute the class assigns is no `__getattr__` call, whatever its value
    assert ("p.py:Proxy.__getattr__", "p.py:Proxy.__getattr__") not in implicit


def test_descriptors_and_property_reads_on_other_receivers(tmp_path: Path) -> None:
    # flask's `testing = ConfigAttribute[bool]("TESTING")` read as `self.testing` runs
    # ConfigAttribute.__get__; `app.debug` on a parameter that is passed an App runs the
    # property; `self.static_folder = value` runs the property's setter.
    calls, _ = _load(
        tmp_path,
        {
            "cfg.py": """
                import typing as t
                T = t.TypeVar("T")

                class ConfigAttribute(t.Generic[T]):
                    def __init__(self, name):
                        self.name = name
                    def __get__(self, obj, owner=None):
                        return obj.config[self.name]
                    def __set__(self, obj, value):
                        obj.config[self.name] = value
            """,
            "app.py": """
                from cfg import ConfigAttribute

                class App:
                    testing = ConfigAttribute[bool]("TESTING")
                    secret_key = ConfigAttribute("SECRET_KEY")

                    def __init__(self, folder):
                        self.config = {}
                        self.static_folder = folder

                    @property
                    def debug(self):
                        return False

                    @property
                    def static_folder(self):
                        return self._folder

                    @static_folder.setter
                    def static_folder(self, value):
                        self._folder = value

                    def handle(self):
                        return self.testing or self.debug

                def create_logger(app):
                    if app.debug and not app.secret_key:
                        pass
                    app.secret_key = "x"

                def main():
                    create_logger(App("static"))
            """,
        },
    )
    implicit = {(a, b) for a, b, r in calls if r == "implicit"}
    assert ("app.py:App.handle", "cfg.py:ConfigAttribute.__get__") in implicit
    assert ("app.py:App.handle", "app.py:App.debug") in implicit
    assert ("app.py:create_logger", "app.py:App.debug") in implicit
    assert ("app.py:create_logger", "cfg.py:ConfigAttribute.__get__") in implicit
    assert ("app.py:create_logger", "cfg.py:ConfigAttribute.__set__") in implicit
    assert ("app.py:App.__init__", "app.py:App.static_folder") in implicit  # the setter
    # `ConfigAttribute[bool](...)` constructs the class
    assert ("app.py:App.<body>", "cfg.py:ConfigAttribute.__init__") in {(a, b) for a, b, _ in calls}


def test_items_of_an_attribute_declared_in_a_method(tmp_path: Path) -> None:
    # click's parser: `self._args: list[_Argument] = []` in __init__, then
    # `for idx, arg in enumerate(self._args): arg.process(...)`; `sorted(...)` and `list(...)`
    # keep the items' type
    calls, _ = _load(
        tmp_path,
        {
            "parser.py": """
                import external

                class _Argument:
                    def process(self, value, state):
                        return value

                    def check(self):
                        return True

                class Parser:
                    def __init__(self):
                        self._args: list[_Argument] = []

                    def add(self):
                        self._args.append(external.make())

                    def run(self, pargs):
                        for idx, arg in enumerate(self._args):
                            arg.process(pargs[idx], None)
                        return [a.check() for a in sorted(self._args)]

                    def untyped(self, items):
                        for idx, arg in enumerate(items):
                            arg.process(idx, None)
            """,
        },
    )
    by = {(a, b): how for a, b, how in calls}
    assert by[("parser.py:Parser.run", "parser.py:_Argument.process")] == "annotation"
    assert by[("parser.py:Parser.run", "parser.py:_Argument.check")] == "annotation"
    assert ("parser.py:Parser.untyped", "parser.py:_Argument.process") not in by


def test_an_attribute_stored_from_a_declared_parameter(tmp_path: Path) -> None:
    # flask's tags: `def __init__(self, serializer: TaggedJSONSerializer)` stores
    # `self.serializer = serializer`; `self.serializer.tag(v)` in a subclass's method
    calls, _ = _load(
        tmp_path,
        {
            "tag.py": """
                from __future__ import annotations

                class JSONTag:
                    def __init__(self, serializer: TaggedJSONSerializer) -> None:
                        self.serializer = serializer
                        self.other = serializer.lookup()

                class PassList(JSONTag):
                    def to_json(self, value):
                        return [self.serializer.tag(item) for item in value]

                    def untyped(self, value):
                        return self.other.tag(value)

                class TaggedJSONSerializer:
                    def tag(self, value):
                        return value

                    def lookup(self):
                        return None
            """,
        },
    )
    by = {(a, b): how for a, b, how in calls}
    assert by[("tag.py:PassList.to_json", "tag.py:TaggedJSONSerializer.tag")] == "annotation"
    assert ("tag.py:PassList.untyped", "tag.py:TaggedJSONSerializer.tag") not in by


def test_with_binds_what_enter_declares(tmp_path: Path) -> None:
    # click's shell completion: `with cli.make_context(...) as ctx:` where make_context
    # declares `-> Context` and Context.__enter__ declares `-> Self`; `ctx.command` is
    # declared `Command`, whose constructed subclass Group has `resolve_command`
    calls, _ = _load(
        tmp_path,
        {
            "core.py": """
                from __future__ import annotations
                import typing as t
                from typing_extensions import Self

                class Command:
                    def make_context(self, name) -> Context:
                        return Context(self)

                class Group(Command):
                    def resolve_command(self, ctx, args):
                        return None

                class Context:
                    def __init__(self, command: Command) -> None:
                        self.command = command

                    def __enter__(self) -> Self:
                        return self

                    def __exit__(self, *exc):
                        return None

                    def scope(self) -> Self:
                        return self

                    def close(self):
                        pass

                class Opaque:
                    def __enter__(self):
                        return object()

                    def __exit__(self, *exc):
                        return None

                def _resolve_context(cli: Command, args):
                    with cli.make_context("prog") as ctx:
                        ctx.command.resolve_command(ctx, args)
                        ctx.scope().close()
                    with Opaque() as other:
                        other.close()

                Group()
            """,
        },
    )
    by = {(a, b): how for a, b, how in calls}
    assert by[("core.py:_resolve_context", "core.py:Group.resolve_command")] == "override"
    assert by[("core.py:_resolve_context", "core.py:Context.close")] == "annotation"


def test_implicit_calls_on_declared_values(tmp_path: Path) -> None:
    # flask's `if session.permanent:` (a parameter `session: SessionMixin`), `with ctx:` where
    # `ctx = app.test_request_context()` (`-> RequestContext`); click's `value_proc(value)`
    # where `value_proc = convert_type(...)` (`-> ParamType`): no instance is built in sight.
    calls, _ = _load(
        tmp_path,
        {
            "d.py": """
                import typing as t
                from collections.abc import MutableSet

                class SessionMixin:
                    @property
                    def permanent(self):
                        return False

                class RequestContext:
                    def __enter__(self):
                        return self
                    def __exit__(self, *exc):
                        pass

                class ParamType:
                    def __call__(self, value):
                        return value

                class Names(MutableSet):
                    def __len__(self):
                        return 0
                    def __contains__(self, x):
                        return False
                    def __iter__(self):
                        return iter(())
                    def add(self, x):
                        pass
                    def discard(self, x):
                        pass

                def test_request_context() -> RequestContext:
                    raise NotImplementedError

                def convert_type(ty) -> ParamType:
                    raise NotImplementedError

                def expiration(session: SessionMixin):
                    if session.permanent:
                        return 1

                def transaction():
                    ctx = test_request_context()
                    with ctx:
                        pass

                def prompt(value):
                    value_proc = convert_type(None)
                    return value_proc(value)

                def invoke(callback: ParamType | t.Callable[..., int]):
                    return callback(1)

                def ask(value, value_proc: t.Callable[[str], int] | None = None):
                    if value_proc is None:
                        value_proc = convert_type(None)
                    return value_proc(value)

                def check(names, text):
                    if names:
                        return text

                def main():
                    check(Names(), "")
            """,
        },
    )
    implicit = {(a, b) for a, b, r in calls if r == "implicit"}
    assert ("d.py:expiration", "d.py:SessionMixin.permanent") in implicit
    assert ("d.py:transaction", "d.py:RequestContext.__enter__") in implicit
    assert ("d.py:transaction", "d.py:RequestContext.__exit__") in implicit
    assert ("d.py:prompt", "d.py:ParamType.__call__") in implicit
    # declared `ParamType | Callable`: the call says nothing about ParamType.__call__
    assert ("d.py:invoke", "d.py:ParamType.__call__") not in implicit
    # declared `Callable` alone types no instance: the rebinding to a ParamType still counts
    assert ("d.py:ask", "d.py:ParamType.__call__") in implicit
    # value flow: collections.abc.MutableSet defines no __bool__, so `if names:` runs
    # Names.__len__ (an external base the loader cannot look into would stop the search)
    assert ("d.py:check", "d.py:Names.__len__") in implicit


def test_a_typed_call_of_a_wrapped_method_runs_the_wrapper(tmp_path: Path) -> None:
    # flask: `state.app.errorhandler(code)(f)` where `errorhandler` is wrapped by
    # `@setupmethod`: at run time the caller calls `setupmethod.wrapper_func`, which calls
    # `errorhandler`; a call typed by a declaration reaches the wrapper too
    calls, _ = _load(
        tmp_path,
        {
            "scaffold.py": """
                import external

                def setupmethod(f):
                    def wrapper_func(self, *args, **kwargs):
                        self._check_setup_finished()
                        return f(self, *args, **kwargs)
                    return wrapper_func

                class Scaffold:
                    def _check_setup_finished(self):
                        pass

                    @setupmethod
                    def errorhandler(self, code):
                        return code

                def current() -> Scaffold:
                    return external.lookup()

                def from_blueprint():
                    return current().errorhandler(404)
            """,
        },
    )
    by = {(a, b): how for a, b, how in calls}
    assert ("scaffold.py:from_blueprint", "scaffold.py:Scaffold.errorhandler") in by
    assert by[("scaffold.py:from_blueprint", "scaffold.py:setupmethod.wrapper_func")] == "wrapper"


def test_no_override_edge_from_a_method_the_subclass_replaces(tmp_path: Path) -> None:
    # flask's `JSONTag.tag` calls `self.to_json`; `PassDict` has `tag = to_json`, so a PassDict
    # never runs `JSONTag.tag` and the override edge to `PassDict.to_json` was wrong. The same
    # for a subclass with its own `def tag` (without `super().tag(...)`); a subclass whose
    # `tag` calls `super().tag(...)` still reaches the base's, so its edge stays.
    many = "".join(
        f"class T{i}(Tag):\n    def to_json(self, v):\n        return {i}\n\n" for i in range(10)
    )
    calls, _ = _load(
        tmp_path,
        {
            "tags.py": textwrap.dedent("""
                class Tag:
                    def tag(self, v):
                        return {"k": self.to_json(v)}
                    def to_json(self, v):
                        raise NotImplementedError

                class PassDict(Tag):
                    def to_json(self, v):
                        return dict(v)
                    tag = to_json

                class Own(Tag):
                    def to_json(self, v):
                        return v
                    def tag(self, v):
                        return v

                class Delegating(Tag):
                    def to_json(self, v):
                        return [v]
                    def tag(self, v):
                        return super().tag(v)

                class Below(PassDict):
                    pass
            """)
            + many,
            "use.py": "import tags\n\ndef run(v):\n"
            + "".join(f"    tags.T{i}().tag(v)\n" for i in range(10))
            + "    for c in (tags.PassDict(), tags.Own(), tags.Delegating(), tags.Below()):\n"
            + "        c.tag(v)\n",
        },
    )
    by = {(a, b): how for a, b, how in calls}
    for i in range(10):
        assert by[("tags.py:Tag.tag", f"tags.py:T{i}.to_json")] == "override"
    assert by[("tags.py:Tag.tag", "tags.py:Delegating.to_json")] == "override"
    assert ("tags.py:Tag.tag", "tags.py:PassDict.to_json") not in by
    assert ("tags.py:Tag.tag", "tags.py:Own.to_json") not in by
