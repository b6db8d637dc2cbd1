// The verifier key page (api/console/templates/verifier.html): pin the log's verifier key and the witnesses' keys in
// this browser's localStorage, where the project page's badge (project.js) reads them. A key is checked as verify.js
// reads it before it is kept; the service's published key is shown beside it, never pinned without the reader.

import { parseVerifierKey, parseWitnessKey } from "./verify.js";

const STORAGE = { key: "jixiao.verifierKey", witnesses: "jixiao.witnesses", min: "jixiao.minWitnesses" };
const words = document.getElementById("verifier-words").dataset;
const published = document.getElementById("published-key").textContent.trim();
const keyInput = document.getElementById("pin-key");
const witnessInput = document.getElementById("pin-witnesses");
const minInput = document.getElementById("pin-min");
const message = document.getElementById("pin-message");

function show() {
  const key = localStorage.getItem(STORAGE.key);
  document.getElementById("pinned-now").textContent = key || words.none;
  const compare = document.getElementById("pinned-compare");
  compare.textContent = key ? (key === published ? words.same : words.differs) : "";
  compare.className = key ? (key === published ? "ok" : "light yellow") : "";
  keyInput.value = key || "";
  witnessInput.value = localStorage.getItem(STORAGE.witnesses) || "";
  minInput.value = localStorage.getItem(STORAGE.min) || String(witnessInput.value.split("\n").filter(Boolean).length);
}

document.getElementById("pin-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const key = keyInput.value.trim();
  const witnesses = witnessInput.value.split("\n").map((line) => line.trim()).filter(Boolean);
  try {
    if (key) parseVerifierKey(key);
    witnesses.forEach(parseWitnessKey);
    const min = Number(minInput.value || 0);
    if (!Number.isInteger(min) || min < 0 || min > witnesses.length) throw new Error(`0 … ${witnesses.length}`);
    if (key) localStorage.setItem(STORAGE.key, key);
    else localStorage.removeItem(STORAGE.key);
    localStorage.setItem(STORAGE.witnesses, witnesses.join("\n"));
    localStorage.setItem(STORAGE.min, String(min));
  } catch (error) {
    message.textContent = error.message;
    message.className = "alert";
    keyInput.setAttribute("aria-invalid", "true");
    return;
  }
  keyInput.removeAttribute("aria-invalid");
  message.textContent = words.saved;
  message.className = "ok";
  show();
});
document.getElementById("pin-forget").addEventListener("click", () => {
  for (const name of Object.values(STORAGE)) localStorage.removeItem(name);
  message.textContent = words.saved;
  show();
});
document.getElementById("pin-published").addEventListener("click", () => {
  keyInput.value = published;
  keyInput.focus();
});
show();
