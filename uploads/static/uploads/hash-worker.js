// Web Worker: reads parts from the File (Blob.slice, never the whole file) and hashes them
// off the main thread, posting each part's checksum in order and the saved hash states.

import * as hw from "../vendor/hash-wasm/index.esm.js";
import { blobCrc64, FileHasher } from "./hashing.js";
import { partRange } from "./plan.js";

let stopped = false;

self.onmessage = async ({ data }) => {
  try {
    if (data.type === "stop") {
      stopped = true;
    } else if (data.type === "verify") {
      const results = {};
      for (const n of data.parts) {
        const r = partRange(data.plan, n);
        results[n] = await blobCrc64(hw, data.file.slice(r.start, r.end));
      }
      self.postMessage({ type: "verified", results });
    } else if (data.type === "start") {
      await hashFile(data);
    }
  } catch (err) {
    self.postMessage({ type: "error", message: String(err?.message || err) });
  }
};

async function hashFile({ file, plan, from, saved, only = null }) {
  const hasher = await new FileHasher(hw, { only }).init(from > 1 ? saved : null);
  for (let n = from; n <= plan.partCount; n++) {
    if (stopped) return;
    const r = partRange(plan, n);
    const checksum = await hasher.hashPart(file.slice(r.start, r.end));
    self.postMessage({ type: "part", number: n, checksum, through: n, ...hasher.save() });
  }
  self.postMessage({ type: "done", ...hasher.finish() });
}
