// profileErrors places the server's complaint about a profile: InvalidArgument names the
// field ("profile.email: …"), which is shown under that field; anything else is the form's.
import { errorText } from "../../api";

export type ProfileField = "name" | "email" | "phone" | "notes";

export interface ProfileErrors {
  fields: Partial<Record<ProfileField, string>>;
  form: string;
}

export const noErrors: ProfileErrors = { fields: {}, form: "" };

const fieldMessage = /^profile\.(name|email|phone|notes): ([\s\S]*)$/;
const profileMessage = /^profile: ([\s\S]*)$/;

const sentence = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

export function profileErrors(err: unknown): ProfileErrors {
  const text = errorText(err);
  const field = fieldMessage.exec(text);
  if (field) return { fields: { [field[1] as ProfileField]: sentence(field[2]) }, form: "" };
  const whole = profileMessage.exec(text);
  return { fields: {}, form: whole ? sentence(whole[1]) : text };
}
