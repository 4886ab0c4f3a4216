// How the board writes values: in the panel's unit, as Grafana names units.

const number = new Intl.NumberFormat(undefined, { maximumFractionDigits: 2 });
const percent = new Intl.NumberFormat(undefined, { maximumFractionDigits: 1 });

// formatValue writes value in unit: "short", "percent" (0–100), "percentunit" (0–1), "s"
// (seconds) or "currency".
export function formatValue(value: number, unit: string): string {
  if (!Number.isFinite(value)) return "–";
  switch (unit) {
    case "percent":
      return `${percent.format(value)}%`;
    case "percentunit":
      return `${percent.format(value * 100)}%`;
    case "s":
      return formatDuration(value);
    default:
      return number.format(value);
  }
}

// formatDuration writes seconds as a person reads a wait: "45s", "2m 05s", "1h 20m".
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return "–";
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, "0")}s`;
  return `${Math.floor(s / 3600)}h ${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`;
}
