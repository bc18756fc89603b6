// Query results as a table and a graph: nodes found in the rows, expansion, CSV/JSON export.

import { api, records } from "./api.js";
import { DRAW_LIMIT, GraphView, legend } from "./graph.js";
import { cellText, clear, download, errorText, h, status, table } from "./ui.js";

/** Neighbours fetched per direction when a node is expanded. */
export const EXPAND_LIMIT = 25;

function isRel(v) {
  return v && typeof v === "object" && "_SRC" in v && "_DST" in v && "_LABEL" in v;
}

function internalId(id) {
  return id && typeof id === "object" ? `${id.table}:${id.offset}` : String(id);
}

/**
 * The nodes and relationships in a `{columns, rows}` answer: maps with a `uid` (Ladybug nodes
 * carry `_LABEL`), relationship maps linked by their endpoints' internal ids, and strings that
 * are uids of a known label. Returns {nodes: Map(uid -> {label, props}), edges: [...]}.
 */
export function extractGraph(result, schema) {
  const nodes = new Map();
  let objects = 0; // whole nodes (maps with a uid), as opposed to uid strings
  const byInternal = new Map();
  const rels = [];
  const visit = (v, depth) => {
    if (v === null || v === undefined || depth > 3) return;
    if (typeof v === "string") {
      const label = schema.labelOf(v);
      if (label && !nodes.has(v)) nodes.set(v, { label, props: {} });
      return;
    }
    if (Array.isArray(v)) {
      v.forEach((x) => visit(x, depth + 1));
      return;
    }
    if (typeof v !== "object") return;
    if (isRel(v)) {
      rels.push(v);
      return;
    }
    if (typeof v.uid === "string") {
      const label = schema.isLabel(v._LABEL) ? v._LABEL : schema.labelOf(v.uid);
      if (label) {
        const old = nodes.get(v.uid);
        nodes.set(v.uid, { label, props: { ...(old ? old.props : {}), ...v } });
        objects += 1;
        if (v._ID) byInternal.set(internalId(v._ID), v.uid);
        return;
      }
    }
    Object.values(v).forEach((x) => visit(x, depth + 1));
  };
  for (const row of result.rows) row.forEach((cell) => visit(cell, 0));
  const edges = [];
  for (const r of rels) {
    const source = byInternal.get(internalId(r._SRC));
    const target = byInternal.get(internalId(r._DST));
    if (source && target) edges.push({ source, target, type: r._LABEL, props: r });
  }
  return { nodes, edges, objects };
}

/**
 * Relationships among `uids` (one query per label, keyed lookups): what links the uid strings a
 * named query returns, so its graph is not a grid of unconnected nodes.
 */
export async function linksAmong(schema, uids) {
  const byLabel = new Map();
  for (const uid of uids) {
    const label = schema.labelOf(uid);
    if (label) byLabel.set(label, [...(byLabel.get(label) || []), uid]);
  }
  const typeOf = schema.backend === "neo4j" ? "type(r)" : "label(r)";
  const edges = [];
  for (const [label, some] of byLabel) {
    const q = `UNWIND $sources AS u MATCH (a:${label} {uid: u})-[r]->(b) WHERE b.uid IN $among
RETURN a.uid AS source, ${typeOf} AS type, b.uid AS target LIMIT 2000`;
    edges.push(...records(await api.cypher(q, { sources: some, among: uids })));
  }
  return edges;
}

/** Properties of one node by uid, for the hover card (label from the schema, never typed). */
export async function loadNodeProps(schema, uid, label) {
  const lab = schema.isLabel(label) ? label : schema.labelOf(uid);
  if (!lab) return {};
  const answer = await api.cypher(`MATCH (n:${lab} {uid: $uid}) RETURN n`, { uid });
  return answer.rows.length ? answer.rows[0][0] : {};
}

/** Rows with a `uid` at `depth` 0 (blast_radius's changed functions) are drawn as seeds. */
function markSeeds(answer, view) {
  const u = answer.columns.indexOf("uid");
  const d = answer.columns.indexOf("depth");
  if (u < 0 || d < 0) return;
  for (const row of answer.rows) if (row[d] === 0) view.cy.getElementById(row[u]).addClass("seed");
}

function seedNote(view) {
  const n = view.cy.nodes(".seed").length;
  return n ? h("p", { class: "muted", "data-testid": "seed-note" }, `Red ring: the ${n} changed functions (depth 0).`) : null;
}

function renderCell(schema) {
  return (value) => {
    if (value && typeof value === "object" && !Array.isArray(value) && typeof value.uid === "string") {
      const label = value._LABEL || schema.labelOf(value.uid) || "";
      return h("span", {}, h("span", { class: "chip" }, label), " ", value.uid);
    }
    if (isRel(value)) return h("span", { class: "chip rel" }, value._LABEL);
    return cellText(value);
  };
}

/**
 * A result area: status line, export buttons, the graph (or a summary when too big) and the
 * table. `run()` callbacks supply the JSON answer and, for CSV export, the CSV text.
 */
export class ResultView {
  constructor(container, { schema, name, onGraph, drawUids = false }) {
    this.schema = schema;
    this.name = name;
    this.drawUids = drawUids; // draw uid strings (named queries) with the links among them
    this.status = h("p", { class: "status", role: "status", "aria-live": "polite" });
    this.csvButton = h("button", { type: "button", disabled: true, onclick: () => this.exportCsv() }, "Export CSV");
    this.jsonButton = h("button", { type: "button", disabled: true, onclick: () => this.exportJson() }, "Export JSON");
    this.summary = h("div", { class: "summary", hidden: true });
    // no empty drawing area before the first answer
    this.graphBox = h("div", { class: "graph", "data-testid": `${name}-graph`, hidden: true });
    this.legendBox = h("div");
    this.tableBox = h("div", { class: "results-table", "data-testid": `${name}-table` });
    this.hint = h("p", { class: "muted", hidden: true }, "Click a node to expand its neighbours; hover for its properties.");
    container.append(
      h("div", { class: "toolbar" }, this.status, h("span", { class: "spacer" }), this.csvButton, this.jsonButton),
      this.summary,
      this.graphBox,
      this.legendBox,
      this.hint,
      this.tableBox,
    );
    this.view = new GraphView(this.graphBox, {
      schema,
      onTap: (uid) => this.expand(uid),
      loadProps: (uid, label) => loadNodeProps(schema, uid, label),
    });
    if (onGraph) onGraph(this.view);
  }

  /** Run `fetch()` (the JSON answer) and show it; `csv()` gives the CSV export later. */
  async run(fetch, csv) {
    status(this.status, "busy", "running…");
    this.runs = (this.runs || 0) + 1;
    this.csv = csv;
    try {
      const answer = await fetch();
      await this.show(answer);
      return answer;
    } catch (e) {
      status(this.status, "error", errorText(e));
      throw e;
    } finally {
      this.status.dataset.done = String(this.runs);
    }
  }

  async show(answer) {
    this.answer = answer;
    const cut = answer.truncated ? " (truncated by the row cap)" : "";
    const ms = answer.elapsed_ms !== undefined ? ` in ${Math.round(answer.elapsed_ms)} ms` : "";
    status(this.status, "ok", `${answer.row_count ?? answer.rows.length} rows${ms}${cut}`);
    this.csvButton.disabled = !this.csv;
    this.jsonButton.disabled = false;
    const columns = answer.columns.map((c) => ({ key: c, render: renderCell(this.schema) }));
    clear(this.tableBox, table(columns, answer.rows, { limit: 1000 }));
    await this.drawAnswer(answer);
  }

  async drawAnswer(answer) {
    const { nodes, edges, objects } = extractGraph(answer, this.schema);
    this.view.clear();
    this.summary.hidden = true;
    // rows of plain values (counts, names, uid strings) are a table, not a grid of lone nodes
    const graphless = edges.length === 0 && objects === 0 && !(this.drawUids && nodes.size > 0);
    this.tableOnly = graphless;
    if (graphless) {
      this.graphBox.hidden = true;
      this.hint.hidden = true;
      clear(this.legendBox);
      return;
    }
    this.hint.hidden = false;
    if (this.drawUids && objects === 0 && nodes.size <= DRAW_LIMIT) {
      try {
        for (const l of await linksAmong(this.schema, [...nodes.keys()])) {
          edges.push({ source: l.source, target: l.target, type: l.type, props: {} });
        }
      } catch (e) {
        // the nodes are still drawn and the table is the answer; say what is missing
        status(this.status, "error", `relationships among the rows not drawn: ${errorText(e)}`);
      }
    }
    if (nodes.size > DRAW_LIMIT) {
      const counts = GraphView.summarise(nodes)
        .map(([label, n]) => `${label} ${n}`)
        .join(", ");
      clear(
        this.summary,
        h("strong", {}, `${nodes.size} nodes: too many to draw (limit ${DRAW_LIMIT}). `),
        `By label: ${counts}. Narrow the query (LIMIT, WHERE) to draw it.`,
      );
      this.summary.hidden = false;
      this.graphBox.hidden = true;
      clear(this.legendBox);
      return;
    }
    this.graphBox.hidden = nodes.size === 0;
    for (const [uid, { label, props }] of nodes) this.view.addNode(uid, label, props);
    for (const e of edges) this.view.addEdge(e.source, e.target, e.type, e.props);
    this.view.refresh();
    this.view.layout();
    markSeeds(answer, this.view);
    clear(this.legendBox, legend(this.view), seedNote(this.view));
  }

  /** Add a node's neighbours (via the named query `neighbours`), up to the draw limit. */
  async expand(uid) {
    const node = this.view.cy.getElementById(uid);
    if (!node.length || node.hasClass("expanded")) return;
    status(this.status, "busy", `expanding ${uid}…`);
    try {
      const answer = await api.runQuery("neighbours", { uid, limit: EXPAND_LIMIT });
      const fresh = [];
      let skipped = 0;
      const centre = { ...node.position() };
      for (const r of records(answer)) {
        if (!this.view.has(r.uid)) {
          if (this.view.size >= DRAW_LIMIT) {
            skipped += 1;
            continue;
          }
          fresh.push(this.view.addNode(r.uid, r.label));
        }
        const [source, target] = r.direction === "out" ? [uid, r.uid] : [r.uid, uid];
        this.view.addEdge(source, target, r.rel_type);
      }
      const added = fresh.length;
      // incremental layout: only the new nodes are placed, around the expanded one
      this.view.placeAround(centre, fresh);
      node.addClass("expanded");
      if (added) this.view.cy.animate({ fit: { eles: this.view.cy.elements(), padding: 30 } }, { duration: 200 });
      clear(this.legendBox, legend(this.view));
      const cap = skipped ? `; ${skipped} not drawn (limit ${DRAW_LIMIT} nodes)` : "";
      status(this.status, "ok", `expanded ${uid}: ${added} new neighbours${cap}`);
    } catch (e) {
      status(this.status, "error", errorText(e));
    }
  }

  exportJson() {
    if (!this.answer) return;
    const { columns, rows, row_count: n, truncated } = this.answer;
    const text = JSON.stringify({ columns, rows, row_count: n, truncated }, null, 2);
    download(`${this.name}.json`, text, "application/json");
  }

  async exportCsv() {
    if (!this.csv) return;
    try {
      download(`${this.name}.csv`, await this.csv(), "text/csv");
    } catch (e) {
      status(this.status, "error", errorText(e));
    }
  }
}
