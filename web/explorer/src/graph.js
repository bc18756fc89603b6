// Graph drawing with cytoscape: nodes coloured by label, hover shows properties, tap callback.

import cytoscape from "cytoscape";
import { h, clear, cellText } from "./ui.js";

/** Results with more nodes than this are summarised, not drawn. */
export const DRAW_LIMIT = 500;

const PALETTE = {
  Repository: "#6c757d",
  File: "#4e79a7",
  Class: "#76b7b2",
  Function: "#59a14f",
  Commit: "#edc948",
  Person: "#b07aa1",
  Service: "#e15759",
  Operation: "#f28e2b",
  Deployment: "#9c755f",
  ErrorSignature: "#d62728",
  Ticket: "#ff9da7",
  Resource: "#8cd17d",
};

export function labelColour(label) {
  return PALETTE[label] || "#bab0ac";
}

/** A short caption for a node from its properties or its uid. */
export function caption(uid, props = {}) {
  if (props.sha) return String(props.sha).slice(0, 10);
  if (props.key && props.title) return `#${props.key} ${props.title}`;
  for (const name of ["qualname", "name", "title", "path", "version", "email"]) {
    if (props[name]) return String(props[name]);
  }
  const parts = String(uid).split(":");
  return parts[parts.length - 1] || uid;
}

function plainProps(props) {
  const out = {};
  for (const [k, v] of Object.entries(props || {})) {
    if (v === null || v === undefined || k.startsWith("_")) continue;
    if (k === "sketch" || k === "content_hash") continue;
    out[k] = v;
  }
  return out;
}

const STYLE = [
  {
    selector: "node",
    style: {
      "background-color": "data(colour)",
      label: "data(caption)",
      width: "data(size)",
      height: "data(size)",
      "font-size": 10,
      color: "#222",
      "text-valign": "bottom",
      "text-margin-y": 3,
      "text-max-width": 140,
      "text-wrap": "ellipsis",
      "border-width": 1,
      "border-color": "#fff",
    },
  },
  { selector: "node.expanded", style: { "border-width": 3, "border-color": "#333" } },
  { selector: "node.focus", style: { "border-width": 4, "border-color": "#0a58ca" } },
  { selector: "node:selected", style: { "border-width": 4, "border-color": "#0a58ca" } },
  {
    selector: "edge",
    style: {
      width: "data(width)",
      "line-color": "data(colour)",
      "target-arrow-color": "data(colour)",
      "target-arrow-shape": "triangle",
      "curve-style": "bezier",
      label: "data(caption)",
      "font-size": 8,
      color: "#555",
      "text-rotation": "autorotate",
      "text-background-color": "#fff",
      "text-background-opacity": 0.7,
    },
  },
];

/**
 * One drawn graph. `schema` tells labels from uids; `onTap(uid, label)` runs on a node tap;
 * `loadProps(uid, label)` (async) fetches properties for the hover card of a bare node.
 */
export class GraphView {
  constructor(container, { schema, onTap, loadProps, tooltip } = {}) {
    this.container = container;
    this.schema = schema;
    this.loadProps = loadProps;
    this.tooltip = tooltip || document.getElementById("tooltip");
    this.cy = cytoscape({
      container,
      style: STYLE,
      minZoom: 0.1,
      maxZoom: 4,
      boxSelectionEnabled: false,
    });
    this.cy.on("tap", "node", (ev) => onTap && onTap(ev.target.id(), ev.target.data("label")));
    this.cy.on("mouseover", "node", (ev) => this.hover(ev.target, ev));
    this.cy.on("mouseout", "node", () => this.hideTooltip());
    this.cy.on("viewport", () => this.hideTooltip());
  }

  get size() {
    return this.cy.nodes().length;
  }

  has(uid) {
    return this.cy.getElementById(uid).length > 0;
  }

  clear() {
    this.cy.elements().remove();
    this.hideTooltip();
  }

  /** Add (or enrich) a node; `label` defaults to the one its uid prefix names. */
  addNode(uid, label, props = {}, extra = {}) {
    const lab = label || (this.schema && this.schema.labelOf(uid)) || "node";
    const clean = plainProps(props);
    const existing = this.cy.getElementById(uid);
    if (existing.length) {
      const merged = { ...existing.data("props"), ...clean };
      existing.data({ props: merged, caption: extra.caption || caption(uid, merged), ...extra });
      return existing;
    }
    return this.cy.add({
      group: "nodes",
      data: {
        id: uid,
        label: lab,
        props: clean,
        caption: caption(uid, clean),
        colour: labelColour(lab),
        size: 24,
        ...extra,
      },
    });
  }

  /** Add an edge once per (source, type, target). */
  addEdge(source, target, type, props = {}, extra = {}) {
    if (!this.has(source) || !this.has(target)) return null;
    const id = `${source}|${type}|${target}`;
    const existing = this.cy.getElementById(id);
    if (existing.length) return existing;
    return this.cy.add({
      group: "edges",
      data: {
        id,
        source,
        target,
        type,
        caption: type,
        props: plainProps(props),
        width: 1.5,
        colour: "#9aa5b1",
        ...extra,
      },
    });
  }

  layout(options = {}) {
    const n = this.size;
    if (n === 0) return;
    const name = options.name || (n > 200 ? "concentric" : "cose");
    const spec = { name, animate: false, fit: true, padding: 30, ...options };
    if (name === "cose") Object.assign(spec, { nodeRepulsion: 9000, idealEdgeLength: 90 });
    this.cy.layout(spec).run();
  }

  /** Refit after the container was hidden (display: none leaves cytoscape at size 0). */
  refresh() {
    this.cy.resize();
    if (this.size) this.cy.fit(undefined, 30);
  }

  async hover(node, ev) {
    const uid = node.id();
    let props = node.data("props") || {};
    this.showTooltip(ev, uid, node.data("label"), props, Object.keys(props).length === 0);
    if (Object.keys(props).length === 0 && this.loadProps && !node.data("propsLoaded")) {
      try {
        props = plainProps(await this.loadProps(uid, node.data("label")));
        node.data({ props, propsLoaded: true });
        if (this.tooltipFor === uid) this.showTooltip(ev, uid, node.data("label"), props, false);
      } catch (e) {
        node.data({ propsLoaded: true });
      }
    }
  }

  showTooltip(ev, uid, label, props, loading) {
    const tip = this.tooltip;
    this.tooltipFor = uid;
    const rows = Object.entries(props)
      .slice(0, 24)
      .map(([k, v]) => h("tr", {}, h("th", {}, k), h("td", {}, cellText(v).slice(0, 200))));
    clear(
      tip,
      h("div", { class: "tip-title" }, h("span", { class: "chip" }, label), " ", uid),
      loading ? h("div", { class: "muted" }, "loading properties…") : h("table", {}, rows),
    );
    const box = this.container.getBoundingClientRect();
    const pos = (ev && ev.renderedPosition) || nodePosition(ev);
    tip.style.left = `${Math.round(box.left + pos.x + 14)}px`;
    tip.style.top = `${Math.round(box.top + pos.y + 14)}px`;
    tip.hidden = false;
    tip.dataset.uid = uid;
  }

  hideTooltip() {
    this.tooltipFor = null;
    if (this.tooltip) this.tooltip.hidden = true;
  }

  /** Counts per label, for the summary of a graph too big to draw. */
  static summarise(nodes) {
    const counts = {};
    for (const { label } of nodes.values()) counts[label] = (counts[label] || 0) + 1;
    return Object.entries(counts).sort((a, b) => b[1] - a[1]);
  }
}

function nodePosition(ev) {
  if (ev && ev.target && ev.target.renderedPosition) return ev.target.renderedPosition();
  return { x: 0, y: 0 };
}

/** A legend of the labels present in `view`. */
export function legend(view) {
  const labels = [...new Set(view.cy.nodes().map((n) => n.data("label")))].sort();
  return h(
    "div",
    { class: "legend" },
    labels.map((l) => h("span", { class: "chip", style: `background:${labelColour(l)}` }, l)),
  );
}
