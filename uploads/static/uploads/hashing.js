// Checksums over a File read part by part, once: each part's CRC64NVME (the S3 part header),
// the whole file's CRC64NVME (combined from the part CRCs, so the bytes are not hashed twice)
// and its SHA-256, fed in file order (where the project has the browser compute the SHA-256;
// otherwise hash-workers.js PartHasher hashes each part on its own, blobCrc64). Two Web Workers share the work (hash-worker.js): the
// reader computes the CRCs, which gate each part's send, and hands the same bytes to the
// SHA-256 worker through a MessagePort (transferred, not copied), never more than a window
// ahead. Reading a File costs about as much CPU as hashing it, so it is read once.
// Takes the hash-wasm module as an argument so Node's tests can load it from node_modules.

export const CRC64NVME_POLY = "9a6c9329ac4bc9b5"; // hash-wasm wants 16 hex characters
export const BATCH_BYTES = 8 * 1024 * 1024; // bytes handed to the SHA-256 worker per message
export const WINDOW_BYTES = 32 * 1024 * 1024; // at most this much read ahead of SHA-256

export function toBase64(bytes) {
  let s = "";
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s);
}

export function toHex(bytes) {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** A CRC64 value (BigInt) as S3 writes it: base64 of the 8 big-endian bytes. */
export function crcToBase64(crc) {
  const bytes = new Uint8Array(8);
  for (let i = 7; i >= 0; i--) {
    bytes[i] = Number(crc & 0xffn);
    crc >>= 8n;
  }
  return toBase64(bytes);
}

export function crcFromBase64(b64) {
  let crc = 0n;
  for (const c of atob(b64)) crc = (crc << 8n) | BigInt(c.charCodeAt(0));
  return crc;
}

// CRC combination (zlib's crc32_combine, widened to 64 bits): the CRC of A followed by B
// from crc(A), crc(B) and B's length, by multiplying crc(A) by x^(8·len(B)) modulo the
// polynomial. Valid for reflected CRCs whose init and final XOR are all ones, as CRC64NVME's.
const POLY = 0x9a6c9329ac4bc9b5n; // reflected
const X0 = 1n << 63n; // the polynomial 1, in reflected bit order

function multModP(a, b) {
  let m = X0;
  let p = 0n;
  for (;;) {
    if (a & m) {
      p ^= b;
      if ((a & (m - 1n)) === 0n) break;
    }
    m >>= 1n;
    b = b & 1n ? (b >> 1n) ^ POLY : b >> 1n;
  }
  return p;
}

const X2N = [1n << 62n]; // X2N[k] = x^(2^k) mod p
for (let k = 1; k < 64; k++) X2N.push(multModP(X2N[k - 1], X2N[k - 1]));

function xPow8nModP(n) {
  let p = X0;
  let k = 3; // 2^3 bits a byte
  while (n > 0) {
    if (n % 2) p = multModP(X2N[k % 64], p);
    n = Math.floor(n / 2);
    k++;
  }
  return p;
}

/** CRC64NVME of A followed by B, from crcA, crcB (BigInt) and B's length in bytes. */
export function crc64Combine(crcA, crcB, lengthB) {
  if (lengthB === 0) return crcA;
  return multModP(xPow8nModP(lengthB), crcA) ^ crcB;
}

/** The chunks of a Blob as its stream yields them: cheaper to read than big arrayBuffer slices. */
export async function* blobChunks(blob) {
  const reader = blob.stream().getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return;
    if (value.byteLength) yield value;
  }
}

async function newCrc(hw) {
  const crc = await hw.createCRC64(CRC64NVME_POLY);
  crc.init();
  return crc;
}

/** CRC64NVME of one Blob, base64 of the 8 big-endian bytes. */
export async function blobCrc64(hw, blob) {
  const crc = await newCrc(hw);
  for await (const c of blobChunks(blob)) crc.update(c);
  return toBase64(crc.digest("binary"));
}

/** A chunk's own ArrayBuffer to transfer; a copy when the chunk is a view into a shared one. */
function ownBuffer(chunk) {
  if (chunk.byteOffset === 0 && chunk.byteLength === chunk.buffer.byteLength) return chunk;
  return chunk.slice();
}

/**
 * The reader: parts `from`..partCount of `file` by `plan` (`partRange`), read once. Calls
 * onPart({number, checksum, crcState}) after each part, crcState being the whole-file CRC
 * through that part (base64), and posts the bytes to `port` for shaPass. Resolves the
 * whole-file CRC64NVME (base64); `crcState` resumes from a saved whole-file CRC.
 */
export async function crcPass(hw, { file, plan, partRange, from = 1, crcState = null, port, onPart,
  batchBytes = BATCH_BYTES, windowBytes = WINDOW_BYTES }) {
  let whole = from > 1 ? crcFromBase64(crcState) : 0n;
  const part = await newCrc(hw);
  let unacked = 0;
  let drained = null;
  port.onmessage = ({ data }) => {
    unacked -= data.ack;
    if (drained && unacked <= windowBytes) drained();
  };
  let batch = [];
  let batchSize = 0;
  const flush = async (partDone) => {
    port.postMessage({ chunks: batch, part: partDone }, batch.map((c) => c.buffer));
    unacked += batchSize;
    batch = [];
    batchSize = 0;
    if (unacked > windowBytes) await new Promise((resolve) => (drained = resolve));
    drained = null;
  };
  for (let n = from; n <= plan.partCount; n++) {
    const r = partRange(plan, n);
    part.init();
    for await (const c of blobChunks(file.slice(r.start, r.end))) {
      part.update(c);
      batch.push(ownBuffer(c));
      batchSize += c.byteLength;
      if (batchSize >= batchBytes) await flush(null);
    }
    const checksum = toBase64(part.digest("binary"));
    whole = crc64Combine(whole, crcFromBase64(checksum), r.size);
    onPart({ number: n, checksum, crcState: crcToBase64(whole) });
    await flush(n);
  }
  port.postMessage({ end: true });
  return crcToBase64(whole);
}

/**
 * The SHA-256 side: hashes the bytes arriving on `port` in order, acknowledging each batch;
 * calls onPart({number, shaState}) when a part's last bytes are in. Resolves the hex digest.
 * `shaState` resumes from a saved hash-wasm state.
 */
export async function shaPass(hw, { port, shaState = null, onPart }) {
  const sha = await hw.createSHA256();
  sha.init();
  if (shaState) sha.load(shaState);
  return new Promise((resolve) => {
    port.onmessage = ({ data }) => {
      if (data.end) {
        port.close();
        return resolve(sha.digest("hex"));
      }
      let bytes = 0;
      for (const c of data.chunks) {
        sha.update(c);
        bytes += c.byteLength;
      }
      port.postMessage({ ack: bytes });
      if (data.part) onPart({ number: data.part, shaState: sha.save() });
    };
  });
}
