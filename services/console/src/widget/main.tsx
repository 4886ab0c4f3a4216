// The visitor widget's frame (widget.html), which widget.js adds to every page of a site.
// What every page loads is only this launcher, drawn without React, and the page view;
// the chat application loads when the visitor opens the launcher, or at once when this tab
// has a chat in progress.
import { chatIconPath } from "./icons";
import { loadChat, loadOpen, placeFrom, tellFrameState } from "./place";
import { trackPageView } from "./pageView";
import "./widget.css";

const place = placeFrom(window.location.search);
const root = document.getElementById("root")!;
const greeting = trackPageView(place);

function startApp(open: boolean): Promise<void> {
  return import("./app").then((app) => app.mount(root, place, greeting, open));
}

// showLauncher draws the same launcher as the application's (Widget's Launcher).
function showLauncher() {
  const box = document.createElement("div");
  box.className = "wg-launcher-box";
  const button = document.createElement("button");
  button.type = "button";
  button.className = "wg-launcher";
  button.setAttribute("aria-label", "Chat with us");
  button.append(chatIcon(), "Chat with us");
  button.addEventListener("click", () => {
    button.disabled = true;
    button.setAttribute("aria-busy", "true");
    startApp(true).catch(() => {
      button.disabled = false; // the chat could not load: let the visitor try again
      button.removeAttribute("aria-busy");
    });
  });
  box.append(button);
  root.replaceChildren(box);
  // widget.js shows the frame once it hears from it.
  tellFrameState(place, "launcher");
}

function chatIcon(): SVGSVGElement {
  const ns = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(ns, "svg");
  svg.setAttribute("aria-hidden", "true");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("width", "20");
  svg.setAttribute("height", "20");
  const path = document.createElementNS(ns, "path");
  path.setAttribute("fill", "currentColor");
  path.setAttribute("d", chatIconPath);
  svg.append(path);
  return svg;
}

if (loadChat(place) || loadOpen(place)) void startApp(loadOpen(place));
else showLauncher();
