// Calls into api/console/static/verify.js for the Python tests, the same in Node and in Chromium (tests/browsers.py).
// Arguments and results cross as JSON: bytes as {"$hex": "…"}, BigInts as {"$int": "…"}, and a key to parse as
// {"$key": "<verifier key>"} or {"$witness": "<witness key>"}. Each result carries the milliseconds its call took,
// measured here, inside the page or the Node process: from having the arguments to having the answer.

function decode(verifier, value) {
  if (Array.isArray(value)) return value.map((item) => decode(verifier, item));
  if (value === null || typeof value !== "object") return value;
  if ("$hex" in value) return Uint8Array.from(value.$hex.match(/../g) ?? [], (pair) => parseInt(pair, 16));
  if ("$int" in value) return BigInt(value.$int);
  if ("$key" in value) return verifier.parseVerifierKey(value.$key);
  if ("$witness" in value) return verifier.parseWitnessKey(value.$witness);
  return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, decode(verifier, item)]));
}

function encode(value) {
  if (value instanceof Uint8Array) return { $hex: [...value].map((b) => b.toString(16).padStart(2, "0")).join("") };
  if (typeof value === "bigint") return { $int: value.toString() };
  if (Array.isArray(value)) return value.map(encode);
  if (value === null || typeof value !== "object") return value;
  return Object.fromEntries(Object.entries(value).filter(([, item]) => typeof item !== "function")
    .map(([key, item]) => [key, encode(item)]));
}

export async function runCalls(verifier, calls) {
  const results = [];
  for (const { fn, args } of calls) {
    const decoded = decode(verifier, args);
    const started = performance.now();
    try {
      const value = await verifier[fn](...decoded);
      results.push({ value: encode(value), ms: performance.now() - started });
    } catch (error) {
      results.push({ error: `${error.constructor.name}: ${error.message}`, ms: performance.now() - started });
    }
  }
  return results;
}
