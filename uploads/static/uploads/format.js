// Human-readable sizes, speeds and durations, and a moving-average speed meter.

const UNITS = ["B", "KB", "MB", "GB", "TB"];

export function humanSize(bytes) {
  let v = bytes;
  let i = 0;
  while (v >= 1000 && i < UNITS.length - 1) {
    v /= 1000;
    i++;
  }
  return `${i === 0 ? v : v.toFixed(v < 10 ? 1 : 0)} ${UNITS[i]}`;
}

export function humanDuration(seconds) {
  if (!Number.isFinite(seconds) || seconds < 0) return "";
  const s = Math.round(seconds);
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${s % 60} s`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h} h ${m % 60} min`;
  return `${Math.floor(h / 24)} days ${h % 24} h`;
}

/** Speed over the last `windowMs`, from (time, bytes) samples. */
export class SpeedMeter {
  constructor(windowMs = 10_000) {
    this.windowMs = windowMs;
    this.samples = [];
  }
  add(t, bytes) {
    this.samples.push([t, bytes]);
    while (this.samples.length > 2 && this.samples[1][0] <= t - this.windowMs) this.samples.shift();
  }
  reset() {
    this.samples = [];
  }
  /** Bytes per second, or 0 before two samples. */
  rate() {
    if (this.samples.length < 2) return 0;
    const [t0, b0] = this.samples[0];
    const [t1, b1] = this.samples[this.samples.length - 1];
    return t1 > t0 ? Math.max(0, ((b1 - b0) * 1000) / (t1 - t0)) : 0;
  }
}
