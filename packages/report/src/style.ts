/**
 * Print stylesheet. Page size and margins come from Puppeteer (so the footer has room); fonts are those of a
 * bare Debian with fonts-dejavu-core and fonts-liberation (.ci/run installs them).
 */
export const PRINT_CSS = `
@page { size: A4; }
:root { --text: #111; --muted: #555; --rule: #bbb; }
html { font-family: "DejaVu Serif", "Liberation Serif", serif; font-size: 10pt; line-height: 1.42; color: var(--text); }
body { margin: 0; -webkit-print-color-adjust: exact; print-color-adjust: exact; }
h1, h2, h3, h4 { font-family: "DejaVu Sans", "Liberation Sans", sans-serif; font-weight: bold; line-height: 1.2;
  break-after: avoid; page-break-after: avoid; margin: 1.1em 0 0.45em; }
h1 { font-size: 17pt; margin-top: 0; }
h2 { font-size: 13.5pt; border-bottom: 1px solid var(--rule); padding-bottom: 2px; }
h3 { font-size: 11.5pt; }
h4 { font-size: 10.5pt; }
p { margin: 0.45em 0; text-align: justify; hyphens: auto; orphans: 3; widows: 3; }
ul, ol { margin: 0.4em 0; padding-left: 1.6em; }
code { font-family: "DejaVu Sans Mono", "Liberation Mono", monospace; font-size: 0.9em; }
.muted { color: var(--muted); }
.figure { margin: 0.9em 0; break-inside: avoid; page-break-inside: avoid; }
.figure-body { text-align: center; }
.chart svg { max-width: 100%; height: auto; }
figcaption, .table-caption { font-size: 9pt; line-height: 1.35; text-align: left; color: #222; }
figcaption { margin-top: 0.35em; }
.table-caption { margin-bottom: 0.35em; break-after: avoid; page-break-after: avoid; }
.caption-label { font-weight: bold; }
.side-by-side { display: flex; gap: 5mm; align-items: flex-start; break-inside: avoid; }
.side-by-side > .figure { flex: 1 1 0; min-width: 0; margin: 0.5em 0; }
/* A table moves to the next page as a whole when it fits on one; longer ones break between rows only. */
.table-wrap { margin: 0.9em 0; break-inside: avoid; page-break-inside: avoid; }
table { border-collapse: collapse; margin: 0 auto; font-size: 8.8pt; line-height: 1.3; }
thead { display: table-header-group; }
tr, th, td { break-inside: avoid; page-break-inside: avoid; }
th { font-family: "DejaVu Sans", "Liberation Sans", sans-serif; font-weight: bold; font-size: 8.3pt;
  border-top: 1.2px solid #333; border-bottom: 1px solid #333; padding: 3px 6px; text-align: left; vertical-align: bottom; }
td { border-bottom: 0.6px solid #ddd; padding: 2.5px 6px; vertical-align: top; }
tbody tr:last-child td { border-bottom: 1.2px solid #333; }
td.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
th.num { text-align: right; }
.verification td { vertical-align: middle; }
td.result { white-space: nowrap; }
.pass { color: #146c2e; }
.fail { color: #b00020; font-weight: bold; }
.equation { display: flex; align-items: center; break-inside: avoid; }
.equation-body { flex: 1 1 auto; min-width: 0; }
.equation-number { flex: 0 0 auto; padding-left: 1em; }
.katex { font-size: 1.08em; }
.katex-display { margin: 0.5em 0; }
.katex-display > .katex { max-width: 100%; }
.note { border-left: 3px solid var(--rule); padding: 0.1em 0 0.1em 0.8em; color: #333; }
.title-block { margin-bottom: 1.2em; }
.title-block .subtitle { color: var(--muted); margin-top: 0.2em; }
.page-break { break-before: page; page-break-before: always; }
`;
