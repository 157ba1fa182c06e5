// An MDX page built as Docusaurus builds it: compiled by MDX, its `!!raw-loader!`
// imports resolved to the file's text (what webpack's raw-loader does), rendered
// by React to static HTML, which this prints.  Usage: node mdx_page.mjs PAGE.mdx
import { readFile } from "node:fs/promises";
import { register } from "node:module";
import { pathToFileURL } from "node:url";

const page = process.argv[2];
// MDX leaves a specifier that is not a relative path as it is, so the hooks resolve it against the page.
register("./mdx_raw_loader.mjs", import.meta.url, { data: { page: pathToFileURL(page).href } });

const { evaluate } = await import("@mdx-js/mdx");
const runtime = await import("react/jsx-runtime");
const { createElement } = await import("react");
const { renderToStaticMarkup } = await import("react-dom/server");

const { default: Content } = await evaluate(await readFile(page, "utf8"), { ...runtime, baseUrl: pathToFileURL(page) });
process.stdout.write(renderToStaticMarkup(createElement(Content)));
