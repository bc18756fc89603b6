// Change risk: recent commits ranked by the risk model, scoring a pasted diff or sha, and the
// change's blast radius drawn (changed functions -> callers -> operations -> services).

import { api, records } from "../api.js";
import { GraphView, legend } from "../graph.js";
import { loadNodeProps } from "../results.js";
import { clear, errorText, h, pct, section, status, table, when } from "../ui.js";

const COMMITS = `UNWIND $uids AS u
MATCH (c:Commit {uid: u})
OPTIONAL MATCH (p:Person)-[:AUTHORED]->(c)
RETURN c.uid AS uid, c.summary AS summary, c.authored_at AS authored_at, p.name AS author`;

const CALLS = `UNWIND $uids AS u
MATCH (a:Function {uid: u})-[:CALLS]->(b:Function)
RETURN a.uid AS caller, b.uid AS callee`;

const TRAFFIC = `UNWIND $uids AS u
MATCH (s:Service)-[e:EXPOSES]->(o:Operation {uid: u})
RETURN s.uid AS service, o.uid AS operation, e.count AS requests`;

/** Functions of a risk answer scored highest, the seeds of the blast radius. */
const SEEDS = 20;

function reasons(answer, n = 3) {
  return answer.explanations
    .filter((e) => e.weight === null || e.weight === undefined || e.weight > 0)
    .slice(0, n)
    .map((e) => e.text);
}

/** A risk answer as a body: overall, the reasons, and per-node scores. */
function riskDetail(answer) {
  return h(
    "div",
    { class: "risk-detail", "data-testid": "risk-detail" },
    typeof answer.overall === "number"
      ? h("p", { class: "big" }, h("strong", { "data-testid": "risk-overall" }, pct(answer.overall)), ` risk for ${answer.target} (model ${answer.model_version})`)
      : h("p", { class: "big" }, h("strong", { "data-testid": "risk-overall" }, answer.label || "not scored"), ` for ${answer.target}`),
    h(
      "ul",
      { class: "reasons" },
      answer.explanations.map((e) =>
        h("li", { class: e.weight < 0 ? "lowers" : "raises" }, e.weight < 0 ? "▼ " : "▲ ", e.text),
      ),
    ),
    table(
      [
        "label",
        { key: "name", render: (v, r) => v || r.uid },
        "path",
        { key: "score", render: pct },
        { key: "explanation", title: "why", render: (v) => (v || []).join("; ") },
      ],
      answer.nodes,
      { caption: "scored nodes", limit: 50 },
    ),
  );
}

export const riskPage = {
  id: "risk",
  title: "Change risk",
  mount(root, ctx) {
    const recentStatus = h("p", { class: "status", role: "status" });
    const recentBox = h("div", { "data-testid": "recent-risk" });
    const input = h("textarea", {
      id: "risk-input",
      rows: 8,
      spellcheck: "false",
      placeholder: "A commit sha (or its first 6+ characters), or a unified diff (git diff output)",
    });
    const scoreStatus = h("p", { class: "status", role: "status" });
    const form = h(
      "form",
      { "aria-label": "Score a change" },
      h("label", { for: "risk-input" }, "Paste a diff or a commit sha"),
      input,
      h("div", { class: "toolbar" }, h("button", { type: "submit", class: "primary", id: "risk-score" }, "Score"), scoreStatus),
    );
    const detailBox = h("div");
    const graphBox = h("div", { class: "graph", "data-testid": "blast-graph" });
    const legendBox = h("div");
    root.append(
      h("h1", {}, "Change risk"),
      section("Recent commits, riskiest first", recentStatus, recentBox),
      section("Score a change", form, detailBox),
      section("Blast radius", h("p", { class: "muted" }, "Changed functions → their callers (up to 3 hops) → operations implemented by them → services exposing those; operations and services sized by traffic."), graphBox, legendBox),
    );
    const view = new GraphView(graphBox, {
      schema: ctx.schema,
      loadProps: (uid, label) => loadNodeProps(ctx.schema, uid, label),
    });
    ctx.registerGraph("risk", view);

    const drawBlast = async (answer) => {
      view.clear();
      const seeds = answer.nodes
        .filter((n) => (n.label || "").toLowerCase() === "function")
        .slice(0, SEEDS)
        .map((n) => n.uid);
      if (seeds.length === 0) {
        clear(legendBox, h("p", { class: "muted" }, "No changed functions in this change: nothing to draw."));
        return;
      }
      const reached = records(await api.runQuery("blast_radius", { uids: seeds }));
      const fnDepth = new Map(reached.map((r) => [r.uid, r.depth]));
      for (const s of seeds) if (!fnDepth.has(s)) fnDepth.set(s, 0);
      const ops = [...new Set(reached.flatMap((r) => r.operations || []))];
      const [calls, traffic] = await Promise.all([
        api.cypher(CALLS, { uids: [...fnDepth.keys()] }),
        ops.length ? api.cypher(TRAFFIC, { uids: ops }) : Promise.resolve({ columns: [], rows: [] }),
      ]);
      const trafficRows = records(traffic);
      const opRequests = new Map();
      const svcRequests = new Map();
      for (const t of trafficRows) {
        opRequests.set(t.operation, (opRequests.get(t.operation) || 0) + (t.requests || 0));
        svcRequests.set(t.service, (svcRequests.get(t.service) || 0) + (t.requests || 0));
      }
      const top = Math.max(1, ...opRequests.values(), ...svcRequests.values());
      const sized = (n) => 18 + 42 * Math.sqrt((n || 0) / top);
      const maxDepth = Math.max(0, ...fnDepth.values());
      const column = new Map();
      const place = (uid, col) => {
        const k = column.get(col) || 0;
        column.set(col, k + 1);
        return { x: col * 240, y: k * 64 };
      };
      const byUid = new Map(reached.map((r) => [r.uid, r]));
      for (const [uid, depth] of [...fnDepth.entries()].sort((a, b) => a[1] - b[1])) {
        const r = byUid.get(uid) || {};
        const node = view.addNode(uid, "Function", { qualname: r.qualname, path: r.path, depth }, { size: depth === 0 ? 34 : 24 });
        node.position(place(uid, depth));
        if (depth === 0) node.addClass("focus");
      }
      for (const op of ops) view.addNode(op, "Operation", { requests: opRequests.get(op) || 0 }, { size: sized(opRequests.get(op)) }).position(place(op, maxDepth + 1));
      for (const svc of svcRequests.keys()) view.addNode(svc, "Service", { requests: svcRequests.get(svc) }, { size: sized(svcRequests.get(svc)) }).position(place(svc, maxDepth + 2));
      for (const c of records(calls)) {
        if (fnDepth.has(c.callee) && fnDepth.get(c.caller) > fnDepth.get(c.callee)) view.addEdge(c.callee, c.caller, "called by");
      }
      for (const r of reached) for (const op of r.operations || []) view.addEdge(r.uid, op, "behind");
      for (const t of trafficRows) view.addEdge(t.operation, t.service, "exposed by", {}, { width: 1 + 5 * Math.sqrt((t.requests || 0) / top) });
      view.refresh();
      view.layout({ name: "preset" });
      clear(legendBox, legend(view), h("p", { class: "muted" }, `${seeds.length} changed functions, ${fnDepth.size - seeds.length} callers, ${ops.length} operations, ${svcRequests.size} services.`));
    };

    const score = async (text) => {
      const value = text.trim();
      if (!value) {
        status(scoreStatus, "error", "paste a diff or a commit sha first");
        return;
      }
      const body = /^(commit:)?[0-9a-f]{4,64}$/i.test(value) ? { sha: value } : { diff: text };
      status(scoreStatus, "busy", "scoring…");
      try {
        const answer = await api.risk(body);
        clear(detailBox, riskDetail(answer));
        status(scoreStatus, "ok", `scored ${answer.target}`);
        await drawBlast(answer);
      } catch (e) {
        status(scoreStatus, "error", errorText(e));
      }
    };
    form.addEventListener("submit", (ev) => {
      ev.preventDefault();
      score(input.value);
    });

    const loadRecent = async () => {
      status(recentStatus, "busy", "scoring recent commits…");
      try {
        const ranked = await api.recentRisk(20);
        const info = new Map(records(await api.cypher(COMMITS, { uids: ranked.map((r) => r.target) })).map((r) => [r.uid, r]));
        const rows = ranked.map((r, i) => ({ rank: i + 1, ...info.get(r.target), answer: r }));
        clear(
          recentBox,
          table(
            [
              "rank",
              {
                key: "uid",
                title: "commit",
                render: (v, row) =>
                  h("button", { type: "button", class: "link", onclick: () => { input.value = v.replace(/^commit:/, ""); score(input.value); } }, v.replace(/^commit:/, "").slice(0, 10)),
              },
              "summary",
              "author",
              { key: "authored_at", title: "authored", render: when },
              { key: "answer", title: "risk", render: (a) => (typeof a.overall === "number" ? pct(a.overall) : a.label || "—") },
              { key: "answer", title: "why", render: (a) => reasons(a).join("; ") },
            ],
            rows,
          ),
        );
        status(recentStatus, "ok", `${rows.length} most recent commits scored by model ${ranked.length ? ranked[0].model_version : "—"}`);
      } catch (e) {
        if (e.code === "model_missing") {
          // an empty store or a code-only one: say what to load, not an error
          status(recentStatus, "ok", "No risk model yet: load git history (`prodgraph ingest repo PATH`), then run `prodgraph train` (or `prodgraph up PATH`).");
          clear(recentBox);
        } else {
          status(recentStatus, "error", errorText(e));
        }
      }
    };
    loadRecent();
  },
};
