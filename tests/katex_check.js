// Parses formulas with real KaTeX, as a docs site would render them.
// Reads a JSON list of {"tex": "...", "display": true|false} on standard input and
// writes {"checked": N, "failures": [{"tex", "display", "error"}]} on standard output.
"use strict";
const katex = require("katex");

let input = "";
process.stdin.setEncoding("utf8");
process.stdin.on("data", (chunk) => { input += chunk; });
process.stdin.on("end", () => {
  const formulas = JSON.parse(input);
  const failures = [];
  for (const { tex, display } of formulas) {
    try {
      // strict: "error" turns KaTeX's warnings (LaTeX it accepts but LaTeX would not) into failures too.
      katex.renderToString(tex, { throwOnError: true, displayMode: display, strict: "error" });
    } catch (error) {
      failures.push({ tex, display, error: String(error.message) });
    }
  }
  process.stdout.write(JSON.stringify({ checked: formulas.length, failures }));
});
