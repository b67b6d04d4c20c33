// Copy the third-party browser files otodesk serves from node_modules into
// static/vendor/. Run after `npm ci` (the Makefile does both). Each entry is
// [package-relative source, destination under static/vendor/]; the list is
// the whole of what the pages load from npm, so keep it short.
import { copyFileSync, mkdirSync, existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { COMPRESSIBLE, precompress } from "./compress.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, "..");
const modules = join(root, "node_modules");
const vendor = join(here, "vendor");

const FILES = [
  // The supervisor wall's line chart.
  ["uplot/dist/uPlot.iife.min.js", "uplot/uPlot.iife.min.js"],
  ["uplot/dist/uPlot.min.css", "uplot/uPlot.min.css"],
  ["uplot/LICENSE", "uplot/LICENSE"],
  // Co-browse: the recorder (fetched by the widget only after the customer's consent)
  // and the live replayer of the desk. The umd files define globals rrwebRecord/rrwebReplay.
  ["@rrweb/record/umd/record.min.js", "rrweb/record.min.js"],
  ["@rrweb/replay/umd/replay.min.js", "rrweb/replay.min.js"],
  ["@rrweb/replay/dist/style.min.css", "rrweb/replay.min.css"],
  // Pushed documents: pdf.js (legacy build, for older browsers too), fetched only when a PDF is opened.
  ["pdfjs-dist/legacy/build/pdf.min.mjs", "pdfjs/pdf.min.mjs"],
  ["pdfjs-dist/legacy/build/pdf.worker.min.mjs", "pdfjs/pdf.worker.min.mjs"],
  ["pdfjs-dist/LICENSE", "pdfjs/LICENSE"],
];

let missing = 0;
for (const [source, destination] of FILES) {
  const from = join(modules, source);
  const to = join(vendor, destination);
  if (!existsSync(from)) {
    console.error(`copy-vendor: missing ${from} (did "npm ci" run?)`);
    missing += 1;
    continue;
  }
  mkdirSync(dirname(to), { recursive: true });
  copyFileSync(from, to);
  if (COMPRESSIBLE.test(to)) precompress(to); // served as .br / .gz (desktop/web/assets.py)
  const parts = source.split("/");
  const name = parts[0].startsWith("@") ? parts.slice(0, 2).join("/") : parts[0];
  const pkg = JSON.parse(readFileSync(join(modules, name, "package.json"), "utf8"));
  console.log(`copy-vendor: ${pkg.name}@${pkg.version} ${source} -> static/vendor/${destination}`);
}
process.exit(missing ? 1 : 0);
