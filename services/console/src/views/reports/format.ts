// How reports show numbers, durations and periods, and how periods become the seconds a
// TimeSeries plots.

const counts = new Intl.NumberFormat();

export function formatCount(n: bigint | number): string {
  return counts.format(n);
}

// formatDuration shows seconds as people read a wait: "42 s", "3 min 05 s", "1 h 02 min".
// An average of zero means nothing was measured, shown as a dash.
export function formatDuration(seconds: number): string {
  if (!seconds) return "–";
  const s = Math.round(seconds);
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, "0")} s`;
  return `${Math.floor(s / 3600)} h ${String(Math.floor((s % 3600) / 60)).padStart(2, "0")} min`;
}

// averageOrGap is an average for a chart: nothing measured is a gap, not a zero.
export function averageOrGap(seconds: number): number | null {
  return seconds ? seconds : null;
}

// Days and months are plotted at local midnight, so the chart's axis (local time) labels
// them by their own date.
export function daySeconds(day: string): number {
  const [y, m, d] = day.split("-").map(Number);
  return new Date(y, m - 1, d).getTime() / 1000;
}

export function monthSeconds(month: string): number {
  return daySeconds(`${month}-01`);
}

// Hours of the day are plotted on one winter day, when no time zone changes its clocks.
const hourBase = new Date(2000, 0, 3).getTime() / 1000;

export function hourSeconds(hour: number): number {
  return hourBase + hour * 3600;
}

export function formatHour(hour: number): string {
  return `${String(hour).padStart(2, "0")}:00`;
}

// hourAxisLabel labels a chart's hour of the day, plotted by hourSeconds.
export function hourAxisLabel(seconds: number): string {
  const hours = (seconds - hourBase) / 3600;
  // A wide chart may put ticks on half hours; only whole hours are named.
  return Number.isInteger(hours) ? formatHour(hours) : "";
}

// todayIn is the day it is now in an IANA time zone, YYYY-MM-DD.
export function todayIn(timeZone: string, now = new Date()): string {
  // en-CA writes dates as YYYY-MM-DD.
  return new Intl.DateTimeFormat("en-CA", { timeZone, year: "numeric", month: "2-digit", day: "2-digit" }).format(now);
}

// addDays moves a YYYY-MM-DD day by n days.
export function addDays(day: string, n: number): string {
  const [y, m, d] = day.split("-").map(Number);
  return new Date(Date.UTC(y, m - 1, d + n)).toISOString().slice(0, 10);
}

export function browserTimeZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
}

export function knownTimeZones(): string[] {
  return typeof Intl.supportedValuesOf === "function" ? Intl.supportedValuesOf("timeZone") : [];
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KB`;
  return `${(n / (1024 * 1024)).toFixed(1)} MB`;
}
