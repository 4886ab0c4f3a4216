import { describe, expect, it } from "vitest";
import { fireEvent, render, screen, waitFor } from "@testing-library/react";
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { ExportReportResponseSchema } from "../../gen/switchboard/supervision/v1/reports_pb";
import { CsvDownload } from "./CsvDownload";


// jsdom's Blob has no text(); FileReader reads it as a browser would.
const readText = (blob: Blob) =>
  new Promise<string>((resolve, reject) => {
    const r = new FileReader();
    r.onload = () => resolve(r.result as string);
    r.onerror = () => reject(r.error);
    r.readAsText(blob);
  });

const piece = (text: string) => create(ExportReportResponseSchema, { csv: new TextEncoder().encode(text) });

// aborted waits for the signal and fails as a cancelled Connect stream does.
const aborted = (signal: AbortSignal) =>
  new Promise<never>((_, reject) => signal.addEventListener("abort", () => reject(new ConnectError("canceled", Code.Canceled))));

describe("CSV download", () => {
  it("joins the streamed pieces into one file and says how much came", async () => {
    const saved: { blob: Blob; name: string }[] = [];
    async function* open() {
      yield piece("day,conversations\n2026-01-14,");
      yield piece("7\n2026-01-15,3\n");
    }
    render(<CsvDownload open={open} filename="daily-2026-01-14-2026-01-15.csv" save={(blob, name) => saved.push({ blob, name })} />);
    fireEvent.click(screen.getByRole("button", { name: "Download CSV" }));
    await waitFor(() => expect(screen.getByRole("status").textContent).toMatch(/^Downloaded daily-2026-01-14-2026-01-15.csv: 2 rows, 44 B$/));
    expect(saved).toHaveLength(1);
    expect(saved[0].name).toBe("daily-2026-01-14-2026-01-15.csv");
    expect(await readText(saved[0].blob)).toBe("day,conversations\n2026-01-14,7\n2026-01-15,3\n");
  });

  it("shows progress while receiving and stops on cancel without saving", async () => {
    const saved: Blob[] = [];
    async function* open(signal: AbortSignal) {
      yield piece("day,conversations\n2026-01-14,7\n");
      await aborted(signal);
    }
    render(<CsvDownload open={open} filename="x.csv" save={(b) => saved.push(b)} />);
    fireEvent.click(screen.getByRole("button", { name: "Download CSV" }));
    await waitFor(() => expect(screen.getByRole("status").textContent).toBe("Receiving… 1 rows, 31 B"));
    expect((screen.getByRole("button", { name: "Download CSV" }) as HTMLButtonElement).disabled).toBe(true);
    fireEvent.click(screen.getByRole("button", { name: "Cancel download" }));
    await waitFor(() => expect(screen.getByRole("status").textContent).toBe("Download cancelled."));
    expect(screen.queryByRole("button", { name: "Cancel download" })).toBeNull();
    expect(saved).toHaveLength(0);
  });

  it("shows the server's reason when the export fails", async () => {
    // eslint-disable-next-line require-yield
    async function* open(): AsyncGenerator<ReturnType<typeof piece>> {
      throw new ConnectError("range.to: 2026-01-01 is before range.from 2026-02-01", Code.InvalidArgument);
    }
    render(<CsvDownload open={open} filename="x.csv" save={() => {}} />);
    fireEvent.click(screen.getByRole("button", { name: "Download CSV" }));
    expect((await screen.findByRole("alert")).textContent).toBe("range.to: 2026-01-01 is before range.from 2026-02-01");
  });
});
