// Precompressed copies of a static file, written next to it as FILE.br and
// FILE.gz at set-up: the server (desktop/web/assets.py) sends the one the
// browser accepts, so no byte is compressed per request. Node's zlib does both.
import { readFileSync, writeFileSync } from "node:fs";
import { brotliCompressSync, constants, gzipSync } from "node:zlib";

/** File types worth compressing (images and fonts are compressed already). */
export const COMPRESSIBLE = /\.(m?js|css|json|svg|html|map|txt)$/;

/** Write `file`.br (quality 11) and `file`.gz (level 9); returns their sizes. */
export function precompress(file) {
  const data = readFileSync(file);
  const br = brotliCompressSync(data, {
    params: { [constants.BROTLI_PARAM_QUALITY]: 11, [constants.BROTLI_PARAM_SIZE_HINT]: data.length },
  });
  const gz = gzipSync(data, { level: 9 });
  writeFileSync(`${file}.br`, br);
  writeFileSync(`${file}.gz`, gz);
  return { raw: data.length, br: br.length, gz: gz.length };
}
