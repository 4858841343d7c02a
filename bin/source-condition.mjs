// Module hook of a source checkout: resolve "aiorch" and its subpaths to the sources
// (the "aiorch-source" condition of package.json `exports`) rather than to dist/.
export async function resolve(specifier, context, next) {
  return next(specifier, { ...context, conditions: [...context.conditions, "aiorch-source"] });
}
