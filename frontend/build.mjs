// Build the page into src/skyfence/web/static/ (run by `make web`; the result is committed,
// so that running skyfence never needs npm or the internet).
import { build } from "esbuild";
import { copyFileSync, mkdirSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, "..", "src", "skyfence", "web", "static");
const nm = join(here, "node_modules");

rmSync(out, { recursive: true, force: true });
mkdirSync(join(out, "docs"), { recursive: true });

await build({
  entryPoints: [join(here, "src", "main.js")],
  bundle: true,
  format: "esm",
  target: "es2022",
  minify: true,
  legalComments: "linked",
  outfile: join(out, "app.js"),
  loader: { ".css": "css" },
  logLevel: "info",
});

// MapLibre runs its tile work in a worker loaded from a file next to the page's script.
copyFileSync(join(nm, "maplibre-gl", "dist", "maplibre-gl-csp-worker.js"), join(out, "maplibre-gl-csp-worker.js"));
copyFileSync(join(here, "src", "index.html"), join(out, "index.html"));
copyFileSync(join(here, "src", "icon.svg"), join(out, "icon.svg"));
// The API's documentation page (/docs) from swagger-ui-dist, served by skyfence itself.
for (const f of ["swagger-ui-bundle.js", "swagger-ui.css", "LICENSE"]) {
  copyFileSync(join(nm, "swagger-ui-dist", f), join(out, "docs", f));
}
for (const [pkg, file] of [["maplibre-gl", "LICENSE.txt"], ["@deck.gl/core", "LICENSE"]]) {
  try { copyFileSync(join(nm, pkg, file), join(out, `LICENSE.${pkg.replace(/[@/]/g, "_")}.txt`)); } catch { /* optional */ }
}
