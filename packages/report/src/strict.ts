import type Handlebars from "handlebars";

/**
 * Strict variables for Handlebars. Its own `strict` option only checks plain mustaches: helper arguments
 * (`{{num x}}`, `{{#each xs}}`, `{{#if x}}`) stay lenient, and a missing parent of a nested path crashes
 * with a TypeError that names nothing. So templates are compiled non-strict and this AST pass wraps every
 * value lookup as `(__strict path "path")`; the helper throws MissingVariableError naming the full path.
 * `null` counts as present (data says "no value" explicitly); only `undefined` is missing.
 */

export const STRICT_HELPER = "__strict";

/**
 * Hash key added to every call of a built-in partial: its position ("line:column", column 0-based) in the
 * calling file, so an error raised inside the built-in (bad TeX in an equation) can name the caller's line.
 */
export const SITE_KEY = "__site";

export class MissingVariableError extends Error {
  override name = "MissingVariableError";
  constructor(
    readonly variable: string,
    readonly line: number | undefined,
    readonly column: number | undefined,
  ) {
    super(`missing variable "${variable}"`);
  }
}

type Node = hbs.AST.Node;
type Expr = hbs.AST.Expression;
type Loc = hbs.AST.SourceLocation;

function strictCall(path: hbs.AST.PathExpression): hbs.AST.SubExpression {
  const loc: Loc = path.loc;
  const helper = {
    type: "PathExpression",
    data: false,
    depth: 0,
    parts: [STRICT_HELPER],
    original: STRICT_HELPER,
    loc,
  } as hbs.AST.PathExpression;
  const name = {
    type: "StringLiteral",
    value: path.original,
    original: path.original,
    loc,
  } as hbs.AST.StringLiteral;
  return {
    type: "SubExpression",
    path: helper,
    params: [path, name],
    hash: undefined,
    loc,
  } as unknown as hbs.AST.SubExpression;
}

function wrapExpr(expr: Expr): Expr {
  if (expr.type === "PathExpression") return strictCall(expr as hbs.AST.PathExpression);
  if (expr.type === "SubExpression") wrapCall(expr as hbs.AST.SubExpression);
  return expr;
}

/** Wraps the arguments of a helper/partial call (never its name). */
function wrapCall(call: { params: Expr[]; hash?: hbs.AST.Hash }): void {
  call.params = call.params.map(wrapExpr);
  for (const pair of call.hash?.pairs ?? []) pair.value = wrapExpr(pair.value);
}

type PartialCall = { name: Expr; params: Expr[]; hash?: hbs.AST.Hash; loc: Loc };

function addSite(call: PartialCall, isBuiltinPartial: (name: string) => boolean): void {
  if (
    call.name.type !== "PathExpression" ||
    !isBuiltinPartial((call.name as hbs.AST.PathExpression).original)
  ) {
    return;
  }
  const loc = call.loc;
  const value = `${loc.start.line}:${loc.start.column}`;
  const pair = {
    type: "HashPair",
    key: SITE_KEY,
    value: { type: "StringLiteral", value, original: value, loc } as hbs.AST.StringLiteral,
    loc,
  } as hbs.AST.HashPair;
  if (call.hash) call.hash.pairs.push(pair);
  else call.hash = { type: "Hash", pairs: [pair], loc } as hbs.AST.Hash;
}

/**
 * Rewrites `ast` in place. `isHelper(name)` says whether a bare `{{name}}` is a helper call; calls of the
 * partials `isBuiltinPartial` accepts get their position as a {@link SITE_KEY} hash argument.
 */
export function makeStrict(
  ast: hbs.AST.Program,
  isHelper: (name: string) => boolean,
  isBuiltinPartial: (name: string) => boolean = () => false,
): hbs.AST.Program {
  const visit = (node: Node | undefined | null): void => {
    if (!node) return;
    switch (node.type) {
      case "Program":
        for (const statement of (node as hbs.AST.Program).body) visit(statement);
        return;
      case "MustacheStatement": {
        const m = node as hbs.AST.MustacheStatement;
        const path = m.path as Expr;
        const bare = m.params.length === 0 && !(m.hash?.pairs.length ?? 0);
        if (path.type === "PathExpression") {
          const p = path as hbs.AST.PathExpression;
          const helperName = !p.data && p.depth === 0 && p.parts.length === 1 && isHelper(p.original);
          if (bare && !helperName) {
            // {{a.b}} becomes {{__strict a.b "a.b"}}: a helper call, escaping unchanged.
            (m as { path: Expr }).path = strictCall(p).path;
            m.params = [p, strictCall(p).params[1] as Expr];
            return;
          }
        }
        wrapCall(m);
        return;
      }
      case "BlockStatement": {
        const b = node as hbs.AST.BlockStatement;
        wrapCall(b);
        visit(b.program);
        visit(b.inverse);
        return;
      }
      case "PartialStatement":
        wrapCall(node as unknown as PartialCall);
        addSite(node as unknown as PartialCall, isBuiltinPartial);
        return;
      case "PartialBlockStatement": {
        const pb = node as unknown as PartialCall & { program: hbs.AST.Program };
        wrapCall(pb);
        addSite(pb, isBuiltinPartial);
        visit(pb.program);
        return;
      }
      default:
        return;
    }
  };
  visit(ast);
  return ast;
}

/** The `__strict` helper: returns the value, or throws when the lookup produced `undefined`. */
export function strictHelper(value: unknown, name: string, options: Handlebars.HelperOptions): unknown {
  if (value === undefined) {
    const loc = (options as { loc?: Loc }).loc;
    throw new MissingVariableError(name, loc?.start.line, loc?.start.column);
  }
  return value;
}
