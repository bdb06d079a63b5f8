// prepublishOnly of every package: `npm publish` copies package.json as it is, so its `workspace:*` ranges
// would reach the registry and no install could resolve them; pnpm rewrites them to the real versions.
const agent = process.env.npm_config_user_agent ?? "";
if (!agent.startsWith("pnpm/")) {
  console.error(
    `publish with pnpm (pnpm -r publish, see "Releasing" in the root README), not ${agent.split(" ")[0] || "this client"}: ` +
      "only pnpm replaces the workspace:* dependency ranges with published versions",
  );
  process.exit(1);
}
