// The visitor widget's frame (widget.html), which widget.js adds to a site's page.
import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { placeFrom } from "./place";
import { Widget } from "./Widget";
import "./widget.css";

const place = placeFrom(window.location.search);

createRoot(document.getElementById("root")!).render(
  <StrictMode>
    <Widget place={place} />
  </StrictMode>,
);
