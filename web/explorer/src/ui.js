// Small DOM helpers shared by the pages: element builder, tables, formatting, downloads.

/** `h("div", {class: "x", onclick: fn}, child, "text")`: an element; null children skipped. */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name.startsWith("on") && typeof value === "function") {
      el.addEventListener(name.slice(2), value);
    } else if (name === "class") {
      el.className = value;
    } else if (name === "dataset") {
      Object.assign(el.dataset, value);
    } else if (value === true) {
      el.setAttribute(name, "");
    } else {
      el.setAttribute(name, String(value));
    }
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

export function clear(el, ...children) {
  el.replaceChildren(...children.flat().filter((c) => c !== null && c !== undefined));
  return el;
}

/** A status line: "busy", "ok" or "error" text, announced to screen readers. */
export function status(el, kind, text) {
  el.className = `status ${kind}`;
  el.textContent = text;
}

export function errorText(error) {
  if (error && error.code && error.status) return `${error.status} ${error.code}: ${error.message}`;
  return String((error && error.message) || error);
}

export function pct(x) {
  if (x === null || x === undefined || Number.isNaN(x)) return "";
  if (x > 0 && x < 0.001) return "<0.1%";
  return `${(100 * x).toFixed(1)}%`;
}

export function num(x, digits = 2) {
  if (x === null || x === undefined) return "";
  return Number.isInteger(x) ? String(x) : Number(x).toFixed(digits);
}

/** ISO time as "2025-01-10 13:02" (UTC, as stored). */
export function when(t) {
  if (!t) return "";
  return String(t).replace("T", " ").slice(0, 16);
}

export function time(t) {
  return t ? Date.parse(String(t).endsWith("Z") || /[+-]\d\d:\d\d$/.test(t) ? t : `${t}Z`) : NaN;
}

/** Short text of any cell value for a table. */
export function cellText(value) {
  if (value === null || value === undefined) return "";
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  return JSON.stringify(value);
}

/**
 * A table of `rows` (arrays or objects) under `columns` ([{key, title?, render?}] or names).
 * `render(value, row)` may return a string or a Node. `limit` caps the rows shown.
 */
export function table(columns, rows, { limit = 1000, caption, rowAttrs } = {}) {
  const cols = columns.map((c) => (typeof c === "string" ? { key: c } : c));
  const shown = rows.slice(0, limit);
  const body = shown.map((row, i) =>
    h(
      "tr",
      rowAttrs ? rowAttrs(row, i) : {},
      cols.map((c, j) => {
        const value = Array.isArray(row) ? row[j] : row[c.key];
        const out = c.render ? c.render(value, row) : cellText(value);
        return h("td", { title: typeof out === "string" && out.length > 80 ? out : null }, out);
      }),
    ),
  );
  const note =
    rows.length > limit ? h("p", { class: "muted" }, `showing ${limit} of ${rows.length} rows`) : null;
  return h(
    "div",
    { class: "table-wrap" },
    h(
      "table",
      {},
      caption ? h("caption", {}, caption) : null,
      h("thead", {}, h("tr", {}, cols.map((c) => h("th", { scope: "col" }, c.title ?? c.key)))),
      h("tbody", {}, body),
    ),
    note,
  );
}

/** Offer `text` as a file download named `name`. */
export function download(name, text, type) {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = h("a", { href: url, download: name, hidden: true });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

export function section(title, ...children) {
  return h("section", { class: "panel" }, h("h2", {}, title), ...children);
}
