// BLAKE2b (RFC 7693) with a key, a salt and a personalisation, over a message.
//
// libsodium.js has no personalised BLAKE2b over a message (docs/provenance.md, "A note for
// libsodium bindings"), and every hash of the spec is one. This is the RFC's algorithm on
// BigInt words: slow, and short enough to read against the RFC. vectors.mjs checks it
// against libsodium's own crypto_generichash (personalisation all zeros) and the spec's
// vectors before anything else runs.

const MASK = (1n << 64n) - 1n;
const IV = [
  0x6a09e667f3bcc908n, 0xbb67ae8584caa73bn, 0x3c6ef372fe94f82bn, 0xa54ff53a5f1d36f1n,
  0x510e527fade682d1n, 0x9b05688c2b3e6c1fn, 0x1f83d9abfb41bd6bn, 0x5be0cd19137e2179n,
];
const SIGMA = [
  [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15],
  [14, 10, 4, 8, 9, 15, 13, 6, 1, 12, 0, 2, 11, 7, 5, 3],
  [11, 8, 12, 0, 5, 2, 15, 13, 10, 14, 3, 6, 7, 1, 9, 4],
  [7, 9, 3, 1, 13, 12, 11, 14, 2, 6, 5, 10, 4, 0, 15, 8],
  [9, 0, 5, 7, 2, 4, 10, 15, 14, 1, 11, 12, 6, 8, 3, 13],
  [2, 12, 6, 10, 0, 11, 8, 3, 4, 13, 7, 5, 15, 14, 1, 9],
  [12, 5, 1, 15, 14, 13, 4, 10, 0, 7, 6, 3, 9, 2, 8, 11],
  [13, 11, 7, 14, 12, 1, 3, 9, 5, 0, 15, 4, 8, 6, 2, 10],
  [6, 15, 14, 9, 11, 3, 0, 8, 12, 2, 13, 7, 1, 4, 10, 5],
  [10, 2, 8, 4, 7, 6, 1, 5, 15, 11, 9, 14, 3, 12, 13, 0],
];

function word(bytes, at) {
  let value = 0n;
  for (let i = 7; i >= 0; i--) value = (value << 8n) | BigInt(bytes[at + i]);
  return value;
}

function rotr(x, n) {
  return ((x >> n) | (x << (64n - n))) & MASK;
}

function mix(v, a, b, c, d, x, y) {
  v[a] = (v[a] + v[b] + x) & MASK;
  v[d] = rotr(v[d] ^ v[a], 32n);
  v[c] = (v[c] + v[d]) & MASK;
  v[b] = rotr(v[b] ^ v[c], 24n);
  v[a] = (v[a] + v[b] + y) & MASK;
  v[d] = rotr(v[d] ^ v[a], 16n);
  v[c] = (v[c] + v[d]) & MASK;
  v[b] = rotr(v[b] ^ v[c], 63n);
}

function compress(h, block, counter, last) {
  const m = Array.from({ length: 16 }, (_, i) => word(block, 8 * i));
  const v = [...h, ...IV];
  v[12] ^= counter & MASK;
  v[13] ^= counter >> 64n;
  if (last) v[14] ^= MASK;
  for (let round = 0; round < 12; round++) {
    const s = SIGMA[round % 10];
    mix(v, 0, 4, 8, 12, m[s[0]], m[s[1]]);
    mix(v, 1, 5, 9, 13, m[s[2]], m[s[3]]);
    mix(v, 2, 6, 10, 14, m[s[4]], m[s[5]]);
    mix(v, 3, 7, 11, 15, m[s[6]], m[s[7]]);
    mix(v, 0, 5, 10, 15, m[s[8]], m[s[9]]);
    mix(v, 1, 6, 11, 12, m[s[10]], m[s[11]]);
    mix(v, 2, 7, 8, 13, m[s[12]], m[s[13]]);
    mix(v, 3, 4, 9, 14, m[s[14]], m[s[15]]);
  }
  for (let i = 0; i < 8; i++) h[i] ^= v[i] ^ v[i + 8];
}

function padded(bytes, size) {
  if (bytes.length > size) throw new RangeError(`at most ${size} bytes`);
  const out = new Uint8Array(size);
  out.set(bytes);
  return out;
}

/**
 * BLAKE2b of `message` with `outlen` bytes of output (1..64), an optional `key` (0..64
 * bytes), and `personal` and `salt` right-padded with zeros to 16 bytes, as libsodium's
 * crypto_generichash_blake2b_salt_personal takes them.
 */
export function blake2b(message, outlen, { key = new Uint8Array(0), personal, salt } = {}) {
  if (!(outlen >= 1 && outlen <= 64)) throw new RangeError("outlen must be 1..64");
  const p = padded(personal ?? new Uint8Array(0), 16);
  const s = padded(salt ?? new Uint8Array(0), 16);
  const h = IV.slice();
  h[0] ^= 0x01010000n ^ (BigInt(key.length) << 8n) ^ BigInt(outlen);
  h[4] ^= word(s, 0);
  h[5] ^= word(s, 8);
  h[6] ^= word(p, 0);
  h[7] ^= word(p, 8);
  const data = new Uint8Array((key.length ? 128 : 0) + message.length);
  data.set(key);
  data.set(message, key.length ? 128 : 0);
  let counter = 0n;
  let at = 0;
  while (data.length - at > 128) {
    counter += 128n;
    compress(h, data.subarray(at, at + 128), counter, false);
    at += 128;
  }
  counter += BigInt(data.length - at);
  compress(h, padded(data.subarray(at), 128), counter, true);
  const out = new Uint8Array(64);
  h.forEach((value, i) => {
    for (let j = 0; j < 8; j++) out[8 * i + j] = Number((value >> BigInt(8 * j)) & 0xffn);
  });
  return out.slice(0, outlen);
}
