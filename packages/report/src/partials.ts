/**
 * Built-in partials. They are compiled non-strict (their optional hash arguments may be absent) and check
 * their required arguments with `need`. Content passed as a partial block belongs to the caller's
 * template and stays strict; errors raised inside built-in partials are reported against the caller.
 */
export const BUILTIN_PARTIALS: Record<string, string> = {
  // {{#> section id="q1" title="Question 1" level=2}} ... {{/section}}
  section: `<section class="section level-{{default level 2}}" id="{{need id "section" "id"}}">
{{heading (default level 2) (need title "section" "title")}}
{{> @partial-block}}
</section>`,

  // {{#> figure id="fig-loss" caption="Training loss"}} {{chart spec}} {{/figure}}
  figure: `<figure class="figure{{#if wide}} wide{{/if}}" id="{{need id "figure" "id"}}">
<div class="figure-body">{{> @partial-block}}</div>
<figcaption><span class="caption-label">Figure {{number "figure" id}}.</span> {{need caption "figure" "caption"}}</figcaption>
</figure>`,

  // {{#> table id="tab-x" caption="..."}} <thead>…</thead><tbody>…</tbody> {{/table}}
  table: `<div class="table-wrap" id="{{need id "table" "id"}}">
<div class="table-caption"><span class="caption-label">Table {{number "table" id}}.</span> {{need caption "table" "caption"}}</div>
<table class="numbered">
{{> @partial-block}}
</table>
</div>`,

  // {{#> equation id="eq-1"}} \\frac{a}{b} {{/equation}}: display math numbered (N) at the right margin.
  equation: `<div class="equation" id="{{need id "equation" "id"}}">
<div class="equation-body">{{#texd}}{{> @partial-block}}{{/texd}}</div>
<div class="equation-number">({{number "equation" id}})</div>
</div>`,

  // {{> verification-table id="tab-q1" caption="..." rows=checks}}; each row: quantity (TeX), shape,
  // analytical[] and numerical[] (the first few entries), maxRelError, tolerance.
  "verification-table": `<div class="table-wrap verification" id="{{need id "verification-table" "id"}}">
<div class="table-caption"><span class="caption-label">Table {{number "table" id}}.</span> {{need caption "verification-table" "caption"}}</div>
<table class="numbered">
<thead><tr><th>Quantity</th><th>Shape</th><th>Analytical (first entries)</th><th>Numerical (first entries)</th><th>Max rel. error</th><th>Tolerance</th><th>Result</th></tr></thead>
<tbody>
{{#each (need rows "verification-table" "rows")}}
<tr>
<td>{{tex (need quantity "verification row" "quantity")}}</td>
<td class="shape">{{need shape "verification row" "shape"}}</td>
<td class="num">{{#each (need analytical "verification row" "analytical")}}{{general this 6}}{{#unless @last}}<br>{{/unless}}{{/each}}</td>
<td class="num">{{#each (need numerical "verification row" "numerical")}}{{general this 6}}{{#unless @last}}<br>{{/unless}}{{/each}}</td>
<td class="num">{{sci (need maxRelError "verification row" "maxRelError") 1}}</td>
<td class="num">{{sci (need tolerance "verification row" "tolerance") 0}}</td>
<td class="result">{{#if (lte maxRelError tolerance)}}<span class="pass">✓ pass</span>{{else}}<span class="fail">✗ FAIL</span>{{/if}}</td>
</tr>
{{/each}}
</tbody>
</table>
</div>`,
};
