// Named queries page: the library from GET /v1/queries, a form per query, results as on Query.

import { api } from "../api.js";
import { ResultView } from "../results.js";
import { clear, errorText, h, status } from "../ui.js";

function paramInput(query, p) {
  const id = `param-${query.name}-${p.name}`;
  const hint = p.default !== null && p.default !== undefined ? `default: ${JSON.stringify(p.default)}` : "";
  const input =
    p.type === "BOOL"
      ? h("select", { id, name: p.name }, h("option", { value: "" }, hint || "—"), h("option", {}, "true"), h("option", {}, "false"))
      : h("input", {
          id,
          name: p.name,
          type: p.type === "INT" || p.type === "FLOAT" ? "number" : "text",
          step: p.type === "FLOAT" ? "any" : null,
          required: p.required,
          placeholder:
            p.type === "DATETIME"
              ? "2025-01-01T00:00:00Z"
              : p.type === "LIST<STRING>"
                ? "a, b, c"
                : hint,
        });
  return h(
    "div",
    { class: "field" },
    h("label", { for: id }, `${p.name} `, h("span", { class: "muted" }, `${p.type}${p.required ? ", required" : ""}`)),
    input,
    h("small", { class: "muted" }, p.description),
  );
}

/** The form's values: empty optional fields are left out so the query's default applies. */
function formParams(form, query) {
  const params = {};
  for (const p of query.params) {
    const el = form.elements.namedItem(p.name);
    const value = el ? el.value.trim() : "";
    if (value !== "") params[p.name] = value;
  }
  return params;
}

export const namedPage = {
  id: "queries",
  title: "Named queries",
  mount(root, ctx) {
    const list = h("ul", { class: "query-list", "aria-label": "Named queries" });
    const formBox = h("div", { class: "named-form" });
    const results = h("div", { class: "results" });
    const listStatus = h("p", { class: "status", role: "status" });
    root.append(
      h("h1", {}, "Named queries"),
      h("div", { class: "split" }, h("div", { class: "side" }, listStatus, list), h("div", { class: "body" }, formBox, results)),
    );
    const view = new ResultView(results, {
      schema: ctx.schema,
      name: "named",
      drawUids: true,
      onGraph: (g) => ctx.registerGraph("queries", g),
    });
    let queries = [];

    const select = (query) => {
      for (const li of list.children) li.classList.toggle("selected", li.dataset.name === query.name);
      const form = h(
        "form",
        { class: "param-form", "data-query": query.name, "aria-label": `Parameters of ${query.name}` },
        h("h2", {}, query.name),
        h("p", {}, query.description),
        query.params.length ? query.params.map((p) => paramInput(query, p)) : h("p", { class: "muted" }, "No parameters."),
        h("button", { type: "submit", class: "primary" }, "Run"),
      );
      form.addEventListener("submit", async (ev) => {
        ev.preventDefault();
        const params = formParams(form, query);
        try {
          await view.run(
            () => api.runQuery(query.name, params),
            () => api.runQueryCsv(query.name, params),
          );
        } catch {
          // shown in the result's status line
        }
      });
      clear(formBox, form);
      const first = form.querySelector("input, select");
      if (first) first.focus();
    };

    status(listStatus, "busy", "loading the query library…");
    api
      .queries()
      .then((answer) => {
        queries = answer;
        status(listStatus, "ok", `${queries.length} named queries`);
        clear(
          list,
          queries.map((q) =>
            h(
              "li",
              { dataset: { name: q.name } },
              h("button", { type: "button", class: "link", onclick: () => select(q) }, q.name),
              h("p", { class: "muted" }, q.description),
            ),
          ),
        );
        if (this.pending) select(queries.find((q) => q.name === this.pending) || queries[0]);
      })
      .catch((e) => status(listStatus, "error", errorText(e)));
    this.select = (name) => {
      const q = queries.find((x) => x.name === name);
      if (q) select(q);
      else this.pending = name;
    };
  },
  open(arg) {
    if (arg && this.select) this.select(arg);
  },
};
