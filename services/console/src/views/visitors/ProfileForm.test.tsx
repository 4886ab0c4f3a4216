import { describe, expect, it } from "vitest";
import { fireEvent, render, screen, waitFor } from "@testing-library/react";
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import { VisitorProfileSchema, type VisitorProfile } from "../../gen/switchboard/supervision/v1/supervision_pb";
import { ProfileForm } from "./ProfileForm";


const initial = create(VisitorProfileSchema, { name: "Ada", email: "ada@example.com", phone: "", notes: "Prefers email." });

describe("profile form", () => {
  it("sends the edited profile and says it is saved", async () => {
    const sent: VisitorProfile[] = [];
    render(<ProfileForm initial={initial} submitLabel="Save" onSubmit={async (p) => void sent.push(p)} />);
    expect((screen.getByLabelText("Notes") as HTMLTextAreaElement).value).toBe("Prefers email.");
    fireEvent.change(screen.getByLabelText("Phone"), { target: { value: "+33 1 23 45 67 89" } });
    fireEvent.click(screen.getByRole("button", { name: "Save" }));
    await waitFor(() => expect(screen.getByRole("status").textContent).toBe("Saved."));
    expect(sent).toHaveLength(1);
    expect({ name: sent[0].name, email: sent[0].email, phone: sent[0].phone, notes: sent[0].notes }).toEqual({
      name: "Ada",
      email: "ada@example.com",
      phone: "+33 1 23 45 67 89",
      notes: "Prefers email.",
    });
  });

  it("shows the server's objection under the field it names, and focuses that field", async () => {
    const reject = async () => {
      throw new ConnectError('profile.email: "ada@" is not an email address', Code.InvalidArgument);
    };
    render(<ProfileForm initial={initial} submitLabel="Save" onSubmit={reject} />);
    fireEvent.change(screen.getByLabelText("Email"), { target: { value: "ada@" } });
    fireEvent.click(screen.getByRole("button", { name: "Save" }));
    const email = screen.getByLabelText("Email");
    await waitFor(() => expect(email.getAttribute("aria-invalid")).toBe("true"));
    expect(document.getElementById(email.getAttribute("aria-describedby")!)?.textContent).toBe('"ada@" is not an email address');
    expect(document.activeElement).toBe(email);
    expect(screen.getByLabelText("Name").getAttribute("aria-invalid")).toBeNull();
    expect(screen.getByRole("status").textContent).toBe("");
  });

  it("shows an objection to the whole profile above the buttons", async () => {
    const reject = async () => {
      throw new ConnectError("profile: give a name, an email or a phone number", Code.InvalidArgument);
    };
    render(<ProfileForm submitLabel="Create contact" onSubmit={reject} />);
    fireEvent.click(screen.getByRole("button", { name: "Create contact" }));
    expect((await screen.findByRole("alert")).textContent).toBe("Give a name, an email or a phone number");
  });

  it("lets the browser's own email check give way to the server's", () => {
    render(<ProfileForm submitLabel="Save" onSubmit={async () => {}} />);
    expect((screen.getByRole("button", { name: "Save" }).closest("form") as HTMLFormElement).noValidate).toBe(true);
  });

  it("cancels on Escape when it can be cancelled", () => {
    let cancelled = 0;
    render(<ProfileForm submitLabel="Create contact" onSubmit={async () => {}} onCancel={() => cancelled++} />);
    fireEvent.keyDown(screen.getByLabelText("Name"), { key: "Escape" });
    expect(cancelled).toBe(1);
  });
});
