// The project page's two behaviours (api/console/templates/project.html): the verification badge, which checks the
// project's audit bundle here in the browser with verify.js against the key the reader pinned (/console/verifier),
// and the slider over versions and dates, which swaps in the state sections as they were (/console/projects/{id}/at,
// read through the API's /projects/{id}/state?version= and as_of=). Without JavaScript the slider's forms still
// work (they reload the page at that version); the badge needs it.

import { decodeBase64Canonical, verifyBundle } from "./verify.js";

const root = document.getElementById("project");
const words = document.getElementById("project-words").dataset;
const badge = document.getElementById("badge");
const detail = document.getElementById("badge-detail");
const rows = [...document.querySelectorAll("#timeline tbody tr[data-version]")];

export const STORAGE = { key: "jixiao.verifierKey", witnesses: "jixiao.witnesses", min: "jixiao.minWitnesses" };

function format(template, values) {
  return template.replace(/\{(\w+)\}/g, (whole, name) => (name in values ? String(values[name]) : whole));
}

function setBadge(state, text, more = "") {
  badge.dataset.state = state;
  badge.className = `badge ${state}`;
  badge.querySelector(".badge-mark").textContent = { ok: "✓", failed: "✗", unpinned: "!", error: "!" }[state] ?? "…";
  badge.querySelector(".badge-text").textContent = text;
  detail.textContent = more;
}

function mark(row, state, title = "") {
  const cell = row.querySelector("[data-check]");
  cell.dataset.state = state;
  cell.textContent = { ok: "✓", failed: "✗", uncovered: "—", unchecked: "?" }[state];
  cell.title = title;
  cell.setAttribute("aria-label", title || state);
  row.classList.toggle("bad", state === "failed");
}

function pinned() {
  const logKey = localStorage.getItem(STORAGE.key) || null;
  const witnesses = (localStorage.getItem(STORAGE.witnesses) || "").split("\n").map((line) => line.trim())
    .filter(Boolean);
  const min = localStorage.getItem(STORAGE.min);
  const minWitnesses = min === null || min === "" ? null : Number(min);
  return { logKey, witnesses, minWitnesses };
}

const stateDecoder = new TextDecoder("utf-8", { fatal: true });

/** What the row shows that the signed event's own bytes must say: who, when it took effect, why, on what evidence. */
function shownDisagrees(row, event) {
  if (row.dataset.leafHash !== event.leaf_hash) return words.hashDiffers;
  let state;
  try {
    state = JSON.parse(stateDecoder.decode(decodeBase64Canonical(event.state)));
  } catch {
    return words.hashDiffers;
  }
  const data = (field) => (state[field] && typeof state[field] === "object" ? state[field]._data_ : state[field]);
  const principal = data("principal") || {};
  const evidence = (state.evidence || []).map((item) => (typeof item === "object" && item ? item._data_ : item));
  if ((principal.id ?? "") !== row.dataset.who) return words.whoDiffers;
  if ((data("effective_on") ?? "") !== row.dataset.effective) return words.effectiveDiffers;
  if ((state.reason ?? "") !== row.dataset.reason) return words.reasonDiffers;
  if (evidence.join(" ") !== row.dataset.evidence) return words.evidenceDiffers;
  return null;
}

function named(row) {
  return format(words.eventName, { v: row.dataset.version, label: row.dataset.label });
}

let checking = null;

/** Fetch the bundle, verify it, and hold every row of the timeline to the verified events. */
export async function check() {
  const started = performance.now();
  setBadge("pending", words.pending);
  const options = pinned();
  let bytes;
  try {
    const response = await fetch(root.dataset.bundle, { credentials: "same-origin", cache: "no-store" });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    bytes = new Uint8Array(await response.arrayBuffer());
    badge.dataset.fetchMs = (performance.now() - started).toFixed(0);
  } catch (error) {
    setBadge("error", format(words.fetchFailed, { reason: error.message }));
    return;
  }
  let report;
  const verifying = performance.now();
  try {
    report = await verifyBundle(bytes, options);
    badge.dataset.verifyMs = (performance.now() - verifying).toFixed(0);
  } catch (error) { // only the reader's own pins can make it throw
    setBadge("error", format(words.pinsWrong, { reason: error.message }));
    return;
  }
  let events = [];
  try {
    events = JSON.parse(stateDecoder.decode(bytes)).events || [];
  } catch { /* the report says what is wrong with it */ }
  const verified = report.ok ? report.events : report.firstBadEvent ? report.firstBadEvent.index : 0;
  let firstBad = null;
  let uncovered = 0;
  for (const row of rows) {
    const index = Number(row.dataset.version) - 1;
    if (index < verified) { // in the signed log: what the row shows must be what the event's bytes say
      const why = shownDisagrees(row, events[index]);
      mark(row, why === null ? "ok" : "failed", why ?? words.rowOk);
      if (why !== null && firstBad === null) firstBad = [row, why];
    } else if (report.ok) { // recorded after the bundle's checkpoint: the next one will cover it
      uncovered += 1;
      mark(row, "uncovered", words.uncovered);
    } else if (report.firstBadEvent?.index === index) {
      mark(row, "failed", report.failures[0]);
      if (firstBad === null) firstBad = [row, report.failures[0]];
    } else {
      mark(row, "unchecked", words.unchecked);
    }
  }
  const ms = performance.now() - started;
  badge.dataset.ms = ms.toFixed(0);
  const facts = format(words.facts, {
    n: report.events, size: report.checkpointSize ?? "—", key: report.keyInForce || report.keyName,
    rotations: report.rotations, witnesses: report.witnesses.join(", ") || "—", ms: ms.toFixed(0),
  });
  if (firstBad !== null) {
    const [row, why] = firstBad;
    badge.dataset.event = row.dataset.version;
    const also = report.failures.filter((failure) => failure !== why);
    setBadge("failed", format(words.failedEvent, { event: named(row) }), [why, ...also].join(" · "));
  } else if (!report.ok) {
    setBadge("failed", format(words.failed, { reason: report.failures[0] ?? "" }), report.failures.join("; "));
  } else if (options.logKey === null) {
    setBadge("unpinned", words.unpinned, facts);
  } else {
    const more = uncovered ? ` ${format(words.uncoveredCount, { n: uncovered })}` : "";
    setBadge("ok", format(words.ok, { n: report.events }), facts + more);
  }
}

function recheck() {
  if (checking === null) checking = check().finally(() => { checking = null; });
  return checking;
}

// ------------------------------------------------------------------------------------------------ the slider

const slider = document.getElementById("version");
const output = document.getElementById("version-label");
const stateBox = document.getElementById("state");

function describe(version) {
  const row = rows[version - 1];
  if (!row) return `${words.version} ${version}`;
  return format(words.sliderText, {
    v: version, n: rows.length, label: row.dataset.label, effective: row.dataset.effective,
    recorded: row.dataset.recorded,
  });
}

function showRows(version) {
  for (const row of rows) {
    const v = Number(row.dataset.version);
    row.classList.toggle("later", v > version);
    row.classList.toggle("current", v === version);
    if (v === version) row.setAttribute("aria-current", "step");
    else row.removeAttribute("aria-current");
  }
}

let loading = 0;

async function load(params) {
  const ticket = ++loading;
  const query = new URLSearchParams(params);
  const response = await fetch(`${root.dataset.fragment}?${query}`, { credentials: "same-origin" });
  if (ticket !== loading) return; // a later move of the slider won
  if (!response.ok) {
    window.location.href = `${root.dataset.page}?${query}`; // the console's own page says what is wrong
    return;
  }
  stateBox.innerHTML = await response.text(); // the server's own escaped HTML, from this origin
  const shown = Number(document.getElementById("state-version").dataset.version);
  slider.value = String(shown);
  slider.setAttribute("aria-valuetext", describe(shown));
  output.textContent = describe(shown);
  showRows(shown);
  const url = new URL(window.location.href);
  for (const name of ["version", "on", "as_of"]) url.searchParams.delete(name);
  for (const [name, value] of query) url.searchParams.set(name, value);
  if (shown === Number(root.dataset.latest) && params.version !== undefined) url.searchParams.delete("version");
  window.history.replaceState(null, "", url);
  stateBox.dataset.loaded = String(shown);
}

let timer = null;
slider.addEventListener("input", () => {
  const version = Number(slider.value);
  output.textContent = describe(version);
  slider.setAttribute("aria-valuetext", describe(version));
  showRows(version);
  clearTimeout(timer);
  timer = setTimeout(() => load({ version: String(version) }), 150);
});
document.getElementById("slider-form").addEventListener("submit", (event) => {
  event.preventDefault();
  load({ version: slider.value });
});
document.getElementById("on-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const on = document.getElementById("on").value;
  if (on) load({ on });
});
document.getElementById("as-of-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const asOf = document.getElementById("as_of").value;
  if (asOf) load({ as_of: asOf });
});
document.getElementById("verify-again").addEventListener("click", () => recheck());

output.textContent = describe(Number(slider.value));
slider.setAttribute("aria-valuetext", describe(Number(slider.value)));
recheck();
