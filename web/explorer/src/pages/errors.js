// Error history: an error signature's occurrences over time, the deployments around them, the
// tickets that report it and the commits that fixed those.

import { api, records } from "../api.js";
import { timeline } from "../timeline.js";
import { clear, errorText, h, section, status, table, when } from "../ui.js";

// One row per signature (type + in-app frames): the innermost in-app frame tells apart
// signatures whose messages read alike.
const SIGNATURES = `MATCH (e:ErrorSignature)
OPTIONAL MATCH (e)-[:SEEN_IN]->(s:Service)
WITH e, collect(DISTINCT s.name) AS services
RETURN e.fingerprint AS fingerprint, e.type AS type, e.message_template AS message,
       e.frames AS frames, e.count AS occurrences, e.first_seen AS first_seen,
       e.last_seen AS last_seen, services
ORDER BY last_seen DESC, fingerprint
LIMIT 200`;

/** What an empty field reads as. */
const DASH = "—";
const dash = (v) => (v === null || v === undefined || v === "" || (Array.isArray(v) && !v.length) ? DASH : String(v));
const whenOr = (t) => dash(when(t));
// the in-app frames, innermost last (the last four; the fingerprint uses them all)
const culprit = (frames) => (frames && frames.length ? (frames.length > 4 ? "… › " : "") + frames.slice(-4).join(" › ") : DASH);

const OCCURRENCES = `MATCH (e:ErrorSignature {uid: $uid})-[s:SEEN_IN]->(d:Deployment)
RETURN d.uid AS deployment, d.service AS service, d.version AS version, s.count AS count,
       s.first_seen AS first_seen, s.last_seen AS last_seen
ORDER BY first_seen, deployment`;

const DEPLOYMENTS = `MATCH (e:ErrorSignature {uid: $uid})-[:SEEN_IN]->(s:Service)<-[:OF]-(d:Deployment)
RETURN d.uid AS uid, d.service AS service, d.version AS version, d.status AS status,
       d.started_at AS started_at, d.sha AS sha
ORDER BY started_at, uid`;

export const errorsPage = {
  id: "errors",
  title: "Error history",
  mount(root, ctx) {
    const input = h("input", { id: "errors-fp", type: "text", placeholder: "fingerprint, e.g. efa8de35da8f27e3", pattern: "(err:)?[0-9a-fA-F]{8,64}", required: true });
    const formStatus = h("p", { class: "status", role: "status" });
    const form = h(
      "form",
      { "aria-label": "Error fingerprint" },
      h("label", { for: "errors-fp" }, "Error fingerprint"),
      input,
      h("div", { class: "toolbar" }, h("button", { type: "submit", class: "primary", id: "errors-show" }, "Show history"), formStatus),
    );
    const listBox = h("div", { "data-testid": "signatures" });
    const historyBox = h("div", { "data-testid": "error-history" });
    root.append(h("h1", {}, "Error history"), section("Look up", form), historyBox, section("Known error signatures", listBox));

    const show = async (fingerprint) => {
      const fp = fingerprint.trim().toLowerCase();
      input.value = fp;
      status(formStatus, "busy", "loading…");
      try {
        const seen = await api.errorHistory(fp);
        const uid = seen.signature ? seen.signature.uid : `err:${fp.replace(/^err:/, "")}`;
        const [occ, deps] = await Promise.all([api.cypher(OCCURRENCES, { uid }), api.cypher(DEPLOYMENTS, { uid })]);
        const occurrences = records(occ);
        const deployments = records(deps);
        const sig = seen.signature;
        const lanes = [
          { label: "seen", items: sig && sig.first_seen ? [{ at: sig.first_seen, until: sig.last_seen, colour: "#d62728", kind: "seen", text: `${dash(sig.count)} occurrences from ${when(sig.first_seen)} to ${whenOr(sig.last_seen)}` }] : [] },
          { label: "occurrences", items: occurrences.map((o) => ({ at: o.first_seen, until: o.last_seen, colour: "#ef6c00", kind: "occurrence", text: `${o.count} in ${o.deployment} (${o.version || ""}), ${when(o.first_seen)} to ${when(o.last_seen)}` })) },
          { label: "deployments", items: deployments.map((d) => ({ at: d.started_at, colour: d.status === "failure" ? "#c62828" : "#2e7d32", kind: "deployment", text: `${d.service} ${d.version || ""} ${d.status || ""} at ${when(d.started_at)}` })) },
          { label: "tickets", items: seen.tickets.map((t) => ({ at: t.created_at, colour: "#ff9da7", kind: "ticket", text: `ticket ${t.key}: ${t.title}` })) },
          { label: "fixes", items: seen.fixes.map((f) => ({ at: f.authored_at, colour: "#59a14f", kind: "fix", text: `fix ${f.sha.slice(0, 10)}: ${f.summary}` })) },
        ];
        clear(
          historyBox,
          section(
            sig ? `${sig.type}: ${sig.message_template}` : `unknown fingerprint ${fp}`,
            h(
              "p",
              { "data-testid": "error-summary" },
              sig
                ? `${dash(sig.count)} occurrences, first ${whenOr(sig.first_seen)}, last ${whenOr(sig.last_seen)}; services ${dash(seen.services.join(", "))}. `
                : seen.known
                  ? ""
                  : "Never seen before. ",
              seen.summary ? h("span", { "data-testid": "seen-summary" }, seen.summary) : null,
              seen.regression ? h("strong", { class: "error" }, ` Regression: ${seen.regression_detail}`) : null,
            ),
            timeline(lanes, { testid: "error-timeline" }),
            table(["deployment", "service", { key: "version", render: dash }, { key: "count", render: dash }, { key: "first_seen", title: "first", render: whenOr }, { key: "last_seen", title: "last", render: whenOr }], occurrences, { caption: `occurrences by deployment (${occurrences.length})` }),
            table([{ key: "key", title: "ticket" }, { key: "title", render: dash }, { key: "status", render: dash }, { key: "created_at", title: "created", render: whenOr }], seen.tickets, { caption: `tickets (${seen.tickets.length})` }),
            table(
              [
                { key: "sha", render: (v) => h("code", {}, v.slice(0, 10)) },
                { key: "summary", render: dash },
                "ticket",
                { key: "authored_at", title: "authored", render: whenOr },
                { key: "days_to_fix", title: "days to fix", render: dash },
                { key: "deployment", title: "shipped by", render: dash },
                { key: "days_to_deploy", title: "days to ship", render: dash },
                { key: "files", render: (v) => dash((v || []).join(", ")) },
              ],
              seen.fixes,
              { caption: `fixes (${seen.fixes.length})` },
            ),
            seen.cypher ? h("details", {}, h("summary", {}, "Cypher"), h("pre", { class: "cypher" }, seen.cypher)) : null,
          ),
        );
        status(formStatus, "ok", seen.known ? `${occurrences.length} deployments with occurrences, ${seen.tickets.length} tickets, ${seen.fixes.length} fixes` : "unknown fingerprint");
      } catch (e) {
        status(formStatus, "error", errorText(e));
      }
    };
    form.addEventListener("submit", (ev) => {
      ev.preventDefault();
      const fp = input.value.trim();
      if (window.location.hash === `#/errors/${encodeURIComponent(fp)}`) show(fp);
      else ctx.go("errors", fp);
    });

    api
      .cypher(SIGNATURES)
      .then((answer) =>
        clear(
          listBox,
          table(
            [
              { key: "fingerprint", render: (v) => (v ? h("a", { href: `#/errors/${v}` }, v) : DASH) },
              { key: "type", render: dash },
              { key: "message", render: dash },
              { key: "frames", title: "in-app frames", render: culprit },
              { key: "occurrences", render: dash },
              { key: "first_seen", title: "first seen", render: whenOr },
              { key: "last_seen", title: "last seen", render: whenOr },
              { key: "services", render: (v) => dash((v || []).join(", ")) },
            ],
            records(answer),
            { caption: "one row per signature: type and in-app frames" },
          ),
        ),
      )
      .catch((e) => clear(listBox, h("p", { class: "status error" }, errorText(e))));
    this.show = show;
  },
  open(arg) {
    if (arg && this.show) this.show(arg);
  },
};
