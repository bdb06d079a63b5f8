import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import katex from "katex";

/**
 * TeX to HTML with KaTeX. throwOnError: a typo must fail the build, not print red TeX into a PDF;
 * trust: false: no \href/\url/\includegraphics, so TeX can never pull in anything from outside.
 * output "html" only: the hidden MathML copy would double every formula in the PDF's text layer.
 */
export function renderTex(tex: string, displayMode: boolean): string {
  return katex.renderToString(tex, {
    displayMode,
    throwOnError: true,
    trust: false,
    strict: "error",
    output: "html",
  });
}

let cachedCss: string | undefined;

/**
 * KaTeX's stylesheet with every font inlined as a woff2 data: URL, so the page needs no file or network
 * access to typeset math (the woff/ttf fallbacks are dropped: Chromium reads woff2).
 */
export function katexCss(): string {
  if (cachedCss !== undefined) return cachedCss;
  const require = createRequire(import.meta.url);
  const cssPath = require.resolve("katex/dist/katex.min.css");
  const css = readFileSync(cssPath, "utf8");
  const fontDir = join(dirname(cssPath), "fonts");
  const inlined = css.replace(/src:([^;}]*)/g, (_whole, sources: string) => {
    const woff2 = /url\((fonts\/[^)]+\.woff2)\)/.exec(sources);
    if (!woff2)
      throw new Error(`katex.min.css: a @font-face without a woff2 source: ${sources.slice(0, 80)}`);
    const data = readFileSync(join(fontDir, woff2[1].slice("fonts/".length))).toString("base64");
    return `src:url(data:font/woff2;base64,${data}) format("woff2")`;
  });
  if (/url\((?!data:)/.test(inlined)) throw new Error("katex.min.css still references a file after inlining");
  cachedCss = inlined;
  return inlined;
}
