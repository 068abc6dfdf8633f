// Bundles each peer's entry for the browser into dist/, next to the page.
import { copyFileSync, mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";

const here = dirname(fileURLToPath(import.meta.url));
const dist = join(here, "dist");
mkdirSync(dist, { recursive: true });
await esbuild.build({
  entryPoints: { uppy: join(here, "src/uppy.js"), sdk: join(here, "src/sdk.js") },
  bundle: true,
  format: "esm",
  platform: "browser",
  target: "chrome120",
  minify: true,
  sourcemap: false,
  outdir: dist,
  define: { global: "globalThis", "process.env.NODE_ENV": '"production"' },
  logLevel: "info",
});
copyFileSync(join(here, "src/index.html"), join(dist, "index.html"));
