// ProfileForm edits a visitor's profile (name, email, phone, notes) for a new contact or
// an existing one, and shows the server's objections beside the fields they name.
import { useId, useState, type ReactNode } from "react";
import { create } from "@bufbuild/protobuf";
import { VisitorProfileSchema, type VisitorProfile } from "../../gen/switchboard/supervision/v1/supervision_pb";
import { noErrors, profileErrors, type ProfileErrors, type ProfileField } from "./profileErrors";

interface Draft {
  name: string;
  email: string;
  phone: string;
  notes: string;
}

const fields: { key: ProfileField; label: string; type?: string; autoComplete?: string }[] = [
  { key: "name", label: "Name", autoComplete: "off" },
  { key: "email", label: "Email", type: "email", autoComplete: "off" },
  { key: "phone", label: "Phone", type: "tel", autoComplete: "off" },
];

export function ProfileForm(props: {
  initial?: VisitorProfile;
  submitLabel: string;
  // onSubmit stores the profile; a rejection is the server's objection.
  onSubmit: (profile: VisitorProfile) => Promise<void>;
  onCancel?: () => void;
  labelledBy?: string;
  children?: ReactNode;
}) {
  const { initial, submitLabel, onSubmit, onCancel, labelledBy, children } = props;
  const id = useId();
  const [draft, setDraft] = useState<Draft>({
    name: initial?.name ?? "",
    email: initial?.email ?? "",
    phone: initial?.phone ?? "",
    notes: initial?.notes ?? "",
  });
  const [errors, setErrors] = useState<ProfileErrors>(noErrors);
  const [saving, setSaving] = useState(false);
  const [saved, setSaved] = useState(false);

  const edit = (key: ProfileField, value: string) => {
    setDraft((d) => ({ ...d, [key]: value }));
    setSaved(false);
  };

  const submit = async (e: React.FormEvent) => {
    e.preventDefault();
    setSaving(true);
    setSaved(false);
    try {
      await onSubmit(create(VisitorProfileSchema, draft));
      setErrors(noErrors);
      setSaved(true);
    } catch (err) {
      const found = profileErrors(err);
      setErrors(found);
      const first = Object.keys(found.fields)[0];
      if (first) document.getElementById(`${id}-${first}`)?.focus();
    } finally {
      setSaving(false);
    }
  };

  const control = (key: ProfileField) => ({
    id: `${id}-${key}`,
    value: draft[key],
    "aria-invalid": errors.fields[key] ? true : undefined,
    "aria-describedby": errors.fields[key] ? `${id}-${key}-error` : undefined,
  });

  const fieldError = (key: ProfileField) =>
    errors.fields[key] && (
      <span id={`${id}-${key}-error`} className="field-error">
        {errors.fields[key]}
      </span>
    );

  return (
    <form
      className="profile-form"
      aria-labelledby={labelledBy}
      noValidate
      onSubmit={(e) => void submit(e)}
      onKeyDown={(e) => {
        if (e.key === "Escape" && onCancel) {
          e.preventDefault();
          onCancel();
        }
      }}
    >
      <div className="profile-fields">
        {fields.map((f) => (
          <div className="field" key={f.key}>
            <label htmlFor={`${id}-${f.key}`}>{f.label}</label>
            <input {...control(f.key)} type={f.type ?? "text"} autoComplete={f.autoComplete} onChange={(e) => edit(f.key, e.target.value)} />
            {fieldError(f.key)}
          </div>
        ))}
        <div className="field notes">
          <label htmlFor={`${id}-notes`}>Notes</label>
          <textarea {...control("notes")} rows={4} onChange={(e) => edit("notes", e.target.value)} />
          {fieldError("notes")}
        </div>
      </div>
      {errors.form && (
        <p role="alert" className="error">
          {errors.form}
        </p>
      )}
      <div className="form-actions">
        <button type="submit" className="primary" disabled={saving}>
          {submitLabel}
        </button>
        {onCancel && (
          <button type="button" onClick={onCancel}>
            Cancel
          </button>
        )}
        {children}
        <span role="status" className="muted">
          {saving ? "Saving…" : saved ? "Saved." : ""}
        </span>
      </div>
    </form>
  );
}
