// Progress reports to the portal: at most one per interval per upload, carrying the bytes
// done and the checksums of parts finished since the last accepted report. The portal's load
// grows with uploads, not with parts.

export class Heartbeat {
  constructor(send, { intervalMs = 30_000, now = () => Date.now() } = {}) {
    this.send = send; // async ({bytes_done, parts}) => {accepted, retry_after}
    this.intervalMs = intervalMs;
    this.now = now;
    this.last = -Infinity;
    this.unreported = new Map();
    this.busy = false;
  }

  partDone(number, checksum) {
    if (checksum) this.unreported.set(number, checksum);
  }

  /** Report if the interval has passed; returns whether a report was sent. */
  async tick(bytesDone, { force = false } = {}) {
    if (this.busy || (!force && this.now() - this.last < this.intervalMs)) return false;
    this.busy = true;
    this.last = this.now();
    const parts = [...this.unreported].map(([number, checksum]) => ({ number, checksum_crc64nvme: checksum }));
    try {
      const res = await this.send({ bytes_done: bytesDone, parts });
      if (res?.accepted) {
        for (const p of parts) this.unreported.delete(p.number);
      } else if (res?.retry_after) {
        this.last = this.now() - this.intervalMs + res.retry_after * 1000;
      }
      return true;
    } catch {
      return false; // progress is advisory; the upload goes on
    } finally {
      this.busy = false;
    }
  }
}
