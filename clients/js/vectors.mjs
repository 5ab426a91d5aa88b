// Checks this implementation against the test vectors of docs/envelope.md and
// docs/provenance.md, read from the documents themselves:
//
//   node vectors.mjs ../../docs/envelope.md ../../docs/provenance.md
//
// Prints one line per check and "N passed, M failed"; exits 1 if any failed.

import { readFileSync } from "node:fs";

import { blake2b } from "./blake2b.mjs";
import * as s from "./sharing.mjs";

await s.ready();
const { sodium } = s;
let passed = 0;
let failed = 0;

function check(name, fn) {
  try {
    fn();
    passed += 1;
  } catch (error) {
    failed += 1;
    console.log(`FAILED ${name}: ${error.stack ?? error}`);
  }
}

function assert(condition, what) {
  if (!condition) throw new Error(what ?? "assertion failed");
}

function refuses(fn, kind, pattern) {
  try {
    fn();
  } catch (error) {
    assert(error instanceof kind, `${error} is not a ${kind.name}`);
    assert(pattern === undefined || pattern.test(error.message), `${error.message} !~ ${pattern}`);
    return;
  }
  throw new Error("not refused");
}

function vectorsOf(path) {
  const text = readFileSync(path, "utf-8");
  const match = /<!-- vectors:begin -->\s*```json\n([\s\S]*?)\n```\s*<!-- vectors:end -->/.exec(text);
  if (match === null) throw new Error(`no vector block in ${path}`);
  return JSON.parse(match[1]);
}

const h = s.fromHex;
const [envelopePath, provenancePath] = process.argv.slice(2);

// ---- our BLAKE2b against libsodium's, where libsodium.js has one ---------------------------
check("blake2b agrees with crypto_generichash", () => {
  for (const length of [0, 1, 63, 127, 128, 129, 255, 256, 257, 600]) {
    const message = sodium.randombytes_buf(length);
    for (const key of [new Uint8Array(0), sodium.randombytes_buf(32)]) {
      for (const out of [16, 32, 64]) {
        const theirs = sodium.crypto_generichash(out, message, key.length ? key : null);
        assert(s.hex(blake2b(message, out, { key })) === s.hex(theirs), `length ${length}`);
      }
    }
  }
});

// ---- docs/envelope.md -----------------------------------------------------------------------
const env = vectorsOf(envelopePath);

check("length_prefixed", () => {
  for (const v of env.length_prefixed) assert(s.hex(s.lp(...v.parts)) === v.hex);
});
check("canonical_json", () => {
  for (const v of env.canonical_json) assert(s.canonicalJson(JSON.parse(v.input)) === v.canonical);
});
for (const [org, v] of Object.entries(env.organisations)) {
  check(`keys of ${org}`, () => {
    const enc = sodium.crypto_scalarmult_base(h(v.enc_private_key));
    assert(s.hex(enc) === v.enc_public_key && s.keyId("x25519", enc) === v.enc_key_id);
    const sign = sodium.crypto_sign_seed_keypair(h(v.sign_seed)).publicKey;
    assert(s.hex(sign) === v.sign_public_key && s.keyId("ed25519", sign) === v.sign_key_id);
  });
}
check("case key", () => {
  const v = env.case_key;
  const ad = s.lp("sharing/1", "case-key", v.region, v.case_id);
  assert(s.hex(ad) === v.ad);
  const wrapped = h(v.wrapped);
  const key = sodium.crypto_aead_xchacha20poly1305_ietf_decrypt(
    null, wrapped.subarray(24), ad, wrapped.subarray(0, 24), h(v.master_key));
  assert(s.hex(key) === v.case_key);
});
const ev = env.event;
for (const f of ev.fields) {
  check(`field ${f.field}`, () => {
    const ad = s.lp("sharing/1", "content", ev.region, ev.case_id, ev.event_id, ev.event_type, f.field);
    assert(s.hex(ad) === f.ad);
    assert(s.hex(s.H(32, h(f.data_key), "sharing/1/commit", ad)) === f.commitment);
    const plain = sodium.crypto_aead_xchacha20poly1305_ietf_decrypt(
      null, h(f.ciphertext), ad, h(f.nonce), h(f.data_key));
    assert(new TextDecoder().decode(plain) === f.plaintext);
  });
}
check("escrow", () => {
  const e = ev.escrow;
  const ad = s.lp("sharing/1", "escrow", ev.region, ev.case_id, ev.event_id, ev.event_type, ...e.fields);
  assert(s.hex(ad) === e.ad);
  const keys = sodium.crypto_aead_xchacha20poly1305_ietf_decrypt(
    null, h(e.wrapped_keys), ad, h(e.nonce), h(ev.case_key));
  assert(s.hex(keys) === ev.fields.map((f) => f.data_key).join(""));
});
const wireEvent = {
  region: ev.region, case_id: ev.case_id, event_id: ev.event_id, event_type: ev.event_type,
  sealed: Object.fromEntries(ev.fields.map((f) => [f.field, f.wire])),
  grants: ev.grants.map((g) => g.wire),
};
for (const g of ev.grants) {
  check(`grant for ${g.org_id}`, () => {
    const o = env.organisations[g.org_id];
    const shared = sodium.crypto_scalarmult(h(ev.ephemeral_secret), h(o.enc_public_key));
    assert(s.hex(shared) === g.shared_secret);
    const kek = s.H(32, shared, "sharing/1/kek", s.lp("sharing/1", "kek", ev.region, ev.case_id,
      ev.event_id, ev.event_type, g.org_id, g.key_id, h(ev.ephemeral_public), h(o.enc_public_key)));
    assert(s.hex(kek) === g.kek);
    const key = s.loadDecryptionKey({
      org_id: g.org_id, enc_key_id: o.enc_key_id,
      enc_private_key: s.b64encode(h(o.enc_private_key)),
    });
    const opened = s.openFields(wireEvent, [key]);
    assert([...opened.keys()].join() === g.fields.join());
    for (const f of ev.fields.filter((f) => g.fields.includes(f.field))) {
      assert(new TextDecoder().decode(opened.get(f.field)) === f.plaintext);
    }
    const moved = { ...wireEvent, event_id: "evt-0002" };
    refuses(() => s.openFields(moved, [key]), s.DecryptionFailed);
  });
}
check("signature", () => {
  const v = env.signature;
  assert(s.hex(s.signingInput(v.document, v.purpose)) === v.signing_input);
  const pk = h(env.organisations[v.org_id].sign_public_key);
  assert(sodium.crypto_sign_verify_detached(h(v.signature), h(v.signing_input), pk));
});

// ---- docs/provenance.md ---------------------------------------------------------------------
const pv = vectorsOf(provenancePath);

check("personalised blake2b", () => {
  for (const v of pv.blake2b) {
    assert(s.hex(s.H(v.out, s.utf8(v.key), v.personal, s.utf8(v.message))) === v.hex, v.personal);
  }
});
for (const [type, d] of Object.entries(pv.disclosures)) {
  check(`disclosures of a ${type}`, () => {
    for (const v of d.values) {
      const text = s.canonicalJson([s.b64encode(h(v.salt)), v.sealed_name, v.value]);
      assert(text === v.disclosure, v.sealed_name);
      assert(s.digest(s.utf8(text)) === v.digest, v.sealed_name);
      const [field, owner] = v.sealed_name.split("/");
      assert(owner ? d.digests[field].includes(v.digest) : d.digests[field] === v.digest);
    }
    for (const field of Object.keys(d.owned_fields)) {
      const listed = d.digests[field];
      assert(listed.length % 16 === 0 && listed.every((x, i) => i === 0 || listed[i - 1] < x));
    }
  });
}
const directory = s.readDirectory(pv.key_directory.published, {
  custodianKeyId: pv.key_directory.pinned_custodian_key_id,
});
check("key directory", () => {
  assert(directory.custodian === "zvh-test" && directory.records.length === 3);
  const other = pv.organisations["org-a"].sign_key_id;
  refuses(() => s.readDirectory(pv.key_directory.published, { custodianKeyId: other }),
    s.ProvenanceInvalid, /pinned/);
  const changed = structuredClone(pv.key_directory.published);
  changed.document.keys[0].retired_at = "2026-01-01T00:00:00Z";
  refuses(() => s.readDirectory(changed, { custodianKeyId: pv.key_directory.pinned_custodian_key_id }),
    s.ProvenanceInvalid, /does not verify/);
});
for (const name of ["author_document", "stored_event"]) {
  check(name, () => {
    const v = pv[name];
    assert(s.hex(s.signingInput(v.document, v.purpose)) === v.signing_input);
    assert(s.verifySignature(v.document, v.wire, directory.records, v.purpose, directory.issuedAt));
  });
}
const delivered = pv.delivered_event;
const recipient = s.loadDecryptionKey(delivered.private_key);
check("the delivered event opens and verifies", () => {
  const values = s.openEvent(delivered.event, [recipient], directory);
  assert(s.canonicalJson(values) === s.canonicalJson(delivered.opened));
});
check("every alteration of the delivered event is refused", () => {
  const event = delivered.event;
  const opened = s.openFields(event, [recipient]);
  const doc = event.author_document;
  const changes = [
    { ...event, case_id: "case-0002" },
    { ...event, version: 7 },
    { ...event, event_id: "evt-0007" },
    { ...event, author_user: "client:other" },
    { ...event, recorded_at: "2026-03-02T09:00:01.250000Z" },
    { ...event, occurred_at: "2026-03-01T08:15:00Z" },
    { ...event, submission_id: "sub-0007" },
    { ...event, author_org: "org-b" },
    { ...event, control: { planversie: 3 } },
    { ...event, withheld: ["doelen"] },
    { ...event, author_document: { ...doc, control: { planversie: 3 } } },
    { ...event, author_document: { ...doc, digests: { ...doc.digests, acties: doc.digests.acties.slice(1) } } },
    { ...event, signature: { ...event.signature, signature: event.countersignature.signature } },
    { ...event, countersignature: null },
  ];
  for (const changed of changes) {
    refuses(() => s.verifyEvent(changed, directory, opened), s.ProvenanceInvalid);
  }
  const part = s.readDisclosure("acties/org-b", opened.get("acties/org-b"));
  const resalted = new Map(opened);
  resalted.set("acties/org-b", s.utf8(s.canonicalJson(["A".repeat(22), "acties/org-b", part])));
  refuses(() => s.verifyEvent(event, directory, resalted), s.ProvenanceInvalid, /acties\/org-b/);
  const tampered = structuredClone(event);
  const sealed = tampered.sealed.casusregisseur_contact;
  sealed.ciphertext = `${sealed.ciphertext.slice(0, -2)}AA`;
  refuses(() => s.openFields(tampered, [recipient]), s.DecryptionFailed);
});

console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
