// Query page: a Cypher editor with schema completion, JSON parameters, table and graph results.

import { keymap } from "@codemirror/view";
import { createCypherEditor } from "@neo4j-cypher/codemirror";
import "@neo4j-cypher/codemirror/css/cypher-codemirror.css";
import { api } from "../api.js";
import { ResultView } from "../results.js";
import { clear, h, status } from "../ui.js";

/** Queries kept in this tab's history (sessionStorage), newest first. */
export const HISTORY_SIZE = 20;
const HISTORY_KEY = "prodgraph.queryHistory";

function loadHistory() {
  try {
    const list = JSON.parse(sessionStorage.getItem(HISTORY_KEY) || "[]");
    return Array.isArray(list) ? list : [];
  } catch {
    return [];
  }
}

function remember(query, params) {
  const list = loadHistory().filter((e) => e.query !== query || e.params !== params);
  list.unshift({ query, params, at: new Date().toISOString() });
  sessionStorage.setItem(HISTORY_KEY, JSON.stringify(list.slice(0, HISTORY_SIZE)));
}

// every store has files and functions (a code-only repository too)
const EXAMPLE = `MATCH (file:File)-[d:DEFINES]->(fn:Function)
RETURN file, d, fn
LIMIT 25`;

function parseParams(text) {
  if (!text.trim()) return {};
  let value;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new Error(`parameters: not valid JSON (${e.message})`);
  }
  if (!value || typeof value !== "object" || Array.isArray(value)) {
    throw new Error('parameters: expected a JSON object such as {"uid": "svc:orders"}');
  }
  return value;
}

export const queryPage = {
  id: "query",
  title: "Query",
  mount(root, ctx) {
    const editorBox = h("div", { class: "editor", "data-testid": "cypher-editor" });
    const params = h("textarea", {
      id: "query-params",
      rows: 3,
      spellcheck: "false",
      placeholder: '{"uid": "svc:orders"}',
    });
    const runButton = h("button", { type: "submit", class: "primary", id: "query-run" }, "Run");
    const formStatus = h("p", { class: "status", role: "status" });
    const form = h(
      "form",
      { class: "query-form", "aria-label": "Cypher query" },
      h("label", { for: "query-editor-label" }, "Cypher (read-only; Ctrl-Enter runs)"),
      editorBox,
      h("label", { for: "query-params" }, "Parameters (JSON object)"),
      params,
      h("div", { class: "toolbar" }, runButton, formStatus),
    );
    const results = h("div", { class: "results" });
    const history = h("ol", { class: "query-history", "data-testid": "query-history" });
    root.append(
      h("h1", {}, "Query"),
      h(
        "div",
        { class: "split" },
        h("div", { class: "body" }, form),
        h("div", { class: "side" }, h("h2", {}, "History"), history),
      ),
      results,
    );

    let run = () => {};
    const runKey = keymap.of([{ key: "Mod-Enter", run: () => (run(), true) }]);
    const { editor } = createCypherEditor(editorBox, {
      preExtensions: [runKey],
      value: EXAMPLE,
      schema: ctx.schema.editorSchema(),
      lineNumbers: true,
      autocomplete: true,
      lint: false,
      theme: "light",
      placeholder: "MATCH (n) RETURN n LIMIT 10",
    });
    editor.codemirror.contentDOM.setAttribute("aria-label", "Cypher query");
    editor.codemirror.contentDOM.id = "query-editor-label";
    const view = new ResultView(results, {
      schema: ctx.schema,
      name: "query",
      onGraph: (g) => ctx.registerGraph("query", g),
    });

    const showHistory = () => {
      const list = loadHistory();
      clear(
        history,
        list.length
          ? list.map((e) =>
              h(
                "li",
                {},
                h(
                  "button",
                  {
                    type: "button",
                    class: "link",
                    title: e.query,
                    onclick: () => {
                      editor.setValue(e.query);
                      params.value = e.params;
                      run();
                    },
                  },
                  e.query.replace(/\s+/g, " ").slice(0, 90),
                ),
              ),
            )
          : h("li", { class: "muted" }, "Queries you run in this tab are listed here."),
      );
    };
    showHistory();

    run = async () => {
      const query = editor.codemirror.state.doc.toString();
      let values;
      try {
        values = parseParams(params.value);
      } catch (e) {
        status(formStatus, "error", e.message);
        return;
      }
      status(formStatus, "ok", "");
      remember(query, params.value);
      showHistory();
      try {
        await view.run(
          () => api.cypher(query, values),
          () => api.cypherCsv(query, values),
        );
      } catch {
        // shown in the result's status line
      }
    };
    form.addEventListener("submit", (ev) => {
      ev.preventDefault();
      run();
    });
    this.showNode = (uid) => {
      const label = ctx.schema.labelOf(uid);
      if (!label) return;
      editor.setValue(`MATCH (n:${label} {uid: $uid})-[r]-(m)\nRETURN n, r, m\nLIMIT 50`);
      params.value = JSON.stringify({ uid });
      run();
    };
    ctx.expose("queryEditor", {
      setValue: (text) => editor.setValue(text),
      getValue: () => editor.codemirror.state.doc.toString(),
      run,
      view,
    });
  },
  /** `#/query/<uid>`: the node and its neighbours (what the home page's search links to). */
  open(arg) {
    if (arg && this.showNode) this.showNode(arg);
  },
};
