// Checksums over a File read part by part: each part's CRC64NVME (the S3 part header) and the
// whole file's CRC64NVME and SHA-256, fed in file order. Used by hash-worker.js; takes the
// hash-wasm module as an argument so Node's tests can load it from node_modules.

export const CRC64NVME_POLY = "9a6c9329ac4bc9b5"; // hash-wasm wants 16 hex characters
export const CHUNK = 8 * 1024 * 1024; // read big parts in pieces; never the whole file

export function toBase64(bytes) {
  let s = "";
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s);
}

export function toHex(bytes) {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

async function* chunks(blob, chunkSize) {
  for (let pos = 0; pos < blob.size; pos += chunkSize) {
    yield new Uint8Array(await blob.slice(pos, Math.min(pos + chunkSize, blob.size)).arrayBuffer());
  }
}

/** CRC64NVME of one Blob, base64 of the 8 big-endian bytes. */
export async function blobCrc64(hw, blob, chunkSize = CHUNK) {
  const crc = await hw.createCRC64(CRC64NVME_POLY);
  crc.init();
  for await (const c of chunks(blob, chunkSize)) crc.update(c);
  return toBase64(crc.digest("binary"));
}

/**
 * Hashers fed in file order. `only` picks a subset so two workers can share the work: "crc"
 * (part CRCs and the whole-file CRC, fast, gating each part's send) or "sha" (the whole-file
 * SHA-256, needed only at complete); null does all three in one pass.
 */
export class FileHasher {
  constructor(hw, { chunkSize = CHUNK, only = null } = {}) {
    this.hw = hw;
    this.chunkSize = chunkSize;
    this.withCrc = only !== "sha";
    this.withSha = only !== "crc";
  }

  /** Start fresh, or from saved states ({crcState, shaState} as Uint8Array). */
  async init(saved = null) {
    this.hashers = [];
    if (this.withCrc) {
      this.crc = await this.hw.createCRC64(CRC64NVME_POLY);
      this.part = await this.hw.createCRC64(CRC64NVME_POLY);
      this.crc.init();
      if (saved) this.crc.load(saved.crcState);
      this.hashers.push(this.crc, this.part);
    }
    if (this.withSha) {
      this.sha = await this.hw.createSHA256();
      this.sha.init();
      if (saved) this.sha.load(saved.shaState);
      this.hashers.push(this.sha);
    }
    return this;
  }

  /** Hash the next part (its Blob slice) into the file hashers; returns its CRC64NVME
   * (null when this hasher does SHA-256 only). */
  async hashPart(blob) {
    this.part?.init();
    for await (const c of chunks(blob, this.chunkSize)) {
      for (const h of this.hashers) h.update(c);
    }
    return this.part ? toBase64(this.part.digest("binary")) : null;
  }

  /** States to resume from; they describe exactly the bytes hashed so far. */
  save() {
    const out = {};
    if (this.crc) out.crcState = this.crc.save();
    if (this.sha) out.shaState = this.sha.save();
    return out;
  }

  finish() {
    const out = {};
    if (this.crc) out.crc64nvme = toBase64(this.crc.digest("binary"));
    if (this.sha) out.sha256 = this.sha.digest("hex");
    return out;
  }
}
