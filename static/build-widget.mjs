// Build the customer widget for the wire, at set-up (the Makefile runs it after
// `npm ci`). Our code stays plain ES modules in static/widget and static/common
// (served as they are when no fresh build exists); this makes of them:
//
//   static/dist/widget/<v>/widget.js       what a page loads after the loader: one request
//   static/dist/widget/<v>/<lazy>.js       the panel, co-browse, documents, voice, My data,
//                                          and each language's messages: each one file,
//                                          fetched only when needed (one language a visitor)
//   static/dist/widget.js                  the loader, pointing at the versioned bundle
//   static/dist/manifest.json              {loader, bundle, sources}: `sources` is the
//                                          SHA-256 of the files built from, so the server
//                                          serves a build only while it matches them
//
// each with .br and .gz copies. <v> is the start of `sources`: every file of a build shares
// one versioned folder, cached for good (immutable). Not a hash a file: the bundle named its
// lazy files' hashes, whose random letters compress badly, so a change to a lazy file alone
// moved the page's first load by up to 31 B brotli (tests/e2e/test_widget_weight_browser.py).
import { createHash } from "node:crypto";
import { readdirSync, readFileSync, rmSync, writeFileSync, mkdirSync } from "node:fs";
import { basename, dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";
import { precompress } from "./compress.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, "dist");
const widgetDir = join(here, "widget");
/** Loaded by widget.js with import() only when needed: kept out of the first bundle. */
const LAZY = ["ui", "kb", "cobrowse", "documents", "voice", "mydata", "aftercall", "messages-en", "messages-zh-CN", "messages-zh-TW"];
/** The directories built from (the server hashes the same files: desktop/web/assets.py). */
const SOURCE_DIRS = ["widget", "common"];

const options = {
  bundle: true, format: "esm", minify: true, target: "es2020", legalComments: "none",
  charset: "utf8", logLevel: "warning", metafile: true, write: true, entryNames: "[name]",
};

/**
 * The stylesheets our modules hold as text (`export const css = \`...\``, `launcherCss`),
 * minified as CSS: the launcher's is in every page's first load, where each byte counts
 * (tests/e2e/test_widget_weight_browser.py). The sources keep them readable.
 */
const STYLESHEET = /(export const (?:css|launcherCss) = `)([^`$]*)(`)/g;
const minifiedCss = {
  name: "minified-css",
  setup(b) {
    b.onLoad({ filter: /[\\/]widget[\\/](shell|styles)\.js$/ }, async (args) => {
      const source = readFileSync(args.path, "utf8");
      let contents = source;
      for (const [whole, start, text, end] of source.matchAll(STYLESHEET)) {
        const { code } = await esbuild.transform(text, { loader: "css", minify: true, charset: "utf8" });
        contents = contents.replace(whole, `${start}${code.trim()}${end}`);
      }
      return { contents, loader: "js" };
    });
  },
};

/** SHA-256 over the sources' relative paths and bytes, in a stable order. */
export function sourceDigest() {
  const hash = createHash("sha256");
  for (const dir of SOURCE_DIRS) {
    for (const name of readdirSync(join(here, dir)).filter((n) => n.endsWith(".js")).sort()) {
      hash.update(`${dir}/${name}\0`).update(readFileSync(join(here, dir, name))).update("\0");
    }
  }
  return hash.digest("hex");
}

function outputName(result, entry) {
  const [file] = Object.entries(result.metafile.outputs).find(([, o]) => o.entryPoint?.endsWith(`widget/${entry}.js`));
  return basename(file);
}

async function build() {
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  const sources = sourceDigest();
  const version = sources.slice(0, 12);
  const outdir = join(out, "widget", version);

  // 1. The lazy modules, each a whole file of its own (no shared chunk: one request each).
  const lazy = await esbuild.build({ ...options, outdir, entryPoints: LAZY.map((name) => join(widgetDir, `${name}.js`)),
    plugins: [minifiedCss] });
  const lazyNames = new Set(LAZY.map((name) => `./${name}.js`));

  // 2. The widget, its import("./cobrowse.js") left to the file of that name beside it.
  const external = {
    name: "lazy-beside",
    setup(b) {
      b.onResolve({ filter: /^\.\/[\w-]+\.js$/ }, (args) => (args.kind === "dynamic-import" && lazyNames.has(args.path)
        ? { path: args.path, external: true } : undefined));
    },
  };
  const main = await esbuild.build({ ...options, outdir, entryPoints: [join(widgetDir, "widget.js")], plugins: [external, minifiedCss] });
  const bundle = `/static/dist/widget/${version}/${outputName(main, "widget")}`;

  // 3. The loader (served as /widget.js), aimed at the bundle.
  const loaderSource = readFileSync(join(widgetDir, "loader.js"), "utf8");
  const marker = '"/static/widget/widget.js"';
  if (!loaderSource.includes(marker)) throw new Error(`loader.js lost its ${marker}`);
  const loader = await esbuild.transform(loaderSource.replace(marker, JSON.stringify(bundle)),
    { minify: true, target: "es5", legalComments: "none", charset: "utf8" });
  writeFileSync(join(out, "widget.js"), loader.code);

  writeFileSync(join(out, "manifest.json"), JSON.stringify({ loader: "widget.js", bundle, sources }, null, 1));
  const files = [join(out, "widget.js"), ...Object.keys(lazy.metafile.outputs), ...Object.keys(main.metafile.outputs)]
    .map((file) => resolve(file)); // metafile paths are relative to the working directory
  for (const file of files) {
    const size = precompress(file);
    console.log(`build-widget: ${relative(here, file)} ${size.raw} B, ${size.br} B brotli, ${size.gz} B gzip`);
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await build();
