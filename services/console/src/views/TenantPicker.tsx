import { useState } from "react";

// TenantPicker asks for the tenant when neither the path nor the host names one.
export function TenantPicker() {
  const [name, setName] = useState("");
  const valid = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(name);
  return (
    <main className="center">
      <form
        className="card login"
        aria-label="Choose your workspace"
        onSubmit={(e) => {
          e.preventDefault();
          if (valid) window.location.assign(`/t/${name}/`);
        }}
      >
        <h1>Switchboard</h1>
        <label>
          Workspace (tenant name)
          <input name="tenant" required autoFocus value={name} onChange={(e) => setName(e.target.value.trim().toLowerCase())} />
        </label>
        {name && !valid && <p className="error">A tenant name has lower-case letters, digits and dashes.</p>}
        <button type="submit" className="primary" disabled={!valid}>
          Continue
        </button>
      </form>
    </main>
  );
}
