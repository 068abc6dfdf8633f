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

export class FileHasher {
  constructor(hw, { chunkSize = CHUNK } = {}) {
    this.hw = hw;
    this.chunkSize = chunkSize;
  }

  /** Start fresh, or from saved states ({crcState, shaState} as Uint8Array). */
  async init(saved = null) {
    this.crc = await this.hw.createCRC64(CRC64NVME_POLY);
    this.sha = await this.hw.createSHA256();
    this.part = await this.hw.createCRC64(CRC64NVME_POLY);
    this.crc.init();
    this.sha.init();
    if (saved) {
      this.crc.load(saved.crcState);
      this.sha.load(saved.shaState);
    }
    return this;
  }

  /** Hash the next part (its Blob slice) into the file hashers; returns its CRC64NVME. */
  async hashPart(blob) {
    this.part.init();
    for await (const c of chunks(blob, this.chunkSize)) {
      this.part.update(c);
      this.crc.update(c);
      this.sha.update(c);
    }
    return toBase64(this.part.digest("binary"));
  }

  /** States to resume from; they describe exactly the bytes hashed so far. */
  save() {
    return { crcState: this.crc.save(), shaState: this.sha.save() };
  }

  finish() {
    return { crc64nvme: toBase64(this.crc.digest("binary")), sha256: this.sha.digest("hex") };
  }
}
