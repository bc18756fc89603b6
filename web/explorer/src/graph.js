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

/** Node shapes per label (resources differ by kind: see `resourceShape`). */
const SHAPE = {
  Repository: "round-rectangle",
  File: "round-rectangle",
  Class: "hexagon",
  Function: "ellipse",
  Commit: "diamond",
  Person: "round-triangle",
  Service: "ellipse",
  Operation: "round-tag",
  Deployment: "vee",
  ErrorSignature: "star",
  Ticket: "rectangle",
  Resource: "barrel",
};

/** Resources drawn by kind: databases as barrels, queues as rhomboids, hosts as octagons. */
export function resourceShape(kind) {
  return { database: "barrel", queue: "rhomboid", cache: "barrel", host: "octagon" }[kind] || "cut-rectangle";
}

export function labelShape(label) {
  return SHAPE[label] || "ellipse";
}

function last(text, sep) {
  const parts = String(text).split(sep);
  return parts[parts.length - 1];
}

/** The caption each label is known by (Neo4j Browser's "caption" per label). */
const CAPTIONS = {
  Function: (p) => p.qualname || p.name,
  Class: (p) => p.qualname || p.name,
  File: (p) => p.path && last(p.path, "/"),
  Commit: (p) => p.sha && String(p.sha).slice(0, 8),
  Deployment: (p) => p.service && `${p.service} ${p.version || ""}`.trim(),
  ErrorSignature: (p) => p.type,
  Ticket: (p) => p.key && `#${p.key} ${p.title || ""}`.trim(),
  Person: (p) => p.name || p.email,
  Resource: (p) => p.name,
};

/** A short caption for a node from its label's caption property, other properties or its uid. */
export function caption(uid, props = {}, label = null) {
  const byLabel = label && CAPTIONS[label] && CAPTIONS[label](props);
  if (byLabel) return String(byLabel);
  if (props.sha) return String(props.sha).slice(0, 10);
  if (props.key && props.title) return `#${props.key} ${props.title}`;
  for (const name of ["qualname", "name", "title", "path", "version", "email"]) {
    if (props[name]) return String(props[name]);
  }
  const parts = String(uid).split(":");
  return parts[parts.length - 1] || uid;
}

/** Rendered (on-screen) label sizes in px, whatever the zoom and the number of nodes. */
export const NODE_FONT_PX = 11;
const EDGE_FONT_PX = 9;

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
      shape: "data(shape)",
      label: "data(caption)",
      width: "data(size)",
      height: "data(size)",
      "font-size": NODE_FONT_PX,
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
  { selector: "node.seed", style: { "border-width": 5, "border-color": "#d62728", "font-weight": "bold" } },
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
      "font-size": EDGE_FONT_PX,
      color: "#333",
      "text-rotation": "autorotate",
      "text-background-color": "#fff",
      "text-background-opacity": 0.9,
      "text-background-padding": 1,
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
    // a pan or zoom by the user hides the card; the short fit after an expansion does not
    this.cy.on("viewport", () => {
      if (!this.cy.animated()) this.hideTooltip();
    });
    this.cy.on("zoom", () => this.scaleLabels());
  }

  /** Keep labels the same size on screen: font sizes follow the inverse of the zoom, so a
   * graph of 400 nodes fitted into the box reads like one of 4. */
  scaleLabels() {
    const z = this.cy.zoom();
    if (this.labelZoom === z) return;
    this.labelZoom = z;
    this.cy
      .style()
      .selector("node")
      .style({ "font-size": NODE_FONT_PX / z, "text-max-width": 140 / z, "text-margin-y": 3 / z })
      .selector("edge")
      .style({ "font-size": EDGE_FONT_PX / z })
      .update();
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
      existing.data({ props: merged, caption: extra.caption || caption(uid, merged, existing.data("label")), ...extra });
      return existing;
    }
    return this.cy.add({
      group: "nodes",
      data: {
        id: uid,
        label: lab,
        props: clean,
        caption: caption(uid, clean, lab),
        colour: labelColour(lab),
        shape: lab === "Resource" && clean.kind ? resourceShape(clean.kind) : labelShape(lab),
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
    this.scaleLabels();
  }

  /**
   * Place `added` nodes around `centre` without moving any other node (incremental layout):
   * a ring of up to 12, then wider rings, so the rest of the drawing stays where it was.
   */
  placeAround(centre, added) {
    const perRing = 12;
    added.forEach((n, i) => {
      const ring = Math.floor(i / perRing);
      const inRing = Math.min(perRing, added.length - ring * perRing);
      const angle = (2 * Math.PI * (i % perRing)) / inRing + ring * 0.26;
      const r = 110 + 70 * ring;
      n.position({ x: centre.x + r * Math.cos(angle), y: centre.y + r * Math.sin(angle) });
    });
  }

  /** Refit after the container was hidden (display: none leaves cytoscape at size 0). */
  refresh() {
    this.cy.resize();
    if (this.size) this.cy.fit(undefined, 30);
    this.scaleLabels();
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

/** A legend of the labels present in `view` (colour, shape and count) and its edge types. */
export function legend(view) {
  const counts = new Map();
  const colours = new Map(); // the colour drawn (a page may override the label's palette colour)
  for (const n of view.cy.nodes()) {
    counts.set(n.data("label"), (counts.get(n.data("label")) || 0) + 1);
    if (!colours.has(n.data("label"))) colours.set(n.data("label"), n.data("colour"));
  }
  const types = [...new Set(view.cy.edges().map((e) => e.data("type")))].sort();
  return h(
    "div",
    { class: "legend", "data-testid": "legend" },
    [...counts.keys()].sort().map((l) =>
      h("span", { class: "chip", dataset: { label: l }, style: `background:${colours.get(l) || labelColour(l)}` }, `${l} ${counts.get(l)}`),
    ),
    types.map((t) => h("span", { class: "chip rel", dataset: { type: t } }, t)),
  );
}
