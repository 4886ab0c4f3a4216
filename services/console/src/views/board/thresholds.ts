// How the board writes and draws the objectives' thresholds.
import type { Threshold } from "../../gen/switchboard/supervision/v1/board_pb";
import type { Line } from "../../ui/TimeSeries";
import { formatValue } from "./format";

// thresholdText says an objective's thresholds in the panel's unit, e.g.
// "sales-satisfaction (sales): target ≥ 90%, warning below 80%, critical below 60%".
export function thresholdText(t: Threshold, unit: string): string {
  const [met, past] = t.higherIsBetter ? ["≥", "below"] : ["≤", "above"];
  const parts = [`target ${met} ${formatValue(t.target, unit)}`];
  if (t.warning !== undefined) parts.push(`warning ${past} ${formatValue(t.warning, unit)}`);
  if (t.critical !== undefined) parts.push(`critical ${past} ${formatValue(t.critical, unit)}`);
  const name = t.businessUnit ? `${t.objective} (${t.businessUnit})` : t.objective;
  return `${name}: ${parts.join(", ")}`;
}

// Colours of threshold lines, as the board's --ok, --warn and --crit.
const colours = { warning: "#ff9830", critical: "#e02f44" };

// thresholdLines are a dashed flat line at each objective's warning and critical over
// points times (as Grafana draws thresholds; the target would crowd the chart).
export function thresholdLines(thresholds: Threshold[], points: number): Line[] {
  return thresholds.flatMap((t) =>
    (["warning", "critical"] as const).flatMap((kind) => {
      const v = t[kind];
      if (v === undefined) return [];
      return [{ label: `${t.objective} ${kind}`, values: new Array<number>(points).fill(v), color: colours[kind], dash: [6, 4] }];
    }),
  );
}
