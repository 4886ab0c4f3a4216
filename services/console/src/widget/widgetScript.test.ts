// widget.js as a site runs it: the frame it adds, and the only messages it obeys.
import { afterEach, describe, expect, it } from "vitest";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";

// Vitest runs in the console's folder (where vite.config.ts is).
const source = readFileSync(resolve(process.cwd(), "public/widget.js"), "utf8");

function embed(): HTMLIFrameElement {
  const tag = document.createElement("script");
  tag.src = "https://chat.example.com/widget.js";
  tag.dataset.widgetKey = "wk_1";
  tag.dataset.businessUnit = "sales & support";
  document.head.appendChild(tag);
  new Function(source)();
  return document.querySelector('iframe[title="Chat"]') as HTMLIFrameElement;
}

function tell(frame: HTMLIFrameElement, origin: string, data: unknown) {
  window.dispatchEvent(new MessageEvent("message", { data, origin, source: frame.contentWindow }));
}

afterEach(() => {
  document.head.innerHTML = "";
  document.body.innerHTML = "";
  delete (window as unknown as Record<string, unknown>).__switchboardWidget;
});

describe("widget.js", () => {
  it("adds the chat frame from Switchboard's origin with the key, unit and page", () => {
    const frame = embed();
    const url = new URL(frame.src);
    expect(url.origin + url.pathname).toBe("https://chat.example.com/console/widget.html");
    expect(url.searchParams.get("key")).toBe("wk_1");
    expect(url.searchParams.get("unit")).toBe("sales & support");
    expect(url.searchParams.get("page")).toBe(window.location.href);
    expect(frame.style.width).toBe("200px");
  });
  it("grows the frame when the frame from Switchboard's origin asks", () => {
    const frame = embed();
    tell(frame, "https://chat.example.com", { type: "switchboard:widget", state: "open" });
    expect(frame.style.width).toBe("380px");
    tell(frame, "https://chat.example.com", { type: "switchboard:widget", state: "launcher" });
    expect(frame.style.width).toBe("200px");
  });
  it("ignores other origins and other message shapes", () => {
    const frame = embed();
    tell(frame, "https://evil.example", { type: "switchboard:widget", state: "open" });
    tell(frame, "https://chat.example.com", { type: "switchboard:widget", state: "huge" });
    tell(frame, "https://chat.example.com", "open");
    expect(frame.style.width).toBe("200px");
  });
  it("shows the frame only once the frame from Switchboard's origin speaks", () => {
    // A frame the browser refused (a site the tenant does not allow) never speaks.
    const frame = embed();
    expect(frame.style.visibility).toBe("hidden");
    tell(frame, "https://evil.example", { type: "switchboard:widget", state: "launcher" });
    expect(frame.style.visibility).toBe("hidden");
    tell(frame, "https://chat.example.com", { type: "switchboard:widget", state: "launcher" });
    expect(frame.style.visibility).toBe("");
    expect(frame.style.width).toBe("200px");
  });
  it("adds one frame however often the script is included", () => {
    embed();
    new Function(source)();
    expect(document.querySelectorAll('iframe[title="Chat"]')).toHaveLength(1);
  });
});
