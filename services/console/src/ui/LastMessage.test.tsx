import { describe, expect, it } from "vitest";
import { render, screen } from "@testing-library/react";
import { create } from "@bufbuild/protobuf";
import { timestampFromDate } from "@bufbuild/protobuf/wkt";
import { AuthorKind, AuthorSchema } from "../gen/switchboard/chat/v1/chat_pb";
import { MessagePreviewSchema } from "../gen/switchboard/supervision/v1/supervision_pb";
import { LastMessage } from "./LastMessage";

const preview = (kind: AuthorKind, displayName: string, text: string, truncated = false) =>
  create(MessagePreviewSchema, {
    author: create(AuthorSchema, { kind, id: "x", displayName }),
    text,
    truncated,
    createdAt: timestampFromDate(new Date("2026-11-23T09:00:00Z")),
  });

describe("LastMessage", () => {
  it("shows who wrote the last message and its text, on the lines asked", () => {
    const { container } = render(<LastMessage message={preview(AuthorKind.AGENT, "Ann", "Your parcel ships Monday")} lines={2} />);
    const p = container.querySelector("p")!;
    expect(p.textContent).toBe("Ann: Your parcel ships Monday");
    expect(p.className).toBe("last-message lines-2");
    expect(p.dataset.author).toBe("agent");
  });

  it("ends a cut message with an ellipsis and keeps the whole preview in the tooltip", () => {
    const { container } = render(<LastMessage message={preview(AuthorKind.VISITOR, "Vera", "a long question", true)} lines={1} />);
    const p = container.querySelector("p")!;
    expect(p.textContent).toBe("Vera: a long question…");
    expect(p.title).toMatch(/^Vera at .*: a long question…$/);
    expect(p.dataset.author).toBe("visitor");
  });

  it("names an unnamed visitor, and says when nothing was written yet", () => {
    const { container, rerender } = render(<LastMessage message={preview(AuthorKind.VISITOR, "", "hi")} lines={1} />);
    expect(container.textContent).toBe("x: hi");
    rerender(<LastMessage message={create(MessagePreviewSchema, { author: create(AuthorSchema, { kind: AuthorKind.VISITOR }), text: "hi" })} lines={1} />);
    expect(container.textContent).toBe("Visitor: hi");
    rerender(<LastMessage message={undefined} lines={1} />);
    expect(screen.getByText("No message yet")).toBeTruthy();
  });

  it("renders what people typed as text, never as HTML", () => {
    const evil = "<img src=x onerror=alert(1)>";
    const { container } = render(<LastMessage message={preview(AuthorKind.VISITOR, evil, evil)} lines={2} />);
    expect(container.querySelector("img")).toBeNull();
    expect(container.textContent).toBe(`${evil}: ${evil}`);
  });
});
