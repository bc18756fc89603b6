// Triage: paste a ticket, see ranked suspects with their evidence drawn, similar past tickets
// with their fixes, and suggested owners.

import { api } from "../api.js";
import { GraphView, legend } from "../graph.js";
import { loadNodeProps } from "../results.js";
import { clear, errorText, h, num, section, status, table, when } from "../ui.js";

/** Suspects whose evidence is drawn when an answer arrives. */
const DRAWN = 5;
/** What an empty field reads as. */
const DASH = "—";
const HOW = { blame: "git blame of the frames' lines", graph: "commits that changed the suspects" };

function commitCaption(answer) {
  const how = HOW[answer.commit_method] || DASH;
  const limit = answer.commit_window || "no time limit";
  return `commits (${answer.commits.length}; ${how}; ${limit}; as of ${when(answer.as_of) || DASH})`;
}

function signals(s) {
  return Object.entries(s.signals || {})
    .sort((a, b) => b[1] - a[1])
    .map(([k, v]) => `${k}=${num(v)}`)
    .join(", ");
}

function evidenceList(s) {
  return h(
    "details",
    {},
    h("summary", {}, `${s.evidence.length} evidence`),
    h(
      "ul",
      {},
      s.evidence.map((e) =>
        h("li", {}, h("strong", {}, e.signal), ` ${num(e.value)} `, e.detail, e.cypher ? h("pre", { class: "cypher" }, e.cypher) : null),
      ),
    ),
  );
}

export const triagePage = {
  id: "triage",
  title: "Triage",
  mount(root, ctx) {
    const title = h("input", { id: "triage-title", type: "text", placeholder: "KeyError on POST /checkout" });
    const body = h("textarea", { id: "triage-body", rows: 10, spellcheck: "false", placeholder: "Description, logs, stack traces…" });
    const service = h("input", { id: "triage-service", type: "text", placeholder: "optional, e.g. orders" });
    // when the ticket happened: suspects, commits and past tickets are read as of then
    const whenInput = h("input", { id: "triage-when", type: "datetime-local", step: 60 });
    const nowLocal = () => {
      const d = new Date();
      d.setSeconds(0, 0);
      return new Date(d.getTime() - d.getTimezoneOffset() * 60000).toISOString().slice(0, 16);
    };
    whenInput.value = nowLocal();
    const formStatus = h("p", { class: "status", role: "status" });
    const form = h(
      "form",
      { "aria-label": "Ticket to triage" },
      h("label", { for: "triage-title" }, "Title"),
      title,
      h("label", { for: "triage-body" }, "Body (stack traces welcome)"),
      body,
      h("label", { for: "triage-service" }, "Service"),
      service,
      h("label", { for: "triage-when" }, "When (your local time; default now)"),
      whenInput,
      h("div", { class: "toolbar" }, h("button", { type: "submit", class: "primary", id: "triage-run" }, "Triage"), formStatus),
    );
    const parsedBox = h("div");
    const suspectsBox = h("div", { "data-testid": "suspects" });
    const graphBox = h("div", { class: "graph", "data-testid": "evidence-graph" });
    const legendBox = h("div");
    const similarBox = h("div", { "data-testid": "similar" });
    const ownersBox = h("div", { "data-testid": "owners" });
    root.append(
      h("h1", {}, "Triage"),
      section("Ticket", form),
      h("div", { class: "split" }, h("div", { class: "body" }, section("Suspects", parsedBox, suspectsBox)), h("div", { class: "side wide" }, section("Evidence", graphBox, legendBox))),
      section("Similar past tickets and their fixes", similarBox),
      section("Suggested owners", ownersBox),
    );
    const view = new GraphView(graphBox, {
      schema: ctx.schema,
      loadProps: (uid, label) => loadNodeProps(ctx.schema, uid, label),
    });
    ctx.registerGraph("triage", view);

    const drawEvidence = (suspects) => {
      view.clear();
      for (const s of suspects) {
        view.addNode(s.uid, s.label, { name: s.name, path: s.path, score: s.score }, { size: 34 }).addClass("focus");
        for (const e of s.evidence) {
          const path = (e.path || []).filter((uid) => ctx.schema.labelOf(uid));
          path.forEach((uid) => view.addNode(uid, null));
          for (let i = 0; i + 1 < path.length; i += 1) view.addEdge(path[i], path[i + 1], e.signal);
          if (path.length && !path.includes(s.uid)) view.addEdge(path[path.length - 1], s.uid, e.signal);
        }
      }
      view.refresh();
      view.layout({ name: "cose" });
      clear(legendBox, legend(view));
    };

    const suspectTable = (kind, suspects, caption) =>
      table(
        [
          { key: "rank", render: (v, s) => String(suspects.indexOf(s) + 1) },
          {
            key: "name",
            title: kind,
            render: (v, s) => h("button", { type: "button", class: "link", title: "draw its evidence", onclick: () => drawEvidence([s]) }, v || s.path || s.uid),
          },
          { key: "path", render: (v) => v || DASH },
          ...(kind === "commits" ? [{ key: "reason", title: "why", render: (v) => v || DASH }] : []),
          { key: "score", render: (v) => num(v, 3) },
          { key: "signals", render: (v, s) => signals(s) },
          { key: "evidence", render: (v, s) => evidenceList(s) },
          { key: "owners", render: (v) => (v || []).slice(0, 2).map((o) => o.name || o.email).join(", ") || DASH },
        ],
        suspects,
        { caption: caption || `${kind} (${suspects.length})` },
      );

    const show = (answer) => {
      const t = answer.ticket;
      const fp = answer.seen_before && answer.seen_before.fingerprint;
      clear(
        parsedBox,
        h(
          "p",
          {},
          t.error_type ? h("strong", {}, `${t.error_type}: ${t.message} `) : "No error type found. ",
          `${t.frames.length} frames, scorer ${answer.scorer}, ${Math.round(answer.elapsed_ms)} ms. `,
          fp ? h("a", { href: `#/errors/${encodeURIComponent(fp)}` }, `error history of ${fp}`) : null,
        ),
        answer.seen_before && answer.seen_before.summary ? h("p", { "data-testid": "seen-before" }, `Seen before: ${answer.seen_before.summary}`) : null,
      );
      clear(
        suspectsBox,
        suspectTable("functions", answer.functions),
        suspectTable("files", answer.files),
        suspectTable("commits", answer.commits, commitCaption(answer)),
        (answer.commit_blamed || []).length ? h("p", { class: "muted", "data-testid": "commit-blamed" }, `blamed: ${answer.commit_blamed.join("; ")}`) : null,
      );
      drawEvidence(answer.functions.slice(0, DRAWN));
      clear(
        similarBox,
        table(
          [
            { key: "key", title: "ticket" },
            { key: "title", render: (v) => v || DASH },
            { key: "status", render: (v) => v || DASH },
            { key: "score", render: (v) => num(v, 2) },
            { key: "signals", render: (v, s) => signals(s) },
            { key: "duplicate_of", title: "duplicate of", render: (v) => v || DASH },
            {
              key: "fixes",
              render: (v) =>
                v && v.length ? h("ul", { class: "plain" }, v.map((f) => h("li", {}, h("code", {}, f.sha.slice(0, 10)), ` ${f.summary} `, h("span", { class: "muted" }, f.files.join(", "))))) : DASH,
            },
          ],
          answer.similar,
        ),
      );
      clear(
        ownersBox,
        table(["name", "email", "commits", { key: "last_at", title: "last change", render: (v) => when(v) || DASH }, { key: "score", render: (v) => num(v, 2) }], answer.owners),
      );
    };

    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      if (!title.value.trim() && !body.value.trim()) {
        status(formStatus, "error", "give the ticket a title or a body");
        return;
      }
      status(formStatus, "busy", "triaging…");
      const request = { title: title.value, body: body.value, top_k: 10 };
      if (service.value.trim()) request.service = service.value.trim();
      if (whenInput.value) request.created = new Date(whenInput.value).toISOString();
      try {
        const answer = await api.triage(request);
        show(answer);
        status(formStatus, "ok", `${answer.functions.length} functions, ${answer.files.length} files, ${answer.commits.length} commits, ${answer.similar.length} similar tickets`);
      } catch (e) {
        status(formStatus, "error", errorText(e));
      }
    });
  },
};
