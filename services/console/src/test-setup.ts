// Vitest's setup: each test starts from an empty document, and jsdom gets the browser APIs
// it lacks that uPlot uses (media queries, resize observers, a canvas that draws nothing,
// Path2D). Only browser APIs are stubbed, never Switchboard's.
import { afterEach } from "vitest";
import { cleanup } from "@testing-library/react";

afterEach(cleanup);

const noop = () => {};

if (!window.matchMedia) {
  window.matchMedia = (query: string) =>
    ({ matches: false, media: query, onchange: null, addListener: noop, removeListener: noop, addEventListener: noop, removeEventListener: noop, dispatchEvent: () => false }) as MediaQueryList;
}

if (!("ResizeObserver" in window)) {
  (window as unknown as { ResizeObserver: unknown }).ResizeObserver = class {
    observe = noop;
    unobserve = noop;
    disconnect = noop;
  };
}

// A 2D context that accepts every drawing call, keeps what is set on it, and measures text
// as empty.
HTMLCanvasElement.prototype.getContext = function (this: HTMLCanvasElement) {
  const canvas = this;
  return new Proxy({} as Record<string | symbol, unknown>, {
    get(target, key) {
      if (key in target) return target[key];
      if (key === "canvas") return canvas;
      if (key === "measureText") return () => ({ width: 0 });
      return noop;
    },
    set(target, key, value) {
      target[key] = value;
      return true;
    },
  });
} as unknown as HTMLCanvasElement["getContext"];

if (!("Path2D" in window)) {
  (window as unknown as { Path2D: unknown }).Path2D = class {
    moveTo = noop;
    lineTo = noop;
    rect = noop;
    arc = noop;
    closePath = noop;
    bezierCurveTo = noop;
    quadraticCurveTo = noop;
    addPath = noop;
  };
}
