// Module resolve hook for the tests: the page loads ../vendor/<package>/<file> from the
// package's dist folder in node_modules (STATICFILES_DIRS in portal/settings.py); so do they.

const VENDOR = /\/vendor\/([^/]+)\/([^/]+)$/;

export async function resolve(specifier, context, next) {
  const m = VENDOR.exec(specifier);
  if (!m) return next(specifier, context);
  return { url: new URL(`../../../../node_modules/${m[1]}/dist/${m[2]}`, import.meta.url).href, shortCircuit: true };
}
