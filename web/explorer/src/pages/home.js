// Home: what is in the graph at a glance, and a search box that finds functions by name.

import { api, records } from "../api.js";
import { clear, errorText, h, pct, table, when } from "../ui.js";

const NEWEST_ERRORS = `MATCH (e:ErrorSignature)
RETURN e.uid AS uid, e.type AS type, e.message_template AS message, e.count AS count,
       e.last_seen AS last_seen
ORDER BY last_seen IS NULL, last_seen DESC, uid
LIMIT 8`;

const RECENT_DEPLOYS = `MATCH (d:Deployment)-[:OF]->(s:Service)
RETURN s.name AS service, d.environment AS environment, d.version AS version,
       d.started_at AS started_at, d.status AS status
ORDER BY started_at DESC
LIMIT 8`;

function panel(title, id, ...children) {
  return h("section", { class: "card", id }, h("h2", {}, title), ...children);
}

function dash(value) {
  return value === null || value === undefined || value === "" ? "—" : value;
}

async function fill(box, load, render) {
  clear(box, h("p", { class: "status busy" }, "loading…"));
  try {
    clear(box, render(await load()));
  } catch (e) {
    clear(box, h("p", { class: "status error" }, errorText(e)));
  }
}

function countsView(answer) {
  const shown = Object.entries(answer.nodes || {}).filter(([, n]) => n > 0);
  if (!shown.length) return h("p", { class: "muted" }, "The graph is empty: load a repository first.");
  const edges = Object.values(answer.edges || {}).reduce((a, b) => a + b, 0);
  return h(
    "div",
    { class: "counts" },
    shown.map(([label, n]) =>
      h("div", { class: "count", dataset: { label } }, h("b", {}, n.toLocaleString("en")), h("span", {}, label)),
    ),
    h("div", { class: "count" }, h("b", {}, edges.toLocaleString("en")), h("span", {}, "relationships")),
  );
}

function riskView(go) {
  return (answers) => {
    const rows = answers.filter((a) => typeof a.overall === "number");
    if (!rows.length) return h("p", { class: "muted" }, "No code-changing commits to score yet.");
    return table(
      [
        { key: "overall", title: "risk", render: (v) => pct(v) },
        {
          key: "target",
          title: "commit",
          render: (v) => h("a", { href: "#", onclick: (ev) => (ev.preventDefault(), go("risk", v)) }, String(v).replace("commit:", "").slice(0, 10)),
        },
        { key: "explanations", title: "why", render: (v) => dash((v || []).slice(0, 2).map((e) => e.text).join("; ")) },
      ],
      rows.slice(0, 8),
    );
  };
}

function missingModel(e) {
  return e && e.status === 503
    ? h("p", { class: "muted" }, "No risk model yet: run `prodgraph train` (or `prodgraph up`).")
    : null;
}

export const homePage = {
  id: "home",
  title: "Home",
  mount(root, ctx) {
    const input = h("input", {
      type: "search",
      id: "find-input",
      placeholder: "Find a function or class: Client.send, checkout, …",
      "aria-label": "Find a function or class by name",
    });
    const found = h("div", { id: "find-results" });
    const search = h(
      "form",
      { class: "find", role: "search" },
      input,
      h("button", { type: "submit", class: "primary" }, "Find"),
    );
    search.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const name = input.value.trim();
      if (!name) return;
      await fill(found, () => api.runQuery("find", { name, limit: 10 }), (answer) => {
        const rows = records(answer).sort(
          (a, b) => Number(a.gone) - Number(b.gone) || a.rank - b.rank || a.qualname.length - b.qualname.length,
        );
        if (!rows.length) return h("p", { class: "muted" }, `Nothing is named like "${name}".`);
        return table(
          [
            { key: "label", render: (v) => h("span", { class: "chip" }, v) },
            {
              key: "qualname",
              title: "name",
              render: (v, row) => h("a", { href: `#/query/${encodeURIComponent(row.uid)}` }, v),
            },
            {
              key: "path",
              title: "where",
              render: (v, row) => (row.gone ? h("span", { class: "muted" }, "no longer in the code") : `${v}:${row.line}`),
            },
            { key: "uid" },
          ],
          rows.slice(0, 10),
        );
      });
    });
    const counts = h("div", {});
    const risky = h("div", {});
    const errors = h("div", {});
    const deploys = h("div", {});
    root.append(
      h("h1", {}, "prodgraph"),
      search,
      found,
      h(
        "div",
        { class: "dashboard" },
        panel("In the graph", "home-counts", counts),
        panel("Riskiest recent code changes", "home-risk", risky),
        panel("Newest error signatures", "home-errors", errors),
        panel("Recent deployments", "home-deploys", deploys),
      ),
    );
    this.refresh = () => {
      fill(counts, () => api.counts(), countsView);
      fill(
        risky,
        () => api.recentRisk(20).catch((e) => {
          if (missingModel(e)) return { missing: e };
          throw e;
        }),
        (answer) => (answer.missing ? missingModel(answer.missing) : riskView(ctx.go)(answer)),
      );
      fill(errors, () => api.cypher(NEWEST_ERRORS), (answer) => {
        const rows = records(answer);
        if (!rows.length) return h("p", { class: "muted" }, "No errors recorded (load traces or tickets).");
        return table(
          [
            { key: "type", render: dash },
            {
              key: "message",
              render: (v, row) => h("a", { href: `#/errors/${encodeURIComponent(row.uid.replace(/^err:/, ""))}` }, dash(v)),
            },
            { key: "count", render: dash },
            { key: "last_seen", title: "last seen", render: (v) => dash(when(v)) },
          ],
          rows,
        );
      });
      fill(deploys, () => api.cypher(RECENT_DEPLOYS), (answer) => {
        const rows = records(answer).slice(0, 8);
        if (!rows.length) return h("p", { class: "muted" }, "No deployments recorded.");
        return table(
          [
            { key: "service", render: dash },
            { key: "environment", title: "env", render: dash },
            { key: "version", render: dash },
            { key: "started_at", title: "started", render: (v) => dash(when(v)) },
            { key: "status", render: dash },
          ],
          rows,
        );
      });
    };
  },
  open() {
    if (this.refresh) this.refresh();
  },
};
