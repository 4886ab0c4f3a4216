/*
 * Switchboard's chat widget. A site embeds it with
 *   <script src="https://<switchboard>/widget.js" data-widget-key="<key>"
 *           data-business-unit="<unit>" async></script>
 * and it adds the chat frame (served by Switchboard, which talks to Switchboard's API from
 * its own origin) at the bottom right of the page. The frame asks for its size: a launcher
 * until the visitor opens it, a panel (the whole screen on a phone) while open. It stays
 * hidden until it first asks, so that a frame the browser refused (a site the tenant does
 * not allow) or could not load shows nothing.
 * No dependencies; the page's own scripts and styles are left alone.
 */
(function () {
  "use strict";
  // currentScript is this tag while it runs; the selector finds it when a loader ran it.
  var script = document.currentScript || document.querySelector("script[data-widget-key]");
  if (!script || window.__switchboardWidget) return;
  window.__switchboardWidget = true;

  var origin = new URL(script.src, location.href).origin;
  var key = script.getAttribute("data-widget-key") || "";
  var unit = script.getAttribute("data-business-unit") || "";

  var frame = document.createElement("iframe");
  frame.title = "Chat";
  frame.src =
    origin + "/console/widget.html?key=" + encodeURIComponent(key) + "&unit=" + encodeURIComponent(unit) +
    "&page=" + encodeURIComponent(location.href) + "&title=" + encodeURIComponent(document.title);
  frame.setAttribute("allowtransparency", "true");
  var base = "position:fixed;z-index:2147483000;border:0;background:transparent;color-scheme:normal;";

  // size places the frame for what it shows; only these two states exist.
  var state = "launcher";
  var heard = false;
  function size() {
    var phone = window.innerWidth < 480;
    var css = base + (heard ? "" : "visibility:hidden;");
    if (state === "open" && phone) {
      frame.style.cssText = css + "inset:0;width:100%;height:100%;";
    } else if (state === "open") {
      frame.style.cssText = css + "right:16px;bottom:16px;width:380px;height:min(620px,calc(100vh - 32px));max-width:calc(100vw - 32px);" +
        "border-radius:12px;box-shadow:0 8px 32px rgba(0,0,0,.25);";
    } else {
      frame.style.cssText = css + "right:16px;bottom:16px;width:200px;height:72px;";
    }
  }
  size();

  window.addEventListener("message", function (event) {
    // Only the frame, from Switchboard's origin, and only the one message it sends.
    if (event.source !== frame.contentWindow || event.origin !== origin) return;
    var data = event.data;
    if (!data || data.type !== "switchboard:widget" || (data.state !== "open" && data.state !== "launcher")) return;
    state = data.state;
    heard = true;
    size();
  });
  window.addEventListener("resize", size);

  function mount() {
    document.body.appendChild(frame);
  }
  if (document.body) mount();
  else document.addEventListener("DOMContentLoaded", mount);
})();
