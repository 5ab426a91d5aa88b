// A partner system reading its feed: fetch the key directory and the feed from a casestore
// server, then open and verify every event, as docs/provenance.md describes.
//
//   CASESTORE_TOKEN=… node partner.mjs --url http://127.0.0.1:8000 \
//       --key private/org.json --custodian-key-id 0123…(32 hex) [--after 0] [--limit 100]
//
// Prints the opened events as JSON; refuses the first event that does not verify with one
// line on stderr and exit status 1.

import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";

import * as s from "./sharing.mjs";

const { values: args } = parseArgs({
  options: {
    url: { type: "string" },
    key: { type: "string" },
    "custodian-key-id": { type: "string" },
    after: { type: "string", default: "0" },
    limit: { type: "string", default: "100" },
  },
});
const token = process.env.CASESTORE_TOKEN;
if (!args.url || !args.key || !args["custodian-key-id"] || !token) {
  console.error("usage: CASESTORE_TOKEN=… node partner.mjs --url URL --key FILE --custodian-key-id ID");
  process.exit(2);
}

async function get(path) {
  const response = await fetch(new URL(path, args.url), {
    headers: { Authorization: `Bearer ${token}` },
  });
  if (!response.ok) throw new Error(`GET ${path}: ${response.status} ${await response.text()}`);
  return response.json();
}

await s.ready();
let opened;
try {
  const key = s.loadDecryptionKey(JSON.parse(readFileSync(args.key, "utf-8")));
  const directory = s.readDirectory(await get("/v1/keys"), {
    custodianKeyId: args["custodian-key-id"],
  });
  const page = await get(`/v1/feed?after=${Number(args.after)}&limit=${Number(args.limit)}`);
  opened = [];
  for (const event of page.items) {
    try {
      opened.push({
        event_id: event.event_id,
        event_type: event.event_type,
        case_id: event.case_id,
        submission_id: event.submission_id,
        fields: s.openEvent(event, [key], directory),
      });
    } catch (error) {
      throw new Error(`event ${event.event_id} refused: ${error.message}`);
    }
  }
} catch (error) {
  console.error(`error: ${error.message}`);
  process.exit(1);
}
console.log(JSON.stringify(opened, null, 2));
