// Human-readable sizes, speeds, times and durations, and a moving-average speed meter.

// Binary sizes, labelled as such, rounded half up to one decimal in whole-number arithmetic:
// the same text as portal/format.py's human_size for the same number of bytes.
const UNITS = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

function tenthsOf(n, unit) {
  // floor((n*10 + unit/2) / unit) without float error: a double quotient can round up across
  // a whole number near 2^53.
  const a = n * 10 + unit / 2;
  let t = Math.floor(a / unit);
  if (t * unit > a) t -= 1;
  return t;
}

export function humanSize(bytes) {
  if (bytes === null || bytes === undefined || Number.isNaN(bytes)) return "—";
  const n = Math.max(0, Math.floor(bytes));
  let i = 0;
  while (i < UNITS.length - 1 && n >= 1024 ** (i + 1)) i++;
  if (i === 0) return `${n} B`;
  let tenths = tenthsOf(n, 1024 ** i);
  if (tenths >= 10240 && i < UNITS.length - 1) {
    i++;
    tenths = tenthsOf(n, 1024 ** i);
  }
  return `${Math.floor(tenths / 10)}.${tenths % 10} ${UNITS[i]}`;
}

/** A speed in bytes per second, in the same units: never a raw float. */
export function humanRate(bytesPerSecond) {
  return `${humanSize(bytesPerSecond)}/s`;
}

/** "1 Dec 2026 21:43 UTC", as portal/format.py's human_datetime writes it. */
export function humanDateTime(value) {
  const d = value instanceof Date ? value : new Date(value);
  if (Number.isNaN(d.getTime())) return "—";
  const pad = (x) => String(x).padStart(2, "0");
  return `${d.getUTCDate()} ${MONTHS[d.getUTCMonth()]} ${d.getUTCFullYear()} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())} UTC`;
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
