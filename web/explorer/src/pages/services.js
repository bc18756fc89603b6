// Service map: services (neutral) and resources (purple, shaped by kind) from traces, edges
// sized by request rate and coloured by error rate, a time range, deployments on a timeline, and
// a service's operations, functions and recent tickets.

import { api, records } from "../api.js";
import { GraphView, legend } from "../graph.js";
import { loadNodeProps } from "../results.js";
import { timeline } from "../timeline.js";
import { clear, errorText, h, num, pct, section, status, table, time, when } from "../ui.js";

const SERVICES = `MATCH (s:Service)
RETURN s.uid AS uid, s.name AS name, s.language AS language, s.version AS version,
       s.environment AS environment
ORDER BY name`;

const DEPENDENCIES = `MATCH (s:Service)-[d:DEPENDS_ON]->(t)
RETURN s.uid AS source, t.uid AS target, t.name AS target_name, t.kind AS target_kind,
       t.system AS target_system, d.count AS requests,
       d.errors AS errors, d.p95_ms AS p95_ms, d.first_seen AS first_seen, d.last_seen AS last_seen
ORDER BY source, target`;

const OPERATIONS = `MATCH (s:Service {uid: $uid})-[e:EXPOSES]->(o:Operation)
OPTIONAL MATCH (o)-[:IMPLEMENTED_BY]->(f:Function)
RETURN o.uid AS uid, o.name AS name, o.kind AS kind, e.count AS requests, e.errors AS errors,
       e.p95_ms AS p95_ms, collect(DISTINCT f.uid) AS functions
ORDER BY requests DESC, name
LIMIT 200`;

const TICKETS = `MATCH (t:Ticket)-[:AFFECTS|MENTIONS]->(s:Service {uid: $uid})
RETURN DISTINCT t.uid AS uid, t.key AS key, t.title AS title, t.kind AS kind, t.status AS status,
       t.created_at AS created_at
ORDER BY created_at DESC
LIMIT 20`;

const ALL_TIME = "1970-01-01T00:00:00Z";

/** Error rate 0 -> green, 10% or more -> red. */
export function errorColour(rate) {
  const r = Math.min(1, Math.max(0, (rate || 0) / 0.1));
  return `hsl(${Math.round(120 * (1 - r))}, 70%, 40%)`;
}

/** Requests per hour over the observed window (at least one hour). */
function ratePerHour(e) {
  const hours = (time(e.last_seen) - time(e.first_seen)) / 3.6e6;
  return (e.requests || 0) / Math.max(1, Number.isNaN(hours) ? 1 : hours);
}

/** Services in one neutral colour, so the edges' error colours stand out; resources apart. */
export const SERVICE_COLOUR = "#8795a8";
export const RESOURCE_COLOUR = "#5b4b9a";

/** Time ranges, ending at the newest time seen in the store (sample data may be old). */
export const RANGES = [
  { id: "all", title: "whole period", hours: null },
  { id: "30d", title: "last 30 days", hours: 720 },
  { id: "7d", title: "last 7 days", hours: 168 },
  { id: "24h", title: "last 24 hours", hours: 24 },
];

const STATUS_COLOUR = { success: "#2e7d32", failure: "#c62828", failed: "#c62828", rolled_back: "#ef6c00" };

export const servicesPage = {
  id: "services",
  title: "Service map",
  mount(root, ctx) {
    const pageStatus = h("p", { class: "status", role: "status" });
    const graphBox = h("div", { class: "graph", "data-testid": "services-graph" });
    const legendBox = h("div");
    const detail = h("div", { class: "detail", "data-testid": "service-detail" }, h("p", { class: "muted" }, "Click a service to see its operations, the functions behind them and its recent tickets."));
    const deployBox = h("div", { class: "timeline-box" });
    const rangeSelect = h(
      "select",
      { id: "services-range", class: "inline", "aria-label": "Time range" },
      RANGES.map((r) => h("option", { value: r.id }, r.title)),
    );
    const rangeNote = h("span", { class: "muted", "data-testid": "range-note" });
    root.append(
      h("h1", {}, "Service map"),
      h("div", { class: "toolbar" }, h("label", { for: "services-range" }, "Time range "), rangeSelect, rangeNote),
      pageStatus,
      h("div", { class: "split" }, h("div", { class: "body" }, graphBox, legendBox), h("div", { class: "side wide" }, detail)),
      section("Deployments", deployBox),
    );
    const view = new GraphView(graphBox, {
      schema: ctx.schema,
      onTap: (uid, label) => label === "Service" && showService(uid),
      loadProps: (uid, label) => loadNodeProps(ctx.schema, uid, label),
    });
    ctx.registerGraph("services", view);

    const showService = async (uid) => {
      view.cy.nodes().removeClass("focus");
      view.cy.getElementById(uid).addClass("focus");
      clear(detail, h("h2", {}, uid), h("p", { class: "status busy" }, "loading…"));
      try {
        const [ops, tickets] = await Promise.all([api.cypher(OPERATIONS, { uid }), api.cypher(TICKETS, { uid })]);
        const opRows = records(ops);
        clear(
          detail,
          h("h2", {}, uid.replace(/^svc:/, "")),
          table(
            [
              { key: "name", title: "operation" },
              "kind",
              "requests",
              { key: "errors", title: "error rate", render: (v, r) => pct(r.requests ? v / r.requests : 0) },
              { key: "p95_ms", title: "p95 ms", render: (v) => num(v, 1) },
              { key: "functions", title: "functions", render: (v) => (v || []).map((f) => f.split(":").pop()).join(", ") },
            ],
            opRows,
            { caption: `${opRows.length} operations` },
          ),
          table(
            [{ key: "key", title: "ticket" }, "title", "kind", "status", { key: "created_at", title: "created", render: when }],
            records(tickets),
            { caption: `recent tickets (${tickets.rows.length})` },
          ),
        );
      } catch (e) {
        clear(detail, h("p", { class: "status error" }, errorText(e)));
      }
    };

    let data = null;

    const draw = () => {
      const range = RANGES.find((r) => r.id === rangeSelect.value) || RANGES[0];
      const end = data.end;
      const from = range.hours === null || Number.isNaN(end) ? -Infinity : end - range.hours * 3.6e6;
      const inRange = (t) => from === -Infinity || time(t) >= from;
      view.clear();
      for (const s of data.services) {
        view.addNode(s.uid, "Service", s, { size: 36, colour: SERVICE_COLOUR });
      }
      // traffic is stored as totals per dependency (first and last seen, no time buckets):
      // a range keeps the dependencies seen in it, with their whole-period totals
      const edges = data.edges.filter((e) => inRange(e.last_seen));
      const rates = edges.map(ratePerHour);
      const top = Math.max(1e-9, ...rates);
      edges.forEach((e, i) => {
        if (!view.has(e.target)) {
          view.addNode(e.target, null, { name: e.target_name, kind: e.target_kind, system: e.target_system }, { colour: RESOURCE_COLOUR, size: 30 });
        }
        const rate = e.requests ? (e.errors || 0) / e.requests : 0;
        view.addEdge(e.source, e.target, "DEPENDS_ON", e, {
          width: 1 + 9 * Math.sqrt(rates[i] / top),
          colour: errorColour(rate),
          caption: `${num(e.requests || 0, 0)} calls · ${pct(rate) || "0.0%"} err`,
          rate: rates[i],
          errorRate: rate,
        });
      });
      view.refresh();
      view.layout({ name: "cose" });
      const resources = view.cy.nodes().filter((n) => n.data("label") !== "Service").length;
      clear(
        legendBox,
        legend(view),
        h(
          "p",
          { class: "muted" },
          `Grey circles: services. Purple: resources (databases as barrels, queues as rhomboids, hosts as octagons), ${resources} drawn. `,
          "Edge label: calls and error rate; width: requests per hour over the observed window; colour: error rate, green 0% to red ≥10%.",
        ),
      );
      const rows = data.deploys.filter((d) => inRange(d.started_at));
      const byService = new Map();
      for (const d of rows) {
        if (!byService.has(d.service)) byService.set(d.service, []);
        byService.get(d.service).push({
          at: d.started_at,
          colour: STATUS_COLOUR[d.status] || "#607d8b",
          kind: "deployment",
          text: `${d.service} ${d.version || ""} (${d.environment || ""}) ${d.status || ""} at ${when(d.started_at)}${d.sha ? `, ships ${d.sha.slice(0, 10)}: ${d.summary || ""}` : ""}`,
        });
      }
      const lanes = [...byService.entries()].sort().map(([label, items]) => ({ label, items }));
      clear(
        deployBox,
        rows.length
          ? timeline(lanes, { testid: "deploy-timeline" })
          : h("p", { class: "muted", "data-testid": "no-deploys" }, data.deploys.length ? "No deployments in this range." : "No deployments loaded: `prodgraph ingest deployments PATH` loads them."),
        h("p", { class: "muted" }, `${rows.length} deployments; green success, red failure, grey other.`),
      );
      rangeNote.textContent =
        range.hours === null
          ? ""
          : ` ${range.title} up to ${when(new Date(end).toISOString())}: deployments filtered by start; dependencies shown when seen in the range, with their totals over the whole observed period (traffic is not stored per time bucket).`;
      graphBox.hidden = data.services.length === 0; // no empty drawing on a store without services
      if (data.services.length === 0) {
        clear(legendBox);
        status(pageStatus, "ok", "No services loaded: load traces (`prodgraph ingest traces`) or deployments to draw the service map.");
      } else {
        status(pageStatus, "ok", `${data.services.length} services, ${edges.length} dependencies, ${rows.length} deployments`);
      }
    };

    const load = async () => {
      status(pageStatus, "busy", "loading services…");
      try {
        const [services, deps, deploys] = await Promise.all([
          api.cypher(SERVICES),
          api.cypher(DEPENDENCIES),
          api.runQuery("recent_deployments", { since: ALL_TIME, limit: 500 }),
        ]);
        const edges = records(deps);
        const rows = records(deploys);
        const times = [...edges.map((e) => time(e.last_seen)), ...rows.map((d) => time(d.started_at))].filter((t) => !Number.isNaN(t));
        data = { services: records(services), edges, deploys: rows, end: times.length ? Math.max(...times) : NaN };
        draw();
      } catch (e) {
        status(pageStatus, "error", errorText(e));
      }
    };
    rangeSelect.addEventListener("change", () => data && draw());
    this.showService = showService;
    load();
  },
};
