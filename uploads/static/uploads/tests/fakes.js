// Stand-ins for what FileUpload talks to: the portal API, the hashing Workers and the part
// PUTs (signed for real, sent nowhere). Each records what it was asked, in order.

import { register } from "node:module";
import { ApiError } from "../api.js";
import { DEFAULT_RETRY } from "../retry.js";
import { MemoryStore } from "../store.js";

register("./vendor.js", import.meta.url);
const { signPart } = await import("../s3part.js");
export const { FileUpload, FileChanged, FILE_UNREADABLE, stoppedBy } = await import("../uploader.js");
export { ApiError };

export const FAST_RETRY = Object.freeze({ ...DEFAULT_RETRY, baseMs: 1, capMs: 2 });
export const online = { online: true, waitOnline: async () => {} };

/** A 10-byte file in 4-byte parts: 4 + 4 + 2. */
export const PART_SIZE = 4;
export const makeFile = () => new File([new Uint8Array(10).fill(7)], "db.dmp", { lastModified: 5 });

/** The portal's record of `file`'s upload. */
export function serverUpload(file, extra = {}) {
  return { id: "u1", name: file.name, relative_path: "", size: file.size, last_modified: file.lastModified,
    status: "created", part_size: PART_SIZE, part_count: Math.max(1, Math.ceil(file.size / PART_SIZE)),
    multipart_upload_id: "mp1", ...extra };
}

const s3Credentials = (n) => ({
  access_key_id: `AKIA${n}`, secret_access_key: "secret", session_token: `token${n}`, region: "us-east-1",
  endpoint: "http://s3.test", bucket: "bucket", key: "org/project/db.dmp",
  expiration: new Date(Date.now() + 3_600_000).toISOString(), server_time: new Date().toISOString(),
});

/** The portal API; `handlers` replace its answers (they may throw ApiError). */
export function fakeApi(handlers = {}) {
  const api = { calls: [] };
  let issued = 0;
  const answers = {
    listUploads: () => ({ uploads: [] }),
    createUpload: () => serverUpload(makeFile()),
    credentials: () => s3Credentials(++issued),
    parts: () => ({ parts: [] }),
    progress: () => ({ accepted: true }),
    complete: (id, body) => ({ id, status: "uploaded", checksum_crc64nvme: body.checksum_crc64nvme }),
    abort: () => ({}),
    ...handlers,
  };
  for (const [name, answer] of Object.entries(answers)) {
    api[name] = async (...args) => {
      api.calls.push([name, ...args]);
      return answer(...args);
    };
  }
  api.names = () => api.calls.map(([name]) => name).filter((n) => n !== "progress");
  return api;
}

/**
 * Workers speaking hash-worker.js's protocol, answering each message in a later task. Part
 * n's CRC is sums(n) (what "verify" re-hashes it to is verified(n)); `error` makes the worker
 * of that role post an error instead of finishing, `crash` makes it fail as a Worker does.
 */
export function fakeWorkers({ sums = (n) => `crc${n}`, verified = sums, error = null, crash = null } = {}) {
  const made = [];
  let range = [];
  const answer = (w, msg) => {
    const reply = (data) => !w.terminated && w.onmessage?.({ data });
    if (msg.type === "verify") return reply({ type: "verified", results: Object.fromEntries(msg.parts.map((n) => [n, verified(n)])) });
    if (crash === msg.type) return w.onerror?.({ message: "" });
    if (msg.type === "crc") {
      range = Array.from({ length: msg.plan.partCount - msg.from + 1 }, (_, i) => msg.from + i);
      for (const n of range) reply({ type: "part", number: n, checksum: sums(n), crcState: `crcState${n}` });
    } else {
      for (const n of range) reply({ type: "part", number: n, shaState: `shaState${n}` });
    }
    if (error === msg.type) return reply({ type: "error", message: error + " worker out of memory" });
    reply({ type: "done", ...(msg.type === "crc" ? { crc64nvme: "CRC-OF-FILE" } : { sha256: "SHA-OF-FILE" }) });
  };
  const newWorker = () => {
    const w = {
      posted: [], terminated: false,
      postMessage(msg) {
        w.posted.push(msg);
        setTimeout(() => answer(w, msg));
      },
      terminate() {
        w.terminated = true;
      },
    };
    made.push(w);
    return w;
  };
  return { newWorker, made, posted: () => made.flatMap((w) => w.posted.map((m) => m.type)) };
}

/** Part PUTs signed with the real signer; answer(part, attempt, signal) is S3's reply to each. */
export function fakeS3(answer = () => ({ status: 200 })) {
  const sent = [];
  const sendPart = async ({ url, headers, body, signal }) => {
    const part = Number(new URL(url).searchParams.get("partNumber"));
    const attempt = sent.filter((s) => s.part === part).length + 1;
    sent.push({ part, attempt, bytes: body.size, checksum: headers.get("x-amz-checksum-crc64nvme"),
      keyId: /Credential=(\w+)\//.exec(headers.get("authorization"))[1] });
    const res = await answer(part, attempt, signal);
    return { etag: `"e${part}"`, body: "", ...res };
  };
  return { s3part: { signPart, sendPart }, sent, parts: () => sent.map((s) => s.part) };
}

export const s3Error = (status, code) => ({ status, body: `<?xml version="1.0"?><Error><Code>${code}</Code></Error>` });

/** A FileUpload on fakes, recording every [status, message] its row would show. */
export function fakeUpload({ file = makeFile(), api = fakeApi(), workers = fakeWorkers(), s3 = fakeS3(),
  store = new MemoryStore(), ...options } = {}) {
  const upload = new FileUpload({ file, projectId: 7, api, store, connectivity: online,
    retryPolicy: FAST_RETRY, concurrency: 1, newWorker: workers.newWorker, s3part: s3.s3part, ...options });
  const shown = [];
  upload.addEventListener("change", () => shown.push([upload.status, upload.message]));
  return { upload, api, workers, s3, store, shown };
}
