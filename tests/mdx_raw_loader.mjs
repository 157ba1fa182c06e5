// Node's module hooks for `import text from "!!raw-loader!./file"`: the file's text as the default export.
import { readFile } from "node:fs/promises";

const PREFIX = "!!raw-loader!";
let page;

export async function initialize(data) {
  page = data.page;
}

export async function resolve(specifier, context, nextResolve) {
  if (!specifier.startsWith(PREFIX)) return nextResolve(specifier, context);
  return { url: "raw:" + new URL(specifier.slice(PREFIX.length), page).href, shortCircuit: true };
}

export async function load(url, context, nextLoad) {
  if (!url.startsWith("raw:")) return nextLoad(url, context);
  const text = await readFile(new URL(url.slice("raw:".length)), "utf8");
  return { format: "module", source: `export default ${JSON.stringify(text)};`, shortCircuit: true };
}
