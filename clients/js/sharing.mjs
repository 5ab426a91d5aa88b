// A partner's side of casestore in JavaScript: open what the service delivers and verify
// who wrote and who stored it, from docs/envelope.md and docs/provenance.md alone, on
// libsodium.js (libsodium-wrappers) and the BLAKE2b in blake2b.mjs.
//
// Failing to open is one opaque DecryptionFailed, as the spec asks; failing to verify is a
// ProvenanceInvalid that says which check failed.

import sodium from "libsodium-wrappers";

import { blake2b } from "./blake2b.mjs";

export class DecryptionFailed extends Error {
  constructor() {
    super("decryption failed");
  }
}

export class ProvenanceInvalid extends Error {}

export const AUTHOR_DOCUMENT = "casestore/author-document";
export const STORED_EVENT = "casestore/stored-event";
export const KEY_DIRECTORY = "casestore/key-directory";
const FORMAT = "sharing/1";
const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

export async function ready() {
  await sodium.ready;
}

export { sodium };

// ---- encodings ----------------------------------------------------------------------------

export function utf8(text) {
  return encoder.encode(text);
}

export function concat(...parts) {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

/** LP(p1, …, pk): each part as u32be(length) ‖ bytes; text parts as UTF-8. */
export function lp(...parts) {
  return concat(
    ...parts.flatMap((part) => {
      const bytes = typeof part === "string" ? utf8(part) : part;
      const length = new Uint8Array(4);
      new DataView(length.buffer).setUint32(0, bytes.length);
      return [length, bytes];
    }),
  );
}

/** RFC 8785 restricted to integers: keys sorted by UTF-16 code units (JavaScript's own
 * string order), JSON.stringify's escaping, which is JCS's. */
export function canonicalJson(value) {
  if (value === null || typeof value === "boolean" || typeof value === "string") {
    return JSON.stringify(value);
  }
  if (typeof value === "number") {
    if (!Number.isSafeInteger(value)) throw new TypeError("only safe integers");
    return JSON.stringify(value === 0 ? 0 : value);
  }
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (typeof value === "object") {
    const keys = Object.keys(value).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(value[k])}`).join(",")}}`;
  }
  throw new TypeError(`${typeof value} is not JSON`);
}

const B64URL = /^[A-Za-z0-9_-]*$/;

export function b64encode(bytes) {
  return sodium.to_base64(bytes, sodium.base64_variants.URLSAFE_NO_PADDING);
}

/** Unpadded base64url, refusing every other spelling of the same bytes. */
export function b64decode(text) {
  if (typeof text !== "string" || !B64URL.test(text) || text.length % 4 === 1) {
    throw new TypeError("not unpadded base64url");
  }
  const bytes = sodium.from_base64(text, sodium.base64_variants.URLSAFE_NO_PADDING);
  if (b64encode(bytes) !== text) throw new TypeError("non-canonical base64url");
  return bytes;
}

export function hex(bytes) {
  return Buffer.from(bytes).toString("hex");
}

export function fromHex(text) {
  return new Uint8Array(Buffer.from(text, "hex"));
}

/** H(out, key, personal, m) of the spec: BLAKE2b, salt all zeros. */
export function H(out, key, personal, message) {
  return blake2b(message, out, { key, personal: utf8(personal) });
}

const EMPTY = new Uint8Array(0);

export function keyId(kind, publicKey) {
  return hex(H(16, EMPTY, "sharing/1/kid", lp(kind, publicKey)));
}

function equal(a, b) {
  return a.length === b.length && sodium.memcmp(a, b);
}

// ---- keys ---------------------------------------------------------------------------------

/** The X25519 key from an organisation's private key file, its key id checked. */
export function loadDecryptionKey(file) {
  const privateKey = b64decode(file.enc_private_key);
  const publicKey = sodium.crypto_scalarmult_base(privateKey);
  const id = keyId("x25519", publicKey);
  if (id !== file.enc_key_id) throw new TypeError("the key file's key id does not match its key");
  return { orgId: file.org_id, keyId: id, publicKey, privateKey };
}

function publicRecord(data) {
  const record = {
    orgId: data.org_id,
    encKeyId: data.enc_key_id,
    encPublicKey: b64decode(data.enc_public_key),
    signKeyId: data.sign_key_id,
    signPublicKey: b64decode(data.sign_public_key),
    validFrom: Date.parse(data.valid_from),
    retiredAt: data.retired_at === null ? null : Date.parse(data.retired_at),
  };
  if (keyId("x25519", record.encPublicKey) !== record.encKeyId) throw new TypeError("bad key id");
  if (keyId("ed25519", record.signPublicKey) !== record.signKeyId) throw new TypeError("bad key id");
  return record;
}

// ---- signatures ---------------------------------------------------------------------------

export function signingInput(document, purpose) {
  return lp(FORMAT, "signature", purpose, utf8(canonicalJson(document)));
}

/** Whether `signature` (wire form) is by a key of its organisation valid at `at` (ms). */
export function verifySignature(document, signature, records, purpose, at) {
  const record = records.find(
    (r) =>
      r.orgId === signature.org_id &&
      r.signKeyId === signature.key_id &&
      r.validFrom <= at &&
      (r.retiredAt === null || at < r.retiredAt),
  );
  if (record === undefined) return false;
  try {
    const bytes = b64decode(signature.signature);
    return (
      bytes.length === 64 &&
      sodium.crypto_sign_verify_detached(bytes, signingInput(document, purpose), record.signPublicKey)
    );
  } catch {
    return false;
  }
}

// ---- the key directory --------------------------------------------------------------------

/** The published key directory, once its signature is checked against the pinned
 * custodian signing key id (or, with `trust`, taken as it is). */
export function readDirectory(published, { custodianKeyId = null, trust = false } = {}) {
  if (custodianKeyId === null && !trust) {
    throw new TypeError("pin the custodian's signing key id, or trust the directory explicitly");
  }
  const { document, signature } = published;
  let records;
  try {
    if (document.v !== 1) throw new TypeError("version");
    records = document.keys.map(publicRecord);
  } catch {
    throw new ProvenanceInvalid("not a key directory (version 1)");
  }
  if (signature.org_id !== document.custodian) {
    throw new ProvenanceInvalid(`the key directory is not signed by its custodian ${document.custodian}`);
  }
  if (custodianKeyId !== null && signature.key_id !== custodianKeyId) {
    throw new ProvenanceInvalid(
      `the key directory is signed by key ${signature.key_id}, not by the pinned custodian key ${custodianKeyId}`,
    );
  }
  const issuedAt = Date.parse(document.issued_at);
  if (!verifySignature(document, signature, records, KEY_DIRECTORY, issuedAt)) {
    throw new ProvenanceInvalid("the key directory's signature does not verify");
  }
  return { region: document.region, custodian: document.custodian, issuedAt, records };
}

// ---- opening (docs/envelope.md) -----------------------------------------------------------

function need(condition) {
  if (!condition) throw new DecryptionFailed();
}

function aeadOpen(key, nonce, ad, ciphertext) {
  return sodium.crypto_aead_xchacha20poly1305_ietf_decrypt(null, ciphertext, ad, nonce, key);
}

function context(event) {
  return [event.region, event.case_id, event.event_id, event.event_type];
}

function openGrant(event, grant, key) {
  need(grant.v === 2 && grant.org_id === key.orgId && grant.key_id === key.keyId);
  const names = grant.fields;
  need(Array.isArray(names) && names.length > 0 && new Set(names).size === names.length);
  const epk = b64decode(grant.ephemeral_public);
  const nonce = b64decode(grant.nonce);
  need(epk.length === 32 && nonce.length === 24);
  const shared = sodium.crypto_scalarmult(key.privateKey, epk);
  need(shared.some((byte) => byte !== 0));
  const kek = H(32, shared, "sharing/1/kek",
    lp(FORMAT, "kek", ...context(event), key.orgId, key.keyId, epk, key.publicKey));
  const ad = lp(FORMAT, "grant", ...context(event), grant.org_id, grant.key_id, ...names);
  const plain = aeadOpen(kek, nonce, ad, b64decode(grant.wrapped_keys));
  const size = 32 * names.length;
  need(plain.length === size + ad.length && equal(plain.subarray(size), ad));
  return new Map(names.map((name, i) => [name, plain.slice(32 * i, 32 * (i + 1))]));
}

function openSealed(event, name, record, dataKey) {
  need(record !== undefined && record.v === 1 && record.field === name);
  const nonce = b64decode(record.nonce);
  const commitment = b64decode(record.commitment);
  need(nonce.length === 24 && commitment.length === 32);
  const ad = lp(FORMAT, "content", ...context(event), name);
  need(equal(H(32, dataKey, "sharing/1/commit", ad), commitment)); // before decrypting
  return aeadOpen(dataKey, nonce, ad, b64decode(record.ciphertext));
}

/** Every field of the delivered event that one of `keys` holds a grant for: sealed name ->
 * plaintext bytes. Other organisations' grants are skipped; one of ours that does not open
 * is an error, never silently dropped. */
export function openFields(event, keys) {
  const opened = new Map();
  for (const grant of event.grants) {
    const key = keys.find((k) => k.orgId === grant.org_id && k.keyId === grant.key_id);
    if (key === undefined) continue;
    try {
      for (const [name, dataKey] of openGrant(event, grant, key)) {
        opened.set(name, openSealed(event, name, event.sealed[name], dataKey));
      }
    } catch {
      throw new DecryptionFailed();
    }
  }
  return opened;
}

// ---- disclosures and verifying (docs/provenance.md) ---------------------------------------

export function digest(bytes) {
  return b64encode(H(32, EMPTY, "sharing/1/sd", bytes));
}

/** The value of a disclosure opened as sealed name `name`. */
export function readDisclosure(name, plaintext) {
  let decoded;
  try {
    decoded = JSON.parse(decoder.decode(plaintext));
    if (!Array.isArray(decoded) || decoded.length !== 3) throw new TypeError();
    if (b64decode(decoded[0]).length !== 16 || decoded[1] !== name) throw new TypeError();
  } catch {
    throw new ProvenanceInvalid(`field ${name} holds no disclosure`);
  }
  return decoded[2];
}

function isDigestList(listed) {
  return (
    Array.isArray(listed) &&
    listed.length >= 16 &&
    listed.length % 16 === 0 &&
    listed.every((item, i) => typeof item === "string" && (i === 0 || listed[i - 1] < item))
  );
}

function matches(digests, name, plaintext) {
  const [field, owner] = splitName(name);
  const listed = digests[field];
  const found = digest(plaintext);
  return owner ? isDigestList(listed) && listed.includes(found) : listed === found;
}

function splitName(name) {
  const at = name.indexOf("/");
  return at < 0 ? [name, ""] : [name.slice(0, at), name.slice(at + 1)];
}

function checkSignature(document, signature, directory, signer, purpose, at, what) {
  if (signature === null || typeof signature !== "object") {
    throw new ProvenanceInvalid(`the event carries no ${what}`);
  }
  if (signature.org_id !== signer) {
    throw new ProvenanceInvalid(`the ${what} is by ${signature.org_id}, not by ${signer}`);
  }
  if (!verifySignature(document, signature, directory.records, purpose, at)) {
    throw new ProvenanceInvalid(`the ${what} does not verify with ${signer}'s key ${signature.key_id}`);
  }
}

/** Check a delivered event and the disclosures opened of it (Map: sealed name -> bytes):
 * the custodian's countersignature, the author's signature, that both say the same as the
 * event, and each opened field against its digest. Returns the opened values by name. */
export function verifyEvent(event, directory, opened) {
  try {
    return verified(event, directory, opened);
  } catch (error) {
    if (error instanceof ProvenanceInvalid) throw error;
    throw new ProvenanceInvalid("the event lacks what verifying needs");
  }
}

function verified(event, directory, opened) {
  const document = event.author_document;
  if (document === null || typeof document !== "object") {
    throw new ProvenanceInvalid("the event carries no author document");
  }
  const at = Date.parse(event.recorded_at);
  const stored = {
    v: 2,
    region: event.region,
    case_id: event.case_id,
    version: event.version,
    event_id: event.event_id,
    event_type: event.event_type,
    author_user: event.author_user,
    recorded_at: event.recorded_at,
    control: event.control,
    author_document: document,
    author_signature: event.signature,
  };
  checkSignature(stored, event.countersignature, directory, directory.custodian, STORED_EVENT, at,
    "countersignature");
  checkSignature(document, event.signature, directory, event.author_org, AUTHOR_DOCUMENT, at,
    "author's signature");
  const expected = {
    v: 2,
    region: event.region,
    author: event.author_org,
    event_type: event.event_type,
    submission_id: event.submission_id,
    occurred_at: event.occurred_at,
  };
  for (const [member, value] of Object.entries(expected)) {
    if (document[member] !== value) {
      throw new ProvenanceInvalid(`the author's document names another ${member}`);
    }
  }
  const opening = document.case_id === null && event.version === 1;
  if (document.case_id !== event.case_id && !opening) {
    throw new ProvenanceInvalid("the author's document names another case_id");
  }
  for (const [name, value] of Object.entries(document.control)) {
    if (!(name in event.control) || canonicalJson(event.control[name]) !== canonicalJson(value)) {
      throw new ProvenanceInvalid(`control attribute ${name} is not what its author signed`);
    }
  }
  const sealed = new Set(Object.keys(event.sealed).map((name) => splitName(name)[0]));
  const fields = Object.keys(document.digests);
  const withheld = new Set(event.withheld);
  const covered = [...sealed, ...withheld];
  if (
    [...sealed].some((f) => withheld.has(f)) ||
    covered.length !== fields.length ||
    !fields.every((f) => sealed.has(f) || withheld.has(f))
  ) {
    throw new ProvenanceInvalid("the fields sealed and withheld are not the author's fields");
  }
  const values = new Map();
  for (const [name, plaintext] of opened) {
    if (!matches(document.digests, name, plaintext)) {
      throw new ProvenanceInvalid(`field ${name} does not match what its author signed`);
    }
    values.set(name, readDisclosure(name, plaintext));
  }
  return values;
}

/** Field values from values by sealed name: an owned field's parts put back in order. */
export function reassemble(values) {
  const result = {};
  const parts = {};
  for (const [name, value] of values) {
    const [field, owner] = splitName(name);
    if (owner) (parts[field] ??= []).push(...value);
    else result[field] = value;
  }
  for (const [field, entries] of Object.entries(parts)) {
    result[field] = entries.sort((a, b) => a[0] - b[0]).map(([, entry]) => entry);
  }
  return result;
}

/** Open and verify one delivered event: its fields, owned fields put back together. */
export function openEvent(event, keys, directory) {
  const opened = openFields(event, keys);
  return reassemble(verifyEvent(event, directory, opened));
}
