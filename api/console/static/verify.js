// The in-browser verifier of audit bundles (jixiao-audit-bundle/1): the same checks, in the same order and with the
// same verdicts, as the offline verifier `ledger.audit.verify_bundle`, so a page can tell whether every event it
// shows is in the log the bureau signed without trusting the server that sent it.
//
// Everything is computed here, from the bundle's bytes, the verifier key the user pinned and the witnesses the user
// pinned: the leaf hash of each event (ledger/integrity.py), its RFC 9162 inclusion proof (ledger/merkle.py), the
// checkpoint's C2SP signed note and Ed25519 signature (ledger/checkpoint.py), the witnesses' cosignature/v1 lines
// (ledger/witness.py), and the log's key rotations (ledger/log/rotation.py): after a rotation the checkpoint is
// signed by the key in force at its size, followed from the pinned key through rotation statements signed by the
// old key and the new, each proved in the signed tree. A server's own verdict is never read.
//
// SHA-256, SHA-512 and the Ed25519 group come from the vendored, pure-JavaScript @noble libraries (vendor/README.md):
// WebCrypto exists only in secure contexts (https, localhost), and an intranet page over plain http has none. The
// Ed25519 verification equation itself is written out below, to give exactly OpenSSL's verdict (the Python verifier
// uses OpenSSL through `cryptography`); see `verifyEd25519`.
//
// An ES module without a build step; it runs as it is in browsers and in Node (the tests run it in both).

import { sha256 as sha256Pure, sha512 } from "./vendor/noble-hashes/sha2.js";
import { Point } from "./vendor/noble-ed25519/index.js";

export const BUNDLE_FORMAT = "jixiao-audit-bundle/1";

// ------------------------------------------------------------------------------------------------------ errors

/** A note, checkpoint or key is malformed, or a signature does not verify (ledger.checkpoint.CheckpointError). */
export class CheckpointError extends Error {}

/** A witness key or cosignature is malformed or does not verify (ledger.witness.WitnessError). */
export class WitnessError extends Error {}

/** The bundle's JSON is not shaped as the format says (Python's KeyError, TypeError, ValueError). */
export class MalformedError extends Error {}

// ------------------------------------------------------------------------------------------------------- bytes

const encoder = new TextEncoder();
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** UTF-8 of a string; like Python's str.encode it refuses a lone surrogate (TextEncoder would write U+FFFD). */
export function utf8(text) {
  if (typeof text !== "string") throw new MalformedError(`expected a string, not ${describe(text)}`);
  if (LONE_SURROGATE.test(text)) throw new MalformedError("a string holds a lone surrogate: it has no UTF-8");
  return encoder.encode(text);
}

export function concatBytes(...parts) {
  const out = new Uint8Array(parts.reduce((total, part) => total + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

export function bytesEqual(a, b) {
  if (a.length !== b.length) return false;
  let difference = 0;
  for (let i = 0; i < a.length; i++) difference |= a[i] ^ b[i];
  return difference === 0;
}

export function toHex(bytes) {
  let out = "";
  for (const byte of bytes) out += byte.toString(16).padStart(2, "0");
  return out;
}

// The value of each character code as a digit, or -1: tables, because a bundle holds thousands of digests and
// megabytes of base64, and per-character string functions would cost more than all the hashing.
function digitTable(digits) {
  const table = new Int8Array(128).fill(-1);
  for (const [value, char] of [...digits].entries()) table[char.charCodeAt(0)] = value;
  return table;
}

const HEX_LOWER = digitTable("0123456789abcdef");
const HEX_ANY = digitTable("0123456789abcdef");
HEX_ANY.set([10, 11, 12, 13, 14, 15], "A".charCodeAt(0));

/** Bytes of a hex string (either case), or null if it is not one. */
function fromHex(hex, table = HEX_ANY) {
  if (hex.length % 2) return null;
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) {
    const high = hex.charCodeAt(2 * i);
    const low = hex.charCodeAt(2 * i + 1);
    const value = high < 128 && low < 128 ? (table[high] << 4) | table[low] : -1;
    if (value < 0) return null;
    out[i] = value;
  }
  return out;
}

const B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const B64_VALUE = digitTable(B64);

export function encodeBase64(bytes) {
  let out = "";
  for (let i = 0; i < bytes.length; i += 3) {
    const n = (bytes[i] << 16) | ((bytes[i + 1] ?? 0) << 8) | (bytes[i + 2] ?? 0);
    out += B64[(n >> 18) & 63] + B64[(n >> 12) & 63];
    out += i + 1 < bytes.length ? B64[(n >> 6) & 63] : "=";
    out += i + 2 < bytes.length ? B64[n & 63] : "=";
  }
  return out;
}

/** Standard, padded base64 with exactly one accepted spelling per value, or null: what Python's
 * `b64decode(text, validate=True)` followed by the re-encoding check accepts (checkpoint._b64decode,
 * audit._canonical_base64, witness._b64decode). */
export function decodeBase64Canonical(text) {
  if (typeof text !== "string" || text.length % 4) return null;
  const padding = text.endsWith("==") ? 2 : text.endsWith("=") ? 1 : 0;
  const length = text.length - padding;
  const out = new Uint8Array((text.length / 4) * 3 - padding);
  let bits = 0;
  let value = 0;
  let at = 0;
  for (let i = 0; i < length; i++) {
    const code = text.charCodeAt(i);
    const digit = code < 128 ? B64_VALUE[code] : -1;
    if (digit < 0) return null; // outside the alphabet, or "=" before the end
    value = ((value << 6) | digit) & 0xfff;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[at++] = (value >> bits) & 0xff;
    }
  }
  if (value & ((1 << bits) - 1)) return null; // bits left over must be zero, or another spelling means the same
  return out;
}

// ------------------------------------------------------------------------------------------- SHA-256, SHA-512

/** SHA-256, synchronous and pure JavaScript, in every context. WebCrypto is not used even where it exists (a secure
 * context): it would hash the events' inputs faster, but that is a few percent of a bundle's check (see
 * bench/bench_verify_browser.py), and a second, asynchronous path would be one more thing to hold to Python's. */
export function sha256(bytes) {
  return sha256Pure(bytes);
}

// --------------------------------------------------------------------- the leaf hash (ledger/integrity.py)

const LEAF_HASH_PREFIX = Uint8Array.of(0x00, 0x4a, 0x58, 0x4c, 0x31); // 0x00 ‖ "JXL1"

/** SHA-256(0x00 ‖ "JXL1" ‖ uuid(16) ‖ int64be(version) ‖ uint32be(len topic) ‖ topic ‖ uint32be(len state) ‖ state).
 * `objectId`: 16 bytes; `version`: a BigInt or an integer Number; `topic`: a string; `state`: the stored bytes. */
export function leafHash(objectId, version, topic, state) {
  const topicBytes = utf8(topic);
  const v = BigInt(version);
  if (objectId.length !== 16) throw new MalformedError("an originator id is 16 bytes");
  if (v < -(2n ** 63n) || v >= 2n ** 63n) throw new MalformedError("a version is a signed 64-bit integer");
  if (topicBytes.length > 0xffffffff || state.length > 0xffffffff) throw new MalformedError("too long to hash");
  const header = new Uint8Array(8 + 4);
  const view = new DataView(header.buffer);
  view.setBigInt64(0, v);
  view.setUint32(8, topicBytes.length);
  const stateLength = new Uint8Array(4);
  new DataView(stateLength.buffer).setUint32(0, state.length);
  return sha256Pure.create().update(LEAF_HASH_PREFIX).update(objectId).update(header).update(topicBytes)
    .update(stateLength).update(state).digest(); // in parts: the state is not copied
}

// ---------------------------------------------------------------------- the Merkle tree (ledger/merkle.py)

const NODE_INPUT = new Uint8Array(65); // reused: a proof hashes one node after another, never two at once

/** RFC 9162 interior node: SHA-256(0x01 ‖ left ‖ right). */
export function hashChildren(left, right) {
  if (left.length !== 32 || right.length !== 32) return sha256(concatBytes(Uint8Array.of(0x01), left, right));
  NODE_INPUT[0] = 0x01;
  NODE_INPUT.set(left, 1);
  NODE_INPUT.set(right, 33);
  return sha256(NODE_INPUT);
}

function isHash(value) {
  return value instanceof Uint8Array && value.length === 32;
}

function isCount(value) {
  return typeof value === "bigint" ? value >= 0n : Number.isSafeInteger(value) && value >= 0;
}

/** RFC 9162 §2.1.3.2: does `proof` show `leaf` at `index` in the tree of `size` with `root`? Sizes and indexes may be
 * Numbers or BigInts (a tree size goes up to 2^64 - 1). Returns false, never throws, on malformed input. */
export function verifyInclusion(leaf, index, size, proof, root) {
  if (!Array.isArray(proof) || !proof.every(isHash) || !isCount(index) || !isCount(size) || !isHash(leaf)
      || !isHash(root)) {
    return false;
  }
  let fn = BigInt(index);
  let sn = BigInt(size) - 1n;
  if (fn > sn) return false;
  let r = leaf;
  for (const p of proof) {
    if (sn === 0n) return false;
    if ((fn & 1n) === 1n || fn === sn) {
      r = hashChildren(p, r);
      while (fn !== 0n && (fn & 1n) === 0n) {
        fn >>= 1n;
        sn >>= 1n;
      }
    } else {
      r = hashChildren(r, p);
    }
    fn >>= 1n;
    sn >>= 1n;
  }
  return sn === 0n && bytesEqual(r, root);
}

// ------------------------------------------------------------------------------------------------- Ed25519

const L = 2n ** 252n + 27742317777372353535851937790883648493n; // the prime order of the base point

function littleEndian(bytes) {
  let n = 0n;
  for (let i = bytes.length - 1; i >= 0; i--) n = (n << 8n) | BigInt(bytes[i]);
  return n;
}

/** Ed25519 verification with the verdicts of OpenSSL's `ossl_ed25519_verify` (what `cryptography` calls for the
 * Python verifier), so the two verifiers agree on a signature however crafted (tests/api/console/test_verify_js.py holds this
 * to OpenSSL on the cases where Ed25519 implementations differ):
 *
 * - S must be canonical, S < L (RFC 8032 §5.1.7; a malleated S + L is refused);
 * - A is decoded as OpenSSL decodes it: the 255 bits of y are taken modulo p and x = 0 with the sign bit set is
 *   accepted (lenient, but the key is the one the user pinned, and the Python verifier is as lenient);
 * - the challenge k = SHA-512(R ‖ A ‖ M) is over the bytes as given;
 * - the cofactorless equation: the canonical encoding of [S]B - [k]A must equal the 32 bytes of R. R is never
 *   decoded, so a non-canonical R can never match.
 *
 * @noble/ed25519's own `verify` uses the cofactored equation [8][S]B = [8]R + [8][k]A, which accepts signatures
 * (with a mixed-order key or R) that OpenSSL refuses; only its point arithmetic is used here. */
export function verifyEd25519(publicKey, message, signature) {
  if (!(publicKey instanceof Uint8Array) || publicKey.length !== 32) return false;
  if (!(signature instanceof Uint8Array) || signature.length !== 64) return false;
  const r = signature.subarray(0, 32);
  const s = littleEndian(signature.subarray(32));
  if (s >= L) return false;
  let a;
  try {
    a = Point.fromBytes(publicKey, true); // true: OpenSSL's decoding (y below 2^255, reduced; x = 0 with sign 1)
  } catch {
    return false; // y has no x on the curve
  }
  const k = littleEndian(sha512(concatBytes(r, publicKey, message))) % L;
  const check = Point.BASE.multiply(s, false).subtract(a.multiply(k, false)); // false: variable time is fine here
  return bytesEqual(check.toBytes(), r);
}

// --------------------------------------------------------------- keys and signed notes (ledger/checkpoint.py)

const ALG_ED25519 = 0x01;
const ALG_COSIGNATURE_V1 = 0x04;
const SIGNATURE_PREFIX = "\u2014 "; // EM DASH, SPACE
const MAX_SIGNATURES = 100;
const MAX_TREE_SIZE = 2n ** 64n - 1n;
const MAX_TIMESTAMP = 2n ** 63n - 1n;
const TIME_EXTENSION = "time ";
const HEX_KEY_ID = /^[0-9a-fA-F]{8}$/;
const TREE_SIZE = /^(?:0|[1-9][0-9]*)$/;
// Python's str.isspace(), character for character (the key names' rule is Python's).
const PY_SPACE = /[\t\n\v\f\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]/;

/** Split as Python's `text.split(sep, maxsplit)` does: at most `maxsplit` cuts, the rest left whole. */
function splitMax(text, sep, maxsplit) {
  const parts = [];
  let rest = text;
  while (parts.length < maxsplit) {
    const at = rest.indexOf(sep);
    if (at < 0) break;
    parts.push(rest.slice(0, at));
    rest = rest.slice(at + sep.length);
  }
  parts.push(rest);
  return parts;
}

/** Python's `text.partition(sep)`. */
function partition(text, sep) {
  const at = text.indexOf(sep);
  return at < 0 ? [text, "", ""] : [text.slice(0, at), sep, text.slice(at + sep.length)];
}

/** The first character a note may not hold (a control other than newline, a lone surrogate), or null. */
function badChar(text) {
  for (const char of text) {
    const code = char.codePointAt(0);
    if ((code < 0x20 && char !== "\n") || (code >= 0xd800 && code <= 0xdfff)) return char;
  }
  return null;
}

function checkName(name, ErrorClass) {
  if (typeof name !== "string" || !name || name.includes("+") || PY_SPACE.test(name) || badChar(name) !== null) {
    throw new ErrorClass(`a key name must be non-empty, without whitespace, '+' or control characters: ${quote(name)}`);
  }
}

function checkLine(line, what) {
  if (typeof line !== "string" || !line) throw new CheckpointError(`${what} must be a non-empty string`);
  if (line.includes("\n")) throw new CheckpointError(`${what} must not contain a newline`);
  if (badChar(line) !== null) throw new CheckpointError(`${what} must not contain a control character`);
}

function b64(text, what, ErrorClass) {
  const raw = decodeBase64Canonical(text);
  if (raw === null) throw new ErrorClass(`${what} is not canonical base64: ${quote(text)}`);
  return raw;
}

function keyId(name, algorithm, publicKey) {
  return sha256(concatBytes(utf8(name), Uint8Array.of(0x0a, algorithm), publicKey)).subarray(0, 4);
}

/** The 4-byte key ID of an Ed25519 note key: SHA-256(name ‖ 0x0A ‖ 0x01 ‖ public key)[:4]. */
export function ed25519KeyId(name, publicKey) {
  return keyId(name, ALG_ED25519, publicKey);
}

/** The key ID of a cosignature/v1 key: SHA-256(name ‖ 0x0A ‖ 0x04 ‖ public key)[:4]. */
export function cosignerKeyId(name, publicKey) {
  return keyId(name, ALG_COSIGNATURE_V1, publicKey);
}

/** The log's public key, `<name>+<hex key ID>+<base64(0x01 ‖ public key)>` (VerifierKey.from_string). */
export function parseVerifierKey(text) {
  if (typeof text !== "string") throw new CheckpointError("a verifier key is a string");
  const parts = splitMax(text, "+", 2);
  if (parts.length !== 3) throw new CheckpointError("a verifier key must read <name>+<hex key ID>+<base64 key>");
  const [name, hexId, key64] = parts;
  checkName(name, CheckpointError);
  if (!HEX_KEY_ID.test(hexId)) throw new CheckpointError(`key ID ${quote(hexId)} must be 8 hexadecimal digits`);
  const key = b64(key64, "verifier key", CheckpointError);
  if (!key.length || key[0] !== ALG_ED25519) {
    throw new CheckpointError("verifier key is not an Ed25519 key (algorithm byte 0x01)");
  }
  if (key.length !== 33) throw new CheckpointError(`Ed25519 public key is ${key.length - 1} bytes, not 32`);
  const publicKey = key.slice(1);
  const id = fromHex(hexId, HEX_ANY);
  const expected = ed25519KeyId(name, publicKey);
  if (!bytesEqual(id, expected)) {
    throw new CheckpointError(`key ID ${toHex(id)} does not match key ${quote(name)}, whose ID is ${toHex(expected)}`);
  }
  return noteKey(name, id, publicKey, ALG_ED25519);
}

/** A witness's public key, `<name>+<hex key ID>+<base64(0x04 ‖ public key)>` (WitnessKey.from_string). */
export function parseWitnessKey(text) {
  if (typeof text !== "string") throw new WitnessError("a witness key is a string");
  const parts = splitMax(pyStrip(text), "+", 2);
  if (parts.length !== 3) throw new WitnessError("a witness key reads <name>+<hex key ID>+<base64 key>");
  const [name, hexId, key64] = parts;
  checkName(name, WitnessError);
  if (!HEX_KEY_ID.test(hexId)) throw new WitnessError(`key ID ${quote(hexId)} must be 8 hexadecimal digits`);
  const raw = b64(key64, "witness key", WitnessError);
  if (raw.length !== 33 || raw[0] !== ALG_COSIGNATURE_V1) {
    throw new WitnessError("not a cosignature/v1 key (signature type 0x04 and 32 bytes of Ed25519 key)");
  }
  const publicKey = raw.slice(1);
  const id = fromHex(hexId, HEX_ANY);
  if (!bytesEqual(id, cosignerKeyId(name, publicKey))) {
    throw new WitnessError(`key ID ${toHex(id)} does not match witness key ${quote(name)}`);
  }
  return noteKey(name, id, publicKey, ALG_COSIGNATURE_V1);
}

function noteKey(name, id, publicKey, algorithm) {
  const text = `${name}+${toHex(id)}+${encodeBase64(concatBytes(Uint8Array.of(algorithm), publicKey))}`;
  return Object.freeze({ name, keyId: id, publicKey, toString: () => text });
}

function pyStrip(text) {
  let start = 0;
  let end = text.length;
  while (start < end && PY_SPACE.test(text[start])) start++;
  while (end > start && PY_SPACE.test(text[end - 1])) end--;
  return text.slice(start, end);
}

/** Verify a signed note against `key` and return its text (checkpoint.open_note): signatures by other keys are
 * ignored; every signature by `key` must verify and at least one must be present. */
export function openNote(note, key) {
  if (typeof note !== "string") throw new CheckpointError("malformed note: not a string");
  if (badChar(note) !== null) throw new CheckpointError("malformed note: it holds a control character");
  const split = note.lastIndexOf("\n\n");
  if (split < 0) throw new CheckpointError("malformed note: no blank line between the text and the signatures");
  const text = note.slice(0, split + 1);
  const block = note.slice(split + 2);
  if (!block || !block.endsWith("\n")) {
    throw new CheckpointError("malformed note: the signature lines must end with a newline");
  }
  const lines = block.slice(0, -1).split("\n");
  if (lines.length > MAX_SIGNATURES) {
    throw new CheckpointError(`malformed note: more than ${MAX_SIGNATURES} signature lines`);
  }
  const message = utf8(text);
  let verified = 0;
  let sameName = false;
  for (const [i, line] of lines.entries()) {
    const number = i + 1;
    if (!line.startsWith(SIGNATURE_PREFIX)) {
      throw new CheckpointError(`malformed note: signature line ${number} does not start with an em dash and space`);
    }
    const [name, , sig64] = partition(line.slice(SIGNATURE_PREFIX.length), " ");
    try {
      checkName(name, CheckpointError);
    } catch (error) {
      throw new CheckpointError(`malformed note: signature line ${number}: ${error.message}`);
    }
    const raw = b64(sig64, `signature on line ${number}`, CheckpointError);
    if (raw.length < 5) throw new CheckpointError(`malformed note: signature on line ${number} is too short`);
    if (name !== key.name) continue;
    sameName = true;
    if (!bytesEqual(raw.subarray(0, 4), key.keyId)) continue;
    if (!verifyEd25519(key.publicKey, message, raw.subarray(4))) {
      throw new CheckpointError(`invalid signature for key ${key.name}+${toHex(key.keyId)}`);
    }
    verified += 1;
  }
  if (!verified) {
    const hint = sameName ? " (a signature by another key with that name is present)" : "";
    throw new CheckpointError(`note has no signature by key ${key.name}+${toHex(key.keyId)}${hint}`);
  }
  return text;
}

/** Parse a checkpoint's note text strictly (Checkpoint.parse_body): `{origin, size (BigInt), rootHash, extensions}`. */
export function parseCheckpoint(text) {
  if (!text.endsWith("\n")) throw new CheckpointError("checkpoint text must end with a newline");
  const lines = text.slice(0, -1).split("\n");
  if (lines.length < 3) {
    throw new CheckpointError("checkpoint text needs at least three lines: origin, tree size, root hash");
  }
  const [origin, sizeText, rootText, ...extensions] = lines;
  if (!TREE_SIZE.test(sizeText)) {
    throw new CheckpointError(`tree size ${quote(sizeText)} is not a decimal number without leading zeros`);
  }
  const rootHash = b64(rootText, "root hash", CheckpointError);
  if (rootHash.length !== 32) throw new CheckpointError(`root hash is ${rootHash.length} bytes, not 32`);
  checkLine(origin, "checkpoint origin");
  const size = BigInt(sizeText);
  if (size > MAX_TREE_SIZE) throw new CheckpointError("tree size must be an integer from 0 to 2**64-1");
  extensions.forEach((line, i) => checkLine(line, `extension line ${i + 1}`));
  return Object.freeze({ origin, size, rootHash, extensions });
}

/** Verify a signed checkpoint, parse it and, if given, check its origin (checkpoint.verify_checkpoint). */
export function verifyCheckpoint(note, key, origin = null) {
  const checkpoint = parseCheckpoint(openNote(note, key));
  if (origin !== null && checkpoint.origin !== origin) {
    throw new CheckpointError(`checkpoint origin ${quote(checkpoint.origin)} is not the expected ${quote(origin)}`);
  }
  return checkpoint;
}

/** The signing time a checkpoint carries in its `time` extension line, or null (checkpoint.signed_time). */
export function signedTime(checkpoint) {
  for (const line of checkpoint.extensions) {
    if (line.startsWith(TIME_EXTENSION)) {
      const time = parseIsoTime(line.slice(TIME_EXTENSION.length));
      if (time === null) throw new CheckpointError(`the extension line ${quote(line)} is not an ISO 8601 time`);
      return time;
    }
  }
  return null;
}

// ---------------------------------------------------------------------- cosignatures (ledger/witness.py)

/** What a cosignature/v1 signs: "cosignature/v1\ntime <timestamp>\n" then the checkpoint's whole note body. */
export function cosignatureMessage(checkpointBody, timestamp) {
  return utf8(`cosignature/v1\ntime ${timestamp}\n${checkpointBody}`);
}

function splitNote(note) {
  const split = note.lastIndexOf("\n\n");
  if (split < 0 || !note.endsWith("\n")) {
    throw new WitnessError("malformed note: no blank line between the text and its signatures");
  }
  const body = note.slice(0, split + 1);
  const block = note.slice(split + 2);
  const lines = block ? block.slice(0, -1).split("\n").map((line) => `${line}\n`) : [];
  if (!lines.length || !lines.every((line) => line.startsWith(SIGNATURE_PREFIX))) {
    throw new WitnessError("malformed note: every line after the blank line must be a signature");
  }
  return [body, lines];
}

/** The valid cosignatures in `note` by the given witnesses, one per witness name at most; any other signature line is
 * ignored. A line that names a pinned witness and its key ID but does not verify throws: a witness's name on a bad
 * signature is evidence of forgery, never something to skip (witness.cosignatures). */
export function cosignatures(note, witnesses) {
  const [body, lines] = splitNote(note);
  const byId = new Map(witnesses.map((key) => [`${key.name}\n${toHex(key.keyId)}`, key]));
  const found = new Map();
  for (const line of lines) {
    const [name, , encoded] = partition(line.slice(SIGNATURE_PREFIX.length, -1), " ");
    const raw = decodeBase64Canonical(encoded);
    if (raw === null) continue;
    const key = byId.get(`${name}\n${toHex(raw.subarray(0, 4))}`);
    if (key === undefined) continue;
    if (raw.length !== 4 + 8 + 64) {
      throw new WitnessError(`the cosignature of witness ${name} is ${raw.length} bytes, not 76`);
    }
    const timestamp = new DataView(raw.buffer, raw.byteOffset + 4, 8).getBigUint64(0);
    if (timestamp > MAX_TIMESTAMP
        || !verifyEd25519(key.publicKey, cosignatureMessage(body, timestamp), raw.subarray(12))) {
      throw new WitnessError(`the cosignature of witness ${key.name}+${toHex(key.keyId)} does not verify `
                             + "(forged or altered)");
    }
    if (!found.has(key.name)) found.set(key.name, { witness: key, timestamp, line });
  }
  return [...found.values()];
}

/** What a verifier requires of a checkpoint: the log's key, and cosignatures from at least `minWitnesses` of the
 * pinned `witnesses` (witness.TrustPolicy). */
export class TrustPolicy {
  constructor(logKey, witnesses = [], minWitnesses = 0, origin = null) {
    checkWitnessCount(witnesses, minWitnesses);
    Object.assign(this, { logKey, witnesses, minWitnesses, origin });
    Object.freeze(this);
  }

  /** `[checkpoint, cosigned]` if the note is signed by the log and cosigned as required; throws CheckpointError or
   * WitnessError naming what does not hold. */
  check(note) {
    const checkpoint = verifyCheckpoint(note, this.logKey, this.origin);
    const cosigned = cosignatures(note, this.witnesses);
    if (cosigned.length < this.minWitnesses) {
      const names = sortCodePoints(cosigned.map((c) => c.witness.name)).join(", ") || "none";
      throw new WitnessError(`checkpoint ${checkpoint.size} is cosigned by ${cosigned.length} of the pinned witnesses `
                             + `(${names}); ${this.minWitnesses} are required`);
    }
    return [checkpoint, cosigned];
  }
}

/** A policy no checkpoint could meet is the caller's mistake, refused before any bundle is read. */
function checkWitnessCount(witnesses, minWitnesses) {
  const names = new Set(witnesses.map((key) => key.name)).size;
  if (!Number.isInteger(minWitnesses) || minWitnesses < 0) {
    throw new WitnessError("the number of witnesses required cannot be negative");
  }
  if (minWitnesses > names) {
    throw new WitnessError(`${minWitnesses} witnesses are required but only ${names} are pinned`);
  }
}

// ------------------------------------------------------------------ key rotations (ledger/log/rotation.py)

export const ROTATION_HEADER = "jixiao-key-rotation/v1";
/** The stored topic of the event that records a rotation (ledger.domain.log_keys.KeyRotation.Recorded). */
export const ROTATION_TOPIC = "ledger.log_keys:KeyRotation.Recorded";
const ROTATION_NUMBER = /^[1-9][0-9]{0,8}$/;

/** A rotation statement is malformed, not signed by both its keys, or does not follow the chain of keys
 * (rotation.RotationError, a CheckpointError there too). */
export class RotationError extends CheckpointError {}

function rotationBody(origin, number, old, next) {
  return [ROTATION_HEADER, `origin ${origin}`, `rotation ${number}`, `old ${old}`, `new ${next}`]
    .map((line) => `${line}\n`).join("");
}

/** Parse a rotation statement's text strictly (KeyRotation.parse_body): `{origin, number, old, new}`, the keys as
 * `parseVerifierKey` gives them. Throws RotationError (or CheckpointError for a malformed key or origin). */
export function parseRotation(text) {
  const lines = text.split("\n");
  if (lines.length !== 6) {
    throw new RotationError(`not a key rotation statement (five lines, the first ${quote(ROTATION_HEADER)})`);
  }
  const fields = {};
  for (const [index, label] of ["origin", "rotation", "old", "new"].entries()) {
    const line = lines[index + 1];
    if (!line.startsWith(`${label} `)) {
      throw new RotationError(`a key rotation statement's line ${quote(line)} must start with ${quote(`${label} `)}`);
    }
    fields[label] = line.slice(label.length + 1);
  }
  if (!ROTATION_NUMBER.test(fields.rotation)) {
    throw new RotationError(`rotation number ${quote(fields.rotation)} is not a decimal number from 1`);
  }
  const old = parseVerifierKey(fields.old);
  const next = parseVerifierKey(fields.new);
  checkLine(fields.origin, "checkpoint origin"); // as a checkpoint's origin: one line, no control characters
  if (bytesEqual(old.publicKey, next.publicKey)) {
    throw new RotationError("a rotation must name a new key, not the old one again");
  }
  const number = Number(fields.rotation);
  if (rotationBody(fields.origin, number, old, next) !== text) { // the header, the last newline, one spelling
    throw new RotationError(`not a key rotation statement written as ${ROTATION_HEADER} writes one`);
  }
  return Object.freeze({ origin: fields.origin, number, old, new: next });
}

/** The statement of a signed note, once both keys it names have signed it (rotation.open_rotation). */
export function openRotation(note) {
  const rotation = parseRotation(note.slice(0, note.lastIndexOf("\n\n") + 1));
  for (const key of [rotation.old, rotation.new]) {
    try {
      openNote(note, key);
    } catch (error) {
      if (!(error instanceof CheckpointError)) throw error;
      throw new RotationError(`key rotation ${rotation.number} is not signed by both the keys it names: ${error.message}`);
    }
  }
  return rotation;
}

/** A recorded rotation as a bundle carries it (RecordedRotation.from_json): the event's exact stored bytes, and the
 * leaf they hash to. Throws RotationError for anything not written that way. */
export function recordedRotation(data) {
  const fail = (message) => new RotationError(`a recorded key rotation is malformed: ${message}`);
  if (!isObject(data)) throw fail(`expected an object, not ${describe(data)}`);
  for (const name of ["leaf_index", "originator_version", "topic", "originator_id", "state"]) {
    if (!Object.hasOwn(data, name)) throw fail(`"${name}" is missing`);
  }
  const { leaf_index: leaf, originator_version: version, topic } = data;
  if (!Number.isInteger(leaf) || !Number.isInteger(version) || typeof topic !== "string" || leaf < 0) {
    throw fail("leaf_index and originator_version are integers, topic text");
  }
  let objectId;
  try {
    objectId = parseUuid(data.originator_id);
  } catch (error) {
    throw fail(error.message);
  }
  const state = decodeBase64Canonical(data.state);
  if (state === null) throw fail(`the rotation event's state is not canonical base64: ${quote(data.state)}`);
  return Object.freeze({ leafIndex: BigInt(leaf), objectId, version, topic, state });
}

/** The signed statement a recorded rotation holds (RecordedRotation.note), not yet verified. */
function rotationNote(recorded) {
  let fields;
  try {
    fields = JSON.parse(stateDecoder.decode(recorded.state));
  } catch (error) {
    throw new RotationError(`the event at leaf ${recorded.leafIndex} is not JSON: ${error.message}`);
  }
  const statement = isObject(fields) && Object.hasOwn(fields, "statement") ? fields.statement : null;
  if (recorded.topic !== ROTATION_TOPIC || typeof statement !== "string") {
    throw new RotationError(`the event at leaf ${recorded.leafIndex} records no key rotation`);
  }
  return statement;
}

/** Which key signs the log's checkpoints at each tree size (rotation.KeySchedule): `keys[0]` until the first
 * rotation's leaf, `keys[i]` from the i-th rotation's leaf (`leaves[i - 1]`) on. */
function keySchedule(keys, leaves = []) {
  const era = (size) => leaves.filter((leaf) => leaf < BigInt(size)).length; // leaves are in log order
  return Object.freeze({ keys, leaves, era, keyAt: (size) => keys[era(size)], current: keys[keys.length - 1] });
}

/** The schedule of keys from the recorded `rotations` (recordedRotation's results, in log order) for a reader who
 * pinned `pinned`, any key of the chain (rotation.follow_chain). Throws RotationError naming the first rotation
 * that is not signed by both its keys, names another log or number, is out of order, does not take over from the
 * key in force or hands the log back to a key it used before; or when `pinned` is none of the log's keys. */
export function followChain(pinned, rotations, origin = null) {
  const keys = [];
  const leaves = [];
  const same = (a, b) => a.toString() === b.toString();
  for (const [i, item] of rotations.entries()) {
    const number = i + 1;
    const where = `key rotation ${number} (leaf ${item.leafIndex})`;
    let rotation;
    try {
      rotation = openRotation(rotationNote(item));
    } catch (error) {
      if (!(error instanceof CheckpointError || error instanceof MalformedError)) throw error;
      throw new RotationError(`${where}: ${error.message}`);
    }
    if (origin !== null && rotation.origin !== origin) {
      throw new RotationError(`${where} is for the log ${quote(rotation.origin)}, not ${quote(origin)}`);
    }
    if (rotation.number !== number) {
      throw new RotationError(`${where} says it is rotation ${rotation.number}: rotations run 1, 2, … in order`);
    }
    if (leaves.length && item.leafIndex <= leaves[leaves.length - 1]) {
      throw new RotationError(`${where} is not after rotation ${number - 1} in the log`);
    }
    if (keys.length && !same(rotation.old, keys[keys.length - 1])) {
      throw new RotationError(`${where} is not signed by the key in force (${keys[keys.length - 1]}) but by `
                              + `${rotation.old}: refused`);
    }
    if ([...keys, rotation.old].some((used) => bytesEqual(used.publicKey, rotation.new.publicKey))) {
      throw new RotationError(`${where} hands the log back to a key it used before: refused`);
    }
    if (!keys.length) keys.push(rotation.old);
    keys.push(rotation.new);
    leaves.push(item.leafIndex);
  }
  if (!keys.length) return keySchedule([pinned]);
  if (!keys.some((key) => same(key, pinned))) {
    throw new RotationError(`the pinned key ${pinned} is none of the log's keys (${keys.join(", ")})`);
  }
  return keySchedule(keys, leaves);
}

// -------------------------------------------------------------------------------------------------- times

const ISO_TIME = new RegExp(
  "^(\\d{4})-(\\d{2})-(\\d{2})"
  + "(?:[T ](\\d{2}):(\\d{2})(?::(\\d{2})(?:\\.(\\d{1,6}))?)?)?"
  + "(Z|([+-])(\\d{2}):(\\d{2})(?::(\\d{2})(?:\\.(\\d{6}))?)?)?$");

function daysFromCivil(year, month, day) { // days since 1970-01-01 of a proleptic Gregorian date
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

function daysInMonth(year, month) {
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  return [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1];
}

/** An ISO 8601 time as `{micros: BigInt, aware: boolean}` (microseconds since 1970-01-01, UTC when aware), or null.
 * It accepts the spellings `datetime.isoformat()` writes,
 * `YYYY-MM-DD[(T| )HH:MM[:SS[.ffffff]]][Z|±HH:MM[:SS[.ffffff]]]`: a subset of what Python's `datetime.fromisoformat`
 * accepts, read as the same instant (to the microsecond, which JavaScript's Date would lose). */
export function parseIsoTime(text) {
  const m = typeof text === "string" ? ISO_TIME.exec(text) : null;
  if (m === null) return null;
  const year = Number(m[1]);
  const month = Number(m[2]);
  const day = Number(m[3]);
  const hour = Number(m[4] ?? 0);
  const minute = Number(m[5] ?? 0);
  const second = Number(m[6] ?? 0);
  const fraction = Number((m[7] ?? "").padEnd(6, "0"));
  if (year < 1 || month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return null;
  if (hour > 23 || minute > 59 || second > 59) return null;
  let offset = 0; // microseconds east of UTC: below 86,400,000,000, exact as a Number
  if (m[8] !== undefined && m[8] !== "Z") {
    const offsetMinutes = Number(m[11]);
    const offsetSeconds = Number(m[12] ?? 0);
    if (offsetMinutes > 59 || offsetSeconds > 59) return null;
    offset = ((Number(m[10]) * 60 + offsetMinutes) * 60 + offsetSeconds) * 1e6 + Number(m[13] ?? 0);
    if (offset >= 86_400_000_000) return null;
    if (m[9] === "-") offset = -offset;
  }
  const seconds = daysFromCivil(year, month, day) * 86400 + hour * 3600 + minute * 60 + second;
  return { micros: BigInt(seconds) * 1_000_000n + BigInt(fraction - offset), aware: m[8] !== undefined, text };
}

/** Compare two parsed times as Python compares datetimes: one with an offset and one without cannot be compared. */
function compareTimes(a, b) {
  if (a.aware !== b.aware) throw new MalformedError("a time with an offset cannot be compared with one without");
  return a.micros < b.micros ? -1 : a.micros > b.micros ? 1 : 0;
}

// ----------------------------------------------------- JSON values read as Python reads them (ledger/audit.py)

function describe(value) {
  return value === null ? "null" : Array.isArray(value) ? "an array" : typeof value;
}

function quote(value) {
  return typeof value === "string" ? JSON.stringify(value) : String(value);
}

function isObject(value) {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

/** `obj[key]` that must be there (Python's KeyError otherwise). */
function need(obj, key) {
  if (!isObject(obj)) throw new MalformedError(`expected an object with "${key}", not ${describe(obj)}`);
  if (!Object.hasOwn(obj, key)) throw new MalformedError(`"${key}" is missing`);
  return obj[key];
}

/** Python's `obj.get(key)` on a JSON object (null when absent). */
function get(obj, key) {
  if (!isObject(obj)) throw new MalformedError(`expected an object, not ${describe(obj)}`);
  return Object.hasOwn(obj, key) ? obj[key] : null;
}

/** Python's truth of a JSON value (`x or {}`). */
function truthy(value) {
  if (value === null || value === false || value === 0 || value === "") return false;
  if (Array.isArray(value)) return value.length > 0;
  if (isObject(value)) return Object.keys(value).length > 0;
  return true;
}

/** Python's `==` on JSON values: true == 1, 1 == 1.0, containers compared member by member. */
function pyEqual(a, b) {
  const numeric = (x) => typeof x === "number" || typeof x === "boolean";
  if (numeric(a) && numeric(b)) return Number(a) === Number(b);
  if (typeof a === "string" || typeof b === "string" || a === null || b === null) return a === b;
  if (Array.isArray(a) || Array.isArray(b)) {
    return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((x, i) => pyEqual(x, b[i]));
  }
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((k) => Object.hasOwn(b, k) && pyEqual(a[k], b[k]));
}

function sortCodePoints(names) { // Python sorts strings by code point; JavaScript by UTF-16 unit
  return [...names].sort((x, y) => {
    const [a, b] = [[...x].map((c) => c.codePointAt(0)), [...y].map((c) => c.codePointAt(0))];
    for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return a[i] - b[i];
    return a.length - b.length;
  });
}

/** UUID(text) as Python parses it: "urn:" and "uuid:" dropped, braces stripped from the ends, hyphens anywhere. */
function parseUuid(text) {
  if (typeof text !== "string") throw new MalformedError("object_id is not a string");
  const hex = text.replaceAll("urn:", "").replaceAll("uuid:", "").replace(/^[{}]+|[{}]+$/g, "").replaceAll("-", "");
  if (!/^[0-9a-fA-F]{32}$/.test(hex)) throw new MalformedError(`badly formed UUID ${quote(text)}`);
  const bytes = fromHex(hex, HEX_ANY);
  const h = toHex(bytes);
  return { bytes, text: `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}` };
}

/** A SHA-256 digest as the bundle writes it: exactly 64 lower-case hex digits (one spelling per value). */
function digest(value) {
  const bytes = typeof value === "string" && value.length === 64 ? fromHex(value, HEX_LOWER) : null;
  if (bytes === null) throw new MalformedError(`not a lower-case hex SHA-256 digest: ${quote(value)}`);
  return bytes;
}

/** Base64 as the bundle writes it; any other spelling of the same bytes is refused, so no byte is slack. */
function canonicalBase64(value) {
  const data = decodeBase64Canonical(value);
  if (data === null) throw new MalformedError("the event state is not canonical base64");
  return data;
}

function integer(value, what) { // a JSON integer (read exactly as BigInt); a JSON float, string or boolean is refused
  if (typeof value !== "number" || !Number.isInteger(value)) {
    throw new MalformedError(`${what} is not an integer: ${quote(value)}`);
  }
  return BigInt(value);
}

const stateDecoder = new TextDecoder("utf-8", { fatal: true });

function parseState(state) {
  try {
    return JSON.parse(stateDecoder.decode(state));
  } catch (error) {
    throw new MalformedError(`the event state is not JSON (${error.message})`);
  }
}

// ------------------------------------------------------------------------------ the bundle (ledger/audit.py)

function parseKeyOption(value, parse) {
  return value === null || value === undefined || typeof value === "object" ? value ?? null : parse(value);
}

/** Check a bundle offline, as `ledger.audit.verify_bundle` does. `bundleText`: the bundle's JSON text (a string or
 * bytes). Options: `logKey`, the published verifier key to pin (a string, or `parseVerifierKey`'s result; without it
 * the bundle's own key is used, which proves only that the bundle agrees with itself; after key rotations any key of
 * the log's chain may be pinned, the first one published say); `witnesses`, the pinned witness keys; `minWitnesses`,
 * how many of them must have cosigned (default: all of them). Throws only when the options are wrong; a bundle that
 * does not verify gives `ok: false`, its failures, and the first event that fails. With a key pinned, the report also
 * says how many rotations were followed (`rotations`) and which key signs the checkpoint (`keyInForce`). */
export async function verifyBundle(bundleText, { logKey = null, witnesses = [], minWitnesses = null } = {}) {
  const pinned = parseKeyOption(logKey, parseVerifierKey);
  const witnessKeys = witnesses.map((key) => parseKeyOption(key, parseWitnessKey));
  const required = minWitnesses ?? new Set(witnessKeys.map((key) => key.name)).size;
  checkWitnessCount(witnessKeys, required);
  const report = {
    ok: false, objectId: "", events: 0, checkpointSize: null, keyName: "", keyPinned: pinned !== null,
    witnesses: [], failures: [], firstBadEvent: null, summary: {}, rotations: 0, keyInForce: null,
  };
  let bundle;
  try {
    const text = typeof bundleText === "string" ? bundleText : new TextDecoder("utf-8", { fatal: true })
      .decode(bundleText);
    bundle = JSON.parse(text);
  } catch (error) {
    report.failures.push(`the bundle is not valid JSON (${error.message})`);
    return report;
  }
  const reading = { where: null, event: null }; // the event being read, to name it if it turns out malformed
  try {
    verify(bundle, pinned, witnessKeys, required, report, reading);
  } catch (error) { // a field missing or of the wrong kind (Python: KeyError, TypeError, ValueError)
    const where = reading.where === null ? "" : `${reading.where}: `;
    report.failures.push(`${where}the bundle is malformed: ${error.message}`);
    report.firstBadEvent = reading.event;
  }
  report.ok = report.failures.length === 0;
  return report;
}

/** The bundle's `key_rotations` as Python's `bundle.get("key_rotations", [])` iterates them: absent (a log never
 * rotated), a list, or something only an empty one could pass for. */
function rotationList(bundle) {
  if (!Object.hasOwn(bundle, "key_rotations")) return [];
  const items = bundle.key_rotations;
  if (Array.isArray(items)) return items;
  if (items === "" || (isObject(items) && !Object.keys(items).length)) return [];
  throw new MalformedError(`key_rotations is ${describe(items)}, not a list`);
}

function verify(bundle, pinned, witnessKeys, required, report, reading) {
  if (!isObject(bundle) || bundle.format !== BUNDLE_FORMAT) {
    report.failures.push(`unknown bundle format ${quote(isObject(bundle) ? bundle.format : undefined)}`);
    return;
  }
  const embedded = parseVerifierKey(need(bundle, "verifier_key"));
  const rotationItems = rotationList(bundle);
  const rotations = rotationItems.map(recordedRotation);
  let key = embedded;
  if (pinned !== null) { // the key in force at the checkpoint's size, followed from the pinned one
    let schedule;
    try {
      schedule = followChain(pinned, rotations, need(bundle, "origin"));
    } catch (error) {
      if (!(error instanceof RotationError)) throw error;
      report.failures.push(`key rotations: ${error.message}`);
      return;
    }
    const note = need(bundle, "checkpoint");
    if (typeof note !== "string") throw new MalformedError(`the checkpoint is ${describe(note)}, not a note`);
    key = schedule.keyAt(parseCheckpoint(`${partition(note, "\n\n")[0]}\n`).size);
    report.rotations = schedule.leaves.length;
    report.keyInForce = key.toString();
    if (embedded.toString() !== key.toString()) {
      report.failures.push(key.toString() === pinned.toString()
        ? "the bundle names a different verifier key than the one pinned"
        : `the bundle names a different verifier key than the one in force (${key}, followed from the pinned key `
          + "through the log's key rotations)");
    }
  }
  report.keyName = key.name;
  const trust = new TrustPolicy(key, witnessKeys, required, need(bundle, "origin"));
  let checkpoint;
  let cosigned;
  try {
    [checkpoint, cosigned] = trust.check(need(bundle, "checkpoint"));
  } catch (error) {
    if (!(error instanceof CheckpointError || error instanceof WitnessError)) throw error;
    report.failures.push(`checkpoint: ${error.message}`);
    return;
  }
  report.witnesses = sortCodePoints(cosigned.map((c) => c.witness.name));
  report.checkpointSize = Number(checkpoint.size);
  for (const [i, item] of rotationItems.entries()) { // each rotation followed is in the tree the checkpoint signs
    const rotation = rotations[i];
    const nodes = need(item, "inclusion_proof");
    if (!Array.isArray(nodes)) throw new MalformedError("a key rotation's inclusion_proof is not a list");
    const leaf = leafHash(rotation.objectId.bytes, rotation.version, rotation.topic, rotation.state);
    if (rotation.leafIndex >= checkpoint.size
        || !verifyInclusion(leaf, rotation.leafIndex, checkpoint.size, nodes.map(digest), checkpoint.rootHash)) {
      report.failures.push(`key rotation ${i + 1}: not in the signed tree at leaf ${rotation.leafIndex}`);
      return;
    }
  }
  const objectId = parseUuid(need(bundle, "object_id"));
  report.objectId = objectId.text;
  let previousLeaf = -1n;
  const signedAt = signedTime(checkpoint);
  let previousTime = null;
  const events = need(bundle, "events");
  if (!Array.isArray(events)) throw new MalformedError("events is not a list");
  for (const [position, event] of events.entries()) {
    Object.assign(reading, { where: `event ${position}`, event: { index: position, version: null, leaf_index: null } });
    const version = need(event, "originator_version");
    const leafIndex = need(event, "leaf_index");
    const where = `event ${position} (version ${quote(version)}, leaf ${quote(leafIndex)})`;
    Object.assign(reading, { where, event: { index: position, version, leaf_index: leafIndex } });
    const fail = (message) => {
      report.failures.push(`${where}: ${message}`);
      report.firstBadEvent = reading.event;
    };
    if (typeof version !== "number" || version !== position + 1) {
      fail(`versions must run 1..N without gaps; expected ${position + 1}`);
      return;
    }
    const index = integer(leafIndex, "leaf_index");
    if (index <= previousLeaf) {
      fail("not in log order");
      return;
    }
    previousLeaf = index;
    const state = canonicalBase64(need(event, "state"));
    const leaf = leafHash(objectId.bytes, version, need(event, "topic"), state);
    if (!bytesEqual(digest(need(event, "leaf_hash")), leaf)) {
      fail("the leaf hash does not match the event's contents (altered)");
      return;
    }
    const nodes = need(event, "inclusion_proof");
    if (!Array.isArray(nodes)) throw new MalformedError("inclusion_proof is not a list");
    const proof = nodes.map(digest);
    if (!verifyInclusion(leaf, index, checkpoint.size, proof, checkpoint.rootHash)) {
      fail("the inclusion proof does not lead to the signed root");
      return;
    }
    const [shown, recordedAt] = shownFieldsDisagree(event, parseState(state), signedAt, previousTime);
    if (shown !== null) {
      fail(shown);
      return;
    }
    previousTime = recordedAt;
    report.events += 1;
    Object.assign(reading, { where: null, event: null });
  }
  if (report.events && events.length) {
    const first = parseState(canonicalBase64(events[0].state));
    for (const name of ["code", "name", "department", "fiscal_year"]) {
      if (isObject(first) && Object.hasOwn(first, name)) report.summary[name] = first[name];
    }
  }
}

/** The fields a reader sees beside the state must say what the hashed state says (audit._shown_fields_disagree).
 * `effective_on` and the principal are copies of the hashed state; `recorded_at` is not hashed, but it cannot be
 * later than the signed checkpoint nor run backwards in log order. Returns what disagrees (or null) and the time
 * recorded, which the next event's check needs. */
function shownFieldsDisagree(event, state, signedAt, previousTime) {
  const effectiveOn = get(truthy(get(state, "effective_on")) ? get(state, "effective_on") : {}, "_data_");
  if (!pyEqual(need(event, "effective_on"), effectiveOn)) {
    return [`effective_on ${quote(event.effective_on)} is not the event's own (${quote(effectiveOn)})`, null];
  }
  const recorded = get(truthy(get(state, "principal")) ? get(state, "principal") : {}, "_data_");
  const principal = truthy(recorded) ? recorded : {};
  const shown = need(event, "principal");
  const fields = ["id", "role", "organisation"];
  const shownFields = fields.map((name) => need(shown, name));
  if (!pyEqual(shownFields, fields.map((name) => get(principal, name)))) {
    return ["the principal shown is not the one recorded in the event", null];
  }
  const recordedAt = parseIsoTime(need(event, "recorded_at"));
  if (recordedAt === null) throw new MalformedError(`recorded_at ${quote(event.recorded_at)} is not an ISO 8601 time`);
  if (signedAt !== null && compareTimes(recordedAt, signedAt) > 0) {
    return [`recorded_at ${recordedAt.text} is after the checkpoint was signed`, recordedAt];
  }
  if (previousTime !== null && compareTimes(recordedAt, previousTime) < 0) {
    return ["recorded_at runs backwards in log order", recordedAt];
  }
  return [null, recordedAt];
}
