/**
 * Finds every reference in a rendered report that would make the browser load something: the page's
 * Content-Security-Policy blocks such loads before Puppeteer's request interception sees them, so without
 * this check an external image or stylesheet simply goes missing from the PDF. Only `data:` URLs and
 * in-page `#fragment` references are inline.
 */

export interface ExternalReference {
  url: string;
  /** What refers to it: `<img src>`, `<img srcset>`, `CSS url()`, `CSS @import`, `CSS image-set()`. */
  what: string;
}

/** Attributes whose value is one URL that the browser loads (or, for links, navigates to). */
const URL_ATTRIBUTES = new Set([
  "src",
  "href",
  "xlink:href",
  "poster",
  "background",
  "action",
  "formaction",
  "manifest",
  "ping",
]);
/** Attributes holding comma-separated "url descriptor" candidates. */
const SRCSET_ATTRIBUTES = new Set(["srcset", "imagesrcset"]);
/** Attributes whose value is CSS or may hold a CSS url(): style, and SVG presentation attributes. */
const CSS_ATTRIBUTES = new Set([
  "style",
  "fill",
  "stroke",
  "clip-path",
  "mask",
  "filter",
  "cursor",
  "marker-start",
  "marker-mid",
  "marker-end",
]);

function isInline(url: string): boolean {
  const u = url.trim();
  return u === "" || u.startsWith("#") || /^data:/i.test(u);
}

const NAMED_ENTITIES: Record<string, string> = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'" };

/** Decodes the character references that can hide a URL's characters in an attribute value. */
export function decodeEntities(s: string): string {
  return s.replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (whole, ref: string) => {
    if (ref[0] === "#") {
      const code =
        ref[1] === "x" || ref[1] === "X" ? Number.parseInt(ref.slice(2), 16) : Number(ref.slice(1));
      return Number.isFinite(code) ? String.fromCodePoint(code) : whole;
    }
    return NAMED_ENTITIES[ref.toLowerCase()] ?? whole;
  });
}

/** The string arguments of every image-set(…) (they are URLs without url()). */
function imageSetStrings(css: string): string[] {
  const out: string[] = [];
  const start = /(?:-webkit-)?image-set\(/gi;
  for (let m = start.exec(css); m !== null; m = start.exec(css)) {
    let depth = 1;
    let i = m.index + m[0].length;
    while (i < css.length && depth > 0) {
      const c = css[i];
      if (c === "(") depth++;
      else if (c === ")") depth--;
      else if (c === '"' || c === "'") {
        const end = css.indexOf(c, i + 1);
        if (end < 0) break;
        // A string directly inside image-set( is a URL; one inside url( is found by the url() scan.
        if (depth === 1) out.push(css.slice(i + 1, end));
        i = end;
      }
      i++;
    }
  }
  return out;
}

/** url(…), @import "…" / @import url(…) and image-set("…") references in a piece of CSS. */
export function cssReferences(css: string): ExternalReference[] {
  const text = css.replace(/\/\*[\s\S]*?\*\//g, "");
  const out: ExternalReference[] = [];
  const pattern =
    /@import\s+(?:url\(\s*(["']?)([^"')]*)\1\s*\)|(["'])([^"']*)\3)|url\(\s*(?:"([^"]*)"|'([^']*)'|([^)\s]*))\s*\)/gi;
  for (const m of text.matchAll(pattern)) {
    if (m[2] !== undefined || m[4] !== undefined) {
      out.push({ url: (m[2] ?? m[4]).trim(), what: "CSS @import" });
    } else {
      out.push({ url: (m[5] ?? m[6] ?? m[7] ?? "").trim(), what: "CSS url()" });
    }
  }
  for (const url of imageSetStrings(text)) out.push({ url: url.trim(), what: "CSS image-set()" });
  return out;
}

/**
 * The URLs of a srcset, split as the HTML standard does: a URL is a run of non-spaces (so the commas in a
 * data: URL stay in it), and its descriptors ("2x", "640w") run to the next comma.
 */
export function srcsetUrls(srcset: string): string[] {
  const urls: string[] = [];
  let i = 0;
  while (i < srcset.length) {
    while (i < srcset.length && /[\s,]/.test(srcset[i])) i++;
    const start = i;
    while (i < srcset.length && !/\s/.test(srcset[i])) i++;
    let url = srcset.slice(start, i);
    if (url === "") break;
    if (url.endsWith(",")) url = url.replace(/,+$/, "");
    else while (i < srcset.length && srcset[i] !== ",") i++;
    urls.push(url);
  }
  return urls;
}

const ATTRIBUTE = /([^\s"'>/=]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'=<>`]+)))?/g;

function attributeReferences(tag: string, attributes: string): ExternalReference[] {
  const out: ExternalReference[] = [];
  for (const m of attributes.matchAll(ATTRIBUTE)) {
    const name = m[1].toLowerCase();
    const raw = m[2] ?? m[3] ?? m[4];
    if (raw === undefined) continue;
    const value = decodeEntities(raw);
    if (URL_ATTRIBUTES.has(name) || (name === "data" && tag === "object")) {
      out.push({ url: value.trim(), what: `<${tag} ${name}>` });
    } else if (SRCSET_ATTRIBUTES.has(name)) {
      for (const url of srcsetUrls(value)) out.push({ url, what: `<${tag} ${name}>` });
    }
    if (CSS_ATTRIBUTES.has(name)) out.push(...cssReferences(value));
  }
  return out;
}

/**
 * Every non-inline reference in an HTML document, in document order: URL attributes of any element,
 * srcset candidates, CSS in <style> elements and style (and SVG presentation) attributes. Text, comments
 * and <script> bodies are not references (inline scripts never run: the page's CSP forbids them).
 */
export function externalReferences(html: string): ExternalReference[] {
  const out: ExternalReference[] = [];
  const lower = html.toLowerCase();
  const token = /<!--[\s\S]*?-->|<([a-zA-Z][^\s/>]*)((?:[^>"']|"[^"]*"|'[^']*')*)>/g;
  for (let m = token.exec(html); m !== null; m = token.exec(html)) {
    if (m[1] === undefined) continue; // a comment
    const tag = m[1].toLowerCase();
    out.push(...attributeReferences(tag, m[2]));
    if (tag === "style" || tag === "script" || tag === "textarea" || tag === "title") {
      // Raw text up to the closing tag: not markup, so not scanned for tags.
      const close = lower.indexOf(`</${tag}`, token.lastIndex);
      const end = close < 0 ? html.length : close;
      if (tag === "style") out.push(...cssReferences(html.slice(token.lastIndex, end)));
      token.lastIndex = end;
    }
  }
  return out.filter((ref) => !isInline(ref.url));
}

/** `file:line:column` of the first occurrence of `needle` in one of the sources, in the order given. */
export function locateIn(sources: Iterable<[string, string]>, needles: string[]): string | undefined {
  for (const [file, source] of sources) {
    for (const needle of needles) {
      if (needle === "") continue;
      const at = source.indexOf(needle);
      if (at < 0) continue;
      const before = source.slice(0, at);
      const line = before.split("\n").length;
      const column = at - before.lastIndexOf("\n");
      return `${file}:${line}:${column}`;
    }
  }
  return undefined;
}
