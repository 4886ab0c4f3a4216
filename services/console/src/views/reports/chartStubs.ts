// jsdom has no canvas, matchMedia or ResizeObserver, which uPlot needs to draw; tests of
// views with charts import this first. Only browser APIs are stubbed, never Switchboard's.
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

// A 2D context that accepts every drawing call and measures text as empty.
const context = new Proxy({} as Record<string | symbol, unknown>, {
  get(target, key) {
    if (key in target) return target[key];
    if (key === "measureText") return () => ({ width: 0 });
    return noop;
  },
  set(target, key, value) {
    target[key] = value;
    return true;
  },
});
HTMLCanvasElement.prototype.getContext = (() => context) as unknown as HTMLCanvasElement["getContext"];

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

export {};
