// Slicing by the server's plan. The server decides part_size and part_count; the browser
// only checks that the plan is self-consistent and cuts the File accordingly, so there is
// exactly one planner (uploads.services on the server).

export const MAX_PARTS = 10_000;

export class PlanError extends Error {}

/** Check a plan from the API; throws PlanError when it cannot describe `size` bytes. */
export function checkPlan({ size, part_size: partSize, part_count: partCount }) {
  if (!Number.isSafeInteger(size) || size < 0) throw new PlanError(`bad size ${size}`);
  if (!Number.isSafeInteger(partSize) || partSize <= 0) throw new PlanError(`bad part size ${partSize}`);
  if (!Number.isSafeInteger(partCount) || partCount < 1 || partCount > MAX_PARTS) {
    throw new PlanError(`bad part count ${partCount}`);
  }
  const needed = Math.max(1, Math.ceil(size / partSize));
  if (needed !== partCount) {
    throw new PlanError(`${partCount} parts of ${partSize} bytes do not cover ${size} bytes`);
  }
  return { size, partSize, partCount };
}

/** Byte range of part n (1-based): [start, end). The last part may be smaller. */
export function partRange(plan, n) {
  const { size, partSize, partCount } = plan.partSize ? plan : checkPlan(plan);
  if (!Number.isInteger(n) || n < 1 || n > partCount) throw new PlanError(`no part ${n}`);
  const start = (n - 1) * partSize;
  const end = Math.min(n * partSize, size);
  return { number: n, start, end, size: end - start };
}

/** Bytes of the parts in `numbers`. */
export function bytesOf(plan, numbers) {
  let total = 0;
  for (const n of numbers) total += partRange(plan, n).size;
  return total;
}

/** Part numbers not in `done`, in file order. */
export function missingParts(plan, done) {
  const out = [];
  for (let n = 1; n <= plan.partCount; n++) if (!done.has(n)) out.push(n);
  return out;
}

const sameFile = (u, { name, relativePath, size, lastModified }) =>
  u.name === name && (u.relative_path || "") === (relativePath || "") && u.size === size && u.last_modified === lastModified;

/** The unfinished server upload for this file, matched on name, path, size and mtime. */
export function findResumable(uploads, who) {
  return uploads.find((u) => sameFile(u, who) && ["created", "uploading", "stalled"].includes(u.status)) || null;
}

/** A finished upload of this same file (name, path, size, mtime), so it is not sent twice unasked. */
export function findReceived(uploads, who) {
  return uploads.find((u) => sameFile(u, who) && ["uploaded", "verifying", "verified"].includes(u.status)) || null;
}

/**
 * Decide what a resume must do, from the server's ListParts answer and the browser's saved
 * state (which may be missing: another computer, cleared storage).
 * - done: parts S3 holds at their planned size (anything else is re-sent);
 * - hashFrom: the first part the hashing worker must read (saved hash states cover the rest);
 * - known: part checksums already known for parts before hashFrom;
 * - recorded: the checksum each finished part was sent with, as the server recorded it or,
 *   where it has none, as this browser saved it;
 * - verify: finished parts to re-hash and compare, so a changed file cannot be spliced.
 */
export function planResume(plan, serverParts, saved, { random = Math.random, samples = 3, sha256 = true } = {}) {
  const done = new Set();
  const recorded = new Map();
  for (const p of serverParts) {
    if (p.number < 1 || p.number > plan.partCount) continue;
    if (p.size !== partRange(plan, p.number).size) continue;
    done.add(p.number);
    const sum = p.recorded_checksum_crc64nvme || p.checksum_crc64nvme;
    if (sum) recorded.set(p.number, sum);
  }
  let hashFrom = 1;
  const known = new Map();
  // The CRC state is the whole-file CRC so far, in base64; anything else is not resumable.
  // A SHA-256 state is needed only where this browser computes the SHA-256.
  if (saved && saved.hashedThrough > 0 && typeof saved.crcState === "string" && (saved.shaState || !sha256)) {
    hashFrom = Math.min(saved.hashedThrough, plan.partCount) + 1;
    for (const [n, sum] of Object.entries(saved.partChecksums || {})) {
      if (Number(n) < hashFrom) known.set(Number(n), sum);
    }
    // A saved checksum that disagrees with what the server recorded means the saved state
    // belongs to other bytes: start hashing from scratch.
    for (const [n, sum] of known) {
      if (recorded.has(n) && recorded.get(n) !== sum) return planResume(plan, serverParts, null, { random, samples, sha256 });
    }
    // The server learns part checksums from progress reports (at most one per 30 s) and
    // ListParts; what this browser saved fills the gaps, so every finished part can be checked.
    for (const [n, sum] of Object.entries(saved.partChecksums || {})) {
      if (done.has(Number(n)) && !recorded.has(Number(n))) recorded.set(Number(n), sum);
    }
    // Parts hashed before the tab closed but never sent need their checksum again.
    for (let n = 1; n < hashFrom; n++) {
      if (!done.has(n) && !known.has(n)) {
        hashFrom = 1;
        known.clear();
        break;
      }
    }
  }
  // Only parts the worker will not read again need a sampled re-hash; the rest are compared
  // as the worker passes them.
  const candidates = [...done].filter((n) => n < hashFrom && recorded.has(n)).sort((a, b) => a - b);
  const verify = sampleParts(candidates, samples, random);
  return { done, recorded, hashFrom, known, verify };
}

/** First, last and `extra` random members of a sorted list, without repeats. */
export function sampleParts(sorted, extra, random = Math.random) {
  if (sorted.length <= extra + 2) return [...sorted];
  const picked = new Set([sorted[0], sorted[sorted.length - 1]]);
  let guard = 0;
  while (picked.size < extra + 2 && guard++ < 1000) {
    picked.add(sorted[Math.floor(random() * sorted.length)]);
  }
  return [...picked].sort((a, b) => a - b);
}
