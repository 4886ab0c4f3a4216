// The chat application of the widget's frame, loaded when the visitor opens the launcher
// (or at once when a chat is in progress in this tab).
import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import type { Place } from "./place";
import { Widget } from "./Widget";

export function mount(root: HTMLElement, place: Place, greeting: Promise<string>, open: boolean) {
  createRoot(root).render(
    <StrictMode>
      <Widget place={place} greeting={greeting} initiallyOpen={open} />
    </StrictMode>,
  );
}
