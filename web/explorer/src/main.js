// The explorer's shell: asks for a key when the API wants one, then routes between the pages.

import "./style.css";
import { api, forgetKey, setUnauthenticatedHandler, storedKey, storeKey } from "./api.js";
import { errorsPage } from "./pages/errors.js";
import { homePage } from "./pages/home.js";
import { namedPage } from "./pages/named.js";
import { queryPage } from "./pages/query.js";
import { riskPage } from "./pages/risk.js";
import { servicesPage } from "./pages/services.js";
import { triagePage } from "./pages/triage.js";
import { Schema } from "./schema.js";
import { clear, errorText, h } from "./ui.js";

const PAGES = [homePage, queryPage, namedPage, servicesPage, riskPage, triagePage, errorsPage];

/** What tests and the console can reach: the current page, its graph, and every graph. */
const views = {};
const explorer = {
  ready: false,
  page: null,
  graphs: {},
  get cy() {
    return this.graphs[this.page] || null;
  },
};
window.explorer = explorer;

const main = document.getElementById("main");
const nav = document.getElementById("nav");
const mounted = new Map();

function askForKey(message) {
  const dialog = document.getElementById("key-dialog");
  const form = document.getElementById("key-form");
  const input = document.getElementById("key-input");
  const error = document.getElementById("key-error");
  error.textContent = message || "";
  input.value = "";
  return new Promise((resolve) => {
    const submit = async (ev) => {
      ev.preventDefault();
      const key = input.value.trim();
      if (!key) return;
      try {
        const answer = await api.schema(key);
        storeKey(key);
        form.removeEventListener("submit", submit);
        dialog.close();
        resolve(answer);
      } catch (e) {
        error.textContent = errorText(e);
      }
    };
    form.addEventListener("submit", submit);
    if (!dialog.open) dialog.showModal();
    input.focus();
  });
}

function showWho(authNeeded) {
  const who = document.getElementById("whoami");
  const forget = document.getElementById("forget-key");
  who.textContent = authNeeded ? "key kept in this tab only" : "no key needed (auth disabled)";
  forget.hidden = !authNeeded;
  forget.onclick = () => {
    forgetKey();
    window.location.reload();
  };
}

function route() {
  const [, id, ...rest] = (window.location.hash || "#/home").split("/");
  const page = PAGES.find((p) => p.id === id) || PAGES[0];
  return { page, arg: rest.length ? decodeURIComponent(rest.join("/")) : null };
}

function show(ctx) {
  const { page, arg } = route();
  for (const a of nav.querySelectorAll("a")) {
    if (a.dataset.page === page.id) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  }
  if (!mounted.has(page.id)) {
    const root = h("div", { class: "page", id: `page-${page.id}`, "data-page": page.id });
    main.append(root);
    page.mount(root, ctx);
    mounted.set(page.id, root);
  }
  for (const [id, root] of mounted) root.hidden = id !== page.id;
  const tip = document.getElementById("tooltip"); // a hover card never outlives its page
  if (tip) tip.hidden = true;
  explorer.page = page.id;
  document.title = `${page.title} · prodgraph explorer`;
  for (const view of views[page.id] || []) view.refresh();
  if (page.open) page.open(arg);
}

async function boot() {
  for (const p of PAGES) {
    nav.append(h("a", { href: `#/${p.id}`, "data-page": p.id }, p.title));
  }
  let answer;
  try {
    answer = await api.schema();
  } catch (e) {
    if (e.status !== 401) {
      clear(main, h("p", { class: "status error", role: "alert" }, `The API is not answering: ${errorText(e)}`));
      return;
    }
    const had = storedKey();
    if (had) forgetKey();
    answer = await askForKey(had ? "The key kept in this tab was refused." : "");
  }
  showWho(Boolean(storedKey()));
  let asking = false;
  setUnauthenticatedHandler(async (e) => {
    if (asking) return;
    asking = true;
    forgetKey();
    await askForKey(`The key was refused: ${e.message}`);
    asking = false;
    showWho(true);
  });
  const ctx = {
    schema: new Schema(answer),
    registerGraph(pageId, view) {
      (views[pageId] = views[pageId] || []).push(view);
      if (!explorer.graphs[pageId]) explorer.graphs[pageId] = view.cy;
    },
    expose(name, value) {
      explorer[name] = value;
    },
    go(pageId, arg) {
      window.location.hash = arg ? `#/${pageId}/${encodeURIComponent(arg)}` : `#/${pageId}`;
    },
  };
  explorer.schema = ctx.schema;
  window.addEventListener("hashchange", () => show(ctx));
  show(ctx);
  explorer.ready = true;
  document.body.dataset.ready = "true";
}

boot();
