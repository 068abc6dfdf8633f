// Web Worker, in one of two roles (hashing.js): "crc" reads the parts from the File (Blob
// slices, never the whole file), posting each part's checksum and the running whole-file CRC,
// and passes the bytes on to the "sha" worker, which posts its saved state after each part.
// "verify" re-hashes sampled finished parts on resume.

import * as hw from "../vendor/hash-wasm/index.esm.js";
import { blobCrc64, CRC64NVME_POLY, crcPass, shaPass } from "./hashing.js";
import { partRange } from "./plan.js";

// Compile both WebAssembly modules now (hash-wasm caches them), while the page is still
// talking to the portal, instead of after the first part is ready to hash.
Promise.all([hw.createCRC64(CRC64NVME_POLY), hw.createSHA256()]).catch(() => {});

self.onmessage = async ({ data }) => {
  try {
    if (data.type === "verify") {
      const results = {};
      for (const n of data.parts) {
        const r = partRange(data.plan, n);
        results[n] = await blobCrc64(hw, data.file.slice(r.start, r.end));
      }
      self.postMessage({ type: "verified", results });
    } else if (data.type === "crc") {
      const crc64nvme = await crcPass(hw, {
        ...data,
        partRange,
        onPart: (p) => self.postMessage({ type: "part", ...p }),
      });
      self.postMessage({ type: "done", crc64nvme });
    } else if (data.type === "sha") {
      const sha256 = await shaPass(hw, {
        ...data,
        onPart: (p) => self.postMessage({ type: "part", ...p }),
      });
      self.postMessage({ type: "done", sha256 });
    }
  } catch (err) {
    // The name says a file that can no longer be read (NotReadableError, NotFoundError, or
    // Chromium's TypeError from a Blob stream) from a fault of the worker's own.
    self.postMessage({ type: "error", name: err?.name || "Error", message: String(err?.message || err) });
  }
};
