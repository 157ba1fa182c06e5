// Typeset what pymdownx.arithmatex (generic mode) marks: \( … \) inline, \[ … \] displayed.
// Material for MkDocs swaps pages without reloading them, so every new page is typeset.
function typeset(body) {
  renderMathInElement(body, {
    delimiters: [
      { left: "\\(", right: "\\)", display: false },
      { left: "\\[", right: "\\]", display: true },
    ],
    throwOnError: false,
  });
}
if (typeof document$ !== "undefined") {
  document$.subscribe(({ body }) => typeset(body));
} else {
  document.addEventListener("DOMContentLoaded", () => typeset(document.body));
}
