import { describe, expect, it } from "vitest";
import { renderHook, waitFor } from "@testing-library/react";
import { create } from "@bufbuild/protobuf";
import { AuthorKind, EventSchema } from "../gen/switchboard/chat/v1/chat_pb";
import { WatchConversationsResponseSchema, type WatchConversationsResponse } from "../gen/switchboard/supervision/v1/supervision_pb";
import { useTranscripts, type OpenMany } from "./useTranscript";

const event = (conv: string, seq: number, text: string) =>
  create(WatchConversationsResponseSchema, {
    update: { case: "event", value: create(EventSchema, { conversationId: conv, seq: BigInt(seq), author: { kind: AuthorKind.VISITOR, displayName: "Vera" }, payload: { case: "message", value: { text } } }) },
  });

// A stream that yields what it is given, then stays open until aborted, recording how it
// was opened.
function streams(batches: WatchConversationsResponse[][]) {
  const opened: { conversationId: string; afterSeq: bigint }[][] = [];
  const open: OpenMany = (cursors, signal) =>
    (async function* () {
      opened.push(cursors);
      for (const r of batches[opened.length - 1] ?? []) yield r;
      await new Promise((resolve) => signal.addEventListener("abort", resolve));
    })();
  return { open, opened };
}

describe("useTranscripts", () => {
  it("folds several conversations from one stream and names the refused ones", async () => {
    const refused = create(WatchConversationsResponseSchema, { update: { case: "refused", value: { conversationId: "c3", reason: "conversation not found" } } });
    const { open, opened } = streams([[refused, event("c1", 1, "hello"), event("c2", 1, "hi"), event("c1", 2, "anyone?")]]);
    const { result } = renderHook(() => useTranscripts(["c1", "c2", "c3"], open));
    await waitFor(() => expect(result.current.c1.state.entries.map((e) => e.text)).toEqual(["hello", "anyone?"]));
    expect(result.current.c2.state.entries.map((e) => e.text)).toEqual(["hi"]);
    expect(result.current.c3).toMatchObject({ status: "ended", error: "conversation not found" });
    expect(opened).toHaveLength(1);
  });

  it("opens the stream anew with each conversation's cursor when the set changes", async () => {
    const { open, opened } = streams([[event("c1", 1, "a"), event("c1", 2, "b")], [event("c1", 2, "b"), event("c2", 1, "new chat")]]);
    const { result, rerender } = renderHook(({ ids }) => useTranscripts(ids, open), { initialProps: { ids: ["c1"] } });
    await waitFor(() => expect(result.current.c1.state.lastSeq).toBe(2n));
    rerender({ ids: ["c1", "c2"] });
    await waitFor(() => expect(result.current.c2?.state.entries.map((e) => e.text)).toEqual(["new chat"]));
    expect(opened[1]).toEqual([
      { conversationId: "c1", afterSeq: 2n },
      { conversationId: "c2", afterSeq: 0n },
    ]);
    // The repeated event is kept once.
    expect(result.current.c1.state.entries.map((e) => e.text)).toEqual(["a", "b"]);
  });
});
