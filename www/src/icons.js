// Small stroke icons, built as SVG elements (no emoji font needed, no HTML strings).
const SVG = "http://www.w3.org/2000/svg";

const PATHS = {
  thumb: "M3 10h4v11H3z M7 10l4-7c1.2 0 2.3 1 2 2.4L12.2 10H19a2 2 0 0 1 2 2.3l-1.3 7A2 2 0 0 1 17.7 21H7",
  comment: "M4 5h16v11H10l-5 4v-4H4z",
};

/** An icon: "up", "down" (a thumb) or "comment". */
export function icon(name) {
  const svg = document.createElementNS(SVG, "svg");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("aria-hidden", "true");
  svg.setAttribute("class", `icon icon-${name}`);
  const path = document.createElementNS(SVG, "path");
  path.setAttribute("d", name === "comment" ? PATHS.comment : PATHS.thumb);
  if (name === "down") path.setAttribute("transform", "rotate(180 12 12)");
  svg.append(path);
  return svg;
}
