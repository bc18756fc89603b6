"""Golden call edges for JavaScript, TypeScript, Go and Java: receiver and variable types,
declared field and result types, returned functions and functions passed by name."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from graph_service.batch import EdgeBatch
from graph_service.store import GraphStore
from loaders.base import LoadReport
from loaders.code.loader import CodeConfig, CodeLoader
from tests.loaders.code.code_sample_tree import write_tree
from tests.loaders.code.conftest import call_edges

Edges = dict[tuple[str, str], tuple[str, float, int]]


def _calls(root: Path) -> Edges:
    """(caller path:qualname, callee path:qualname) -> (resolution, confidence, call sites)."""
    loader = CodeLoader(CodeConfig(root=root, repo="r", use_git=False, workers=1))
    out = {}
    for batch in loader.extract(LoadReport("code")):
        if isinstance(batch, EdgeBatch) and batch.type == "CALLS":
            for row in batch.table.to_pylist():
                assert row["source"] == "static" and 0 < row["confidence"] <= 1
                key = (row["src"].removeprefix("fn:r:"), row["dst"].removeprefix("fn:r:"))
                out[key] = (row["resolution"], row["confidence"], row["count"])
    return out


def _check(calls: Edges, expected: dict[tuple[str, str], str], absent: set[str]) -> None:
    assert {k: calls[k][0] for k in expected if k in calls} == expected
    wrong = {k for k in calls if k[1] in absent}
    assert not wrong, wrong


def test_javascript_variable_types_returned_functions_and_callbacks(tmp_path: Path) -> None:
    root = write_tree(
        tmp_path / "r",
        {
            "web/client.js": """\
export class Client {
  send(m) { return m; }
  close() {}
  flush() {}
  reset() {}
}
export function makeClient() { return new Client(); }
""",
            "web/app.js": """\
import { Client } from './client.js';

function helper(x) { return x; }
function mapper(x) { return x; }
function unused(x) { return x; }

function makeHandler() {
  function handle(req) { return req; }
  return handle;
}

function makeTop() { return helper; }

function run(items) {
  const c = new Client();
  c.send(1);
  const f = makeHandler();
  f(2);
  const g = makeTop();
  g(3);
  items.map(mapper);
}

function shadowed(items, unused) {
  items.forEach(unused);
  let d = new Client();
  d = makeClient();
  d.reset();
}

function parameter(c) {
  c.flush();
}

// passed to functions of the repository: only one that calls that parameter gets an edge
function store(ctx, value) { ctx.v = value; }
function runIt(cb) { return cb(); }
function passes() {
  store({}, sink);
  runIt(task);
}
function sink() {}
function task() {}

// an object literal's method named like the enclosing function's parameter
function withDefault(value) {
  return { get value() { return structuredClone(value); } };
}

const shared = new Client();
shared.close();

function useShared() { shared.send(); }
function ownShared(shared) { shared.reset(); }
""",
            "web/cjs.js": """\
var utils = require('./utils');
var app = makeApp();
app.resource = function (path) { return path; };
app.resource('/users');
utils.slug('x');
""",
            "web/utils.js": "exports.slug = function (s) { return s; };\n",
            "web/typed.ts": """\
export const twice: (n: number) => number = (n) => n * 2;
twice(2);
""",
        },
    )
    calls = _calls(root)
    app, client = "web/app.js", "web/client.js"
    _check(
        calls,
        {
            (f"{app}:run", f"{client}:Client.send"): "local_type",
            (f"{app}:run", f"{app}:makeHandler.handle"): "value_flow",
            (f"{app}:run", f"{app}:helper"): "value_flow",
            (f"{app}:run", f"{app}:mapper"): "value_flow",
            (f"{app}:passes", f"{app}:task"): "value_flow",
            (f"{app}:<module>", f"{client}:Client.close"): "local_type",
            (f"{app}:useShared", f"{client}:Client.send"): "local_type",
            # variables of unknown type keep the name rules: an object's assigned methods,
            # `require`d modules, a typed arrow function
            ("web/cjs.js:<module>", "web/cjs.js:app.resource"): "same_module",
            ("web/cjs.js:<module>", "web/utils.js:slug"): "import",
            ("web/typed.ts:<module>", "web/typed.ts:twice"): "same_module",
        },
        absent={
            f"{app}:unused",
            f"{app}:sink",
            f"{app}:withDefault.value",
            f"{client}:Client.flush",
            f"{client}:Client.reset",
        },
    )
    passed, returned = (
        calls[(f"{app}:run", f"{app}:mapper")],
        calls[(f"{app}:run", f"{app}:helper")],
    )
    assert passed[1] < returned[1]  # passed by name: lower confidence
    assert (passed[2], returned[2]) == (0, 1)  # and no call site of `run`


def test_typescript_declared_types_of_fields_parameters_and_results(tmp_path: Path) -> None:
    root = write_tree(
        tmp_path / "r",
        {
            "svc/client.ts": """\
export class Client {
  send(): void {}
  close(): void {}
  flush(): void {}
  reset(): void {}
  open(): void {}
}
export function makeClient(): Client { return new Client(); }
""",
            "svc/service.ts": """\
import { Client, makeClient } from './client';

export class Service {
  private backup: Client;
  private made = new Client();

  constructor(private client: Client, count: number) {
    this.backup = client;
  }

  run(): void {
    this.client.send();
    this.backup.close();
    this.made.flush();
  }

  typed(c: Client): void {
    c.reset();
  }

  returned(): void {
    const c = makeClient();
    c.open();
  }
}
""",
        },
    )
    calls = _calls(root)
    svc, client = "svc/service.ts", "svc/client.ts"
    _check(
        calls,
        {
            (f"{svc}:Service.run", f"{client}:Client.send"): "field_type",
            (f"{svc}:Service.run", f"{client}:Client.close"): "field_type",
            (f"{svc}:Service.run", f"{client}:Client.flush"): "field_type",
            (f"{svc}:Service.typed", f"{client}:Client.reset"): "annotation",
            (f"{svc}:Service.returned", f"{client}:Client.open"): "local_type",
        },
        absent=set(),
    )


def test_go_declared_types_results_fields_and_interfaces(tmp_path: Path) -> None:
    root = write_tree(
        tmp_path / "r",
        {
            "go.mod": "module example.com/app\n",
            "client/client.go": """\
package client

type Client struct{}

func NewClient() (*Client, error) { return &Client{}, nil }

func (c *Client) Do() {}
""",
            "client/more.go": """\
package client

func (c *Client) Close() {}
func (c *Client) Flush() {}
func (c *Client) Reset() {}
func (c *Client) Open() {}
func (c *Client) Shut() {}

type Doer interface {
	Do()
}

type Closer interface {
	Close()
}

type Other struct{}

func (o Other) Close() {}
""",
            "main.go": """\
package main

import "example.com/app/client"

type Server struct {
	client *client.Client
	doer   client.Doer
	closer client.Closer
}

func (s *Server) Serve() {
	s.client.Flush()
	s.doer.Do()
	s.closer.Close()
}

func main() {
	c, err := client.NewClient()
	_ = err
	c.Do()
	var d client.Client
	d.Close()
	e := &client.Client{}
	e.Reset()
}

func rebound() {
	c, _ := client.NewClient()
	for _, c := range []client.Other{} {
		c.Close()
	}
}

func use(c *client.Client) {
	c.Open()
}

var saved func()

func keep(f func())     { saved = f }
func register(f func()) { f() }
func handler()          {}
func stored()           {}

func wire() {
	keep(stored)
	register(handler)
}

func pick() func() { return chosen }
func chosen()      {}

func later() {
	h := pick()
	h()
}

var global, _ = client.NewClient()

func shut() { global.Shut() }

func shadowed(global interface{ Shut() }) { global.Shut() }
""",
        },
    )
    calls = _calls(root)
    cl, more = "client/client.go", "client/more.go"
    _check(
        calls,
        {
            ("main.go:Server.Serve", f"{more}:Client.Flush"): "field_type",
            ("main.go:Server.Serve", f"{cl}:Client.Do"): "sole_implementation",
            ("main.go:main", f"{cl}:Client.Do"): "local_type",
            ("main.go:main", f"{more}:Client.Close"): "annotation",
            ("main.go:main", f"{more}:Client.Reset"): "local_type",
            ("main.go:use", f"{more}:Client.Open"): "annotation",
            ("main.go:wire", "main.go:handler"): "value_flow",
            ("main.go:later", "main.go:chosen"): "value_flow",
            # a package-level variable of this file, in a function that does not rebind it
            ("main.go:shut", f"{more}:Client.Shut"): "local_type",
        },
        # `Closer` has two implementations; `c` in the loop is an `Other`, not the Client
        absent={f"{more}:Other.Close", "main.go:stored"},
    )
    assert ("main.go:Server.Serve", f"{more}:Client.Close") not in calls
    assert ("main.go:rebound", f"{more}:Client.Close") not in calls
    assert ("main.go:shadowed", f"{more}:Client.Shut") not in calls  # a parameter
    assert calls[("main.go:Server.Serve", f"{cl}:Client.Do")][1] <= 0.6


def test_java_fields_locals_statics_and_constructors(tmp_path: Path) -> None:
    java = "src/main/java/com/acme"
    root = write_tree(
        tmp_path / "r",
        {
            f"{java}/Repo.java": """\
package com.acme;

public class Repo {
    public Repo() {}
    void save() {}
    void load() {}
    void flush() {}
    void reset() {}
    void close() {}
    static Repo open() { return new Repo(); }
}
""",
            f"{java}/Service.java": """\
package com.acme;

import java.util.List;

public class Service {
    private Repo repo = new Repo();
    private final Repo other;

    static {
        Repo.open();
    }

    Service(Repo r) {
        this.other = r;
    }

    void run(List<Repo> all) {
        repo.save();
        this.other.load();
        Repo local = new Repo();
        local.flush();
        var inferred = new Repo();
        inferred.reset();
        helper();
    }

    void param(Repo p) {
        p.close();
    }

    void helper() {}

    static Repo builder() { return new Repo(); }

    void shadow() {
        Repo builder = builder();
        builder.save();
    }
}
""",
        },
    )
    calls = _calls(root)
    repo, svc = f"{java}/Repo.java", f"{java}/Service.java"
    _check(
        calls,
        {
            (f"{svc}:Service.<body>", f"{repo}:Repo.Repo"): "constructor",
            (f"{svc}:Service.<body>", f"{repo}:Repo.open"): "static",
            (f"{svc}:Service.run", f"{repo}:Repo.save"): "field_type",
            (f"{svc}:Service.run", f"{repo}:Repo.load"): "field_type",
            (f"{svc}:Service.run", f"{repo}:Repo.flush"): "annotation",
            (f"{svc}:Service.run", f"{repo}:Repo.reset"): "local_type",
            (f"{svc}:Service.run", f"{repo}:Repo.Repo"): "constructor",
            (f"{svc}:Service.run", f"{svc}:Service.helper"): "self",
            (f"{svc}:Service.param", f"{repo}:Repo.close"): "annotation",
            # a Java method and a variable may share a name
            (f"{svc}:Service.shadow", f"{svc}:Service.builder"): "self",
            (f"{svc}:Service.shadow", f"{repo}:Repo.save"): "annotation",
        },
        absent=set(),
    )


def test_incremental_load_keeps_types_declared_in_unchanged_files(
    tmp_path: Path, store: GraphStore, load: Callable[..., LoadReport]
) -> None:
    """A changed file's calls typed by an unchanged file's declarations (a Go result type, a
    TS field of a base class) resolve as in a fresh load."""
    root = write_tree(
        tmp_path / "r",
        {
            "go.mod": "module example.com/app\n",
            "client/client.go": """\
package client

type Client struct{}

func NewClient() *Client { return &Client{} }

func (c *Client) Do() {}
""",
            "main.go": 'package main\n\nimport "example.com/app/client"\n\n'
            "func main() {\n\tc := client.NewClient()\n\tc.Do()\n}\n",
            "web/base.ts": """\
export class Client { send(): void {} }
export class Base { protected client: Client = new Client(); }
""",
            "web/child.ts": """\
import { Base } from './base';
export class Child extends Base {
  run(): void { this.client.send(); }
}
""",
        },
    )
    load(root)
    first = call_edges(store)
    wanted = {
        ("main.go:main", "client/client.go:Client.Do", "local_type"),
        ("web/child.ts:Child.run", "web/base.ts:Client.send", "field_type"),
    }
    assert wanted <= first
    (root / "main.go").write_text((root / "main.go").read_text() + "\nfunc other() {}\n")
    child = root / "web" / "child.ts"
    child.write_text(child.read_text() + "\nexport function other(): void {}\n")
    report = load(root)
    assert report.stats["files_parsed"] < 6
    assert call_edges(store) == first  # the new functions call nothing: the same edges
