// Browser features jsdom lacks and uPlot uses (media queries, canvas, resize observers),
// stubbed for component tests. Imported before the components under test.
import { vi } from "vitest";

if (!window.matchMedia) {
  window.matchMedia = (query: string) =>
    ({ matches: false, media: query, onchange: null, addListener() {}, removeListener() {}, addEventListener() {}, removeEventListener() {}, dispatchEvent: () => false }) as MediaQueryList;
}
if (!("ResizeObserver" in window)) {
  (window as unknown as { ResizeObserver: unknown }).ResizeObserver = class {
    observe() {}
    unobserve() {}
    disconnect() {}
  };
}
// A canvas context whose every method does nothing and whose measures are zero.
HTMLCanvasElement.prototype.getContext = vi.fn(
  () =>
    new Proxy({}, {
      get: (_t, name) => (name === "measureText" ? () => ({ width: 0 }) : name === "canvas" ? document.createElement("canvas") : () => undefined),
      set: () => true,
    }),
) as unknown as HTMLCanvasElement["getContext"];
if (!("Path2D" in window)) {
  (globalThis as unknown as { Path2D: unknown }).Path2D = class {
    moveTo() {}
    lineTo() {}
    arc() {}
    rect() {}
    closePath() {}
    bezierCurveTo() {}
    quadraticCurveTo() {}
    addPath() {}
  };
}
