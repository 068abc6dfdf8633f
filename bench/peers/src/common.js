// Shared by the peer entries: the page's settings and the result bench/peers_bench.py reads.
//
// window.benchResult = {partsDoneMs, completeDoneMs, error, parts} (performance.now marks):
// partsDoneMs when the last part's response was in, completeDoneMs when complete returned.
// The test sets window.benchStart = performance.now() just before it picks the file.

const q = new URLSearchParams(location.search);
export const config = {
  s3: q.get("s3"), // moto, for every part PUT (and ListParts)
  shim: q.get("shim"), // the bench's CORS shim in front of moto, for POST and DELETE only
  bucket: q.get("bucket"),
  region: "us-east-1",
  accessKeyId: "testing",
  secretAccessKey: "testing",
};

export const MIB = 1024 * 1024;

export function onFile(start) {
  const input = document.getElementById("file");
  window.benchResult = null;
  window.benchReady = true;
  input.addEventListener("change", async () => {
    const file = input.files[0];
    const marks = { partsDoneMs: null, completeDoneMs: null, error: null, parts: 0 };
    try {
      await start(file, marks);
      marks.completeDoneMs = performance.now();
    } catch (err) {
      marks.error = String(err?.stack || err);
    }
    document.getElementById("out").textContent = JSON.stringify(marks, null, 2);
    window.benchResult = marks;
  });
}
