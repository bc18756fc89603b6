// A plain SVG timeline: one lane per row, marks (points) and spans, each with a hover title.

import { when, time } from "./ui.js";

const NS = "http://www.w3.org/2000/svg";

function svg(tag, attrs = {}, ...children) {
  const el = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) if (v !== null && v !== undefined) el.setAttribute(k, String(v));
  for (const c of children) if (c) el.append(c);
  return el;
}

function title(text) {
  const t = svg("title");
  t.textContent = text;
  return t;
}

/**
 * lanes: [{label, items: [{at, until?, colour, text, kind, size?}]}]; `at`/`until` ISO times.
 * Returns an <svg> element (with a time axis) sized to its lanes.
 */
export function timeline(lanes, { width = 900, laneHeight = 26, labelWidth = 150, testid } = {}) {
  const all = lanes.flatMap((l) => l.items.flatMap((i) => [time(i.at), time(i.until)])).filter((t) => !Number.isNaN(t));
  if (all.length === 0) {
    const empty = svg("svg", { width, height: 24, class: "timeline", "data-testid": testid });
    const note = svg("text", { x: 4, y: 16, class: "tick" });
    note.textContent = "nothing with a time to show";
    empty.append(note);
    return empty;
  }
  const lo = Math.min(...all);
  const hi = Math.max(...all);
  const span = hi - lo || 1;
  const plot = width - labelWidth - 20;
  const x = (t) => labelWidth + ((time(t) - lo) / span) * plot;
  const height = lanes.length * laneHeight + 30;
  const root = svg("svg", {
    width,
    height,
    viewBox: `0 0 ${width} ${height}`,
    class: "timeline",
    role: "img",
    "aria-label": `timeline from ${when(new Date(lo).toISOString())} to ${when(new Date(hi).toISOString())}`,
    "data-testid": testid,
  });
  lanes.forEach((lane, i) => {
    const y = i * laneHeight + laneHeight / 2;
    const label = svg("text", { x: labelWidth - 8, y: y + 4, "text-anchor": "end", class: "lane-label" });
    label.textContent = lane.label;
    root.append(label, svg("line", { x1: labelWidth, x2: labelWidth + plot, y1: y, y2: y, class: "lane" }));
    for (const item of lane.items) {
      if (Number.isNaN(time(item.at))) continue;
      const mark = item.until && !Number.isNaN(time(item.until))
        ? svg("rect", {
            x: x(item.at),
            y: y - 6,
            width: Math.max(3, x(item.until) - x(item.at)),
            height: 12,
            rx: 3,
            fill: item.colour,
            class: `mark ${item.kind || ""}`,
          })
        : svg("circle", { cx: x(item.at), cy: y, r: item.size || 6, fill: item.colour, class: `mark ${item.kind || ""}` });
      mark.append(title(item.text));
      root.append(mark);
    }
  });
  const axisY = lanes.length * laneHeight + 14;
  for (let k = 0; k <= 4; k += 1) {
    const t = lo + (span * k) / 4;
    const tx = labelWidth + (plot * k) / 4;
    const tick = svg("text", { x: tx, y: axisY + 10, "text-anchor": k === 0 ? "start" : k === 4 ? "end" : "middle", class: "tick" });
    tick.textContent = when(new Date(t).toISOString());
    root.append(svg("line", { x1: tx, x2: tx, y1: 0, y2: axisY, class: "grid" }), tick);
  }
  return root;
}
