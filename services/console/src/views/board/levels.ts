// Levels colour the board red, orange or green. A panel's values are judged against the
// thresholds of the productivity objectives on what they measure (which the server sends
// with the panel, or with each goal row), and the objectives' active signals raise that
// level: a value or a signal past critical is red, past warning orange, and a value that
// meets its target is green. A value short of its target but not past warning, or a panel
// that shows no objective, stays neutral.
import type { Panel, Series, Threshold } from "../../gen/switchboard/supervision/v1/board_pb";
import { SignalLevel, type Signal } from "../../gen/switchboard/supervision/v1/signal_pb";

export type Level = "ok" | "warning" | "critical";

// Objective metrics that a signal is raised for on a conversation.
const conversationMetrics = ["firstResponseTime", "responseTime", "handlingDuration"];

// panelMetrics names, per board panel, the objective metrics whose signals colour it; "*"
// is every metric. Panels not named here follow their thresholds alone, if any.
const panelMetrics: Record<string, string[]> = {
  visitors: conversationMetrics,
  "satisfaction-today": ["satisfaction"],
  "satisfaction-by-criterion": ["satisfaction"],
  "first-response": ["firstResponseTime"],
  objectives: ["*"],
  signals: ["*"],
};

const rank = { ok: 0, warning: 1, critical: 2 } as const;

// worse is the worse of two levels; a level beats none.
export function worse(a: Level | undefined, b: Level | undefined): Level | undefined {
  if (!a) return b;
  if (!b) return a;
  return rank[a] >= rank[b] ? a : b;
}

export function levelOf(signal: Signal): Level {
  return signal.level === SignalLevel.CRITICAL ? "critical" : "warning";
}

// highest is the worst of the signals' levels, "ok" without any.
export function highest(signals: Signal[]): Level {
  return signals.reduce<Level>((worst, s) => worse(worst, levelOf(s))!, "ok");
}

// judge is a value's level against one objective's thresholds, as live signals and the
// objectives' alerts judge (services/signals.Judge): past a threshold is strictly below it
// when higher is better, strictly above it when lower is better. Undefined when the value
// is short of the target without being past warning, or is not a number.
export function judge(value: number, t: Threshold): Level | undefined {
  if (!Number.isFinite(value)) return undefined;
  const past = (limit: number) => (t.higherIsBetter ? value < limit : value > limit);
  if (t.critical !== undefined && past(t.critical)) return "critical";
  if (t.warning !== undefined && past(t.warning)) return "warning";
  const met = t.higherIsBetter ? value >= t.target : value <= t.target;
  return met ? "ok" : undefined;
}

// valueLevel is a value's level against several objectives' thresholds (one per unit of a
// board over several units): the worst, and ok only when every target is met.
export function valueLevel(value: number, thresholds: Threshold[]): Level | undefined {
  if (thresholds.length === 0) return undefined;
  return allOf(thresholds.map((t) => judge(value, t)));
}

// allOf is the worst of several judgements, ok only when every one is.
function allOf(levels: (Level | undefined)[]): Level | undefined {
  if (levels.includes("critical")) return "critical";
  if (levels.includes("warning")) return "warning";
  return levels.every((l) => l === "ok") ? "ok" : undefined;
}

// signalLevel is the worst of the active signals on the metrics a panel shows; undefined
// for a panel that shows no objective.
function signalLevel(panel: Panel, signals: Signal[]): Level | undefined {
  const metrics = panelMetrics[panel.id];
  if (!metrics) return undefined;
  return highest(signals.filter((s) => metrics.includes("*") || metrics.includes(s.metric)));
}

// raisedBy is a value's level raised by the signals' (which are ok when none is active, and
// then leave the value's level as it is).
function raisedBy(value: Level | undefined, signals: Level | undefined): Level | undefined {
  return signals === "ok" || signals === undefined ? value : worse(value, signals);
}

const lastValue = (series: Series) => series.samples.at(-1)?.value ?? NaN;

// panelLevel is the panel's colour, or undefined for a panel that shows no objective. With
// thresholds (the panel's, or its series' own), it is the worst of its values' levels, ok
// only when every value meets its target, raised by the signals on its metrics; without,
// the signals' alone.
export function panelLevel(panel: Panel, signals: Signal[]): Level | undefined {
  const bySignals = signalLevel(panel, signals);
  const judged = panel.series.filter((s) => s.thresholds.length > 0 || panel.thresholds.length > 0);
  if (judged.length === 0) return bySignals;
  const byValues = allOf(judged.map((s) => valueLevel(lastValue(s), s.thresholds.length > 0 ? s.thresholds : panel.thresholds)));
  return raisedBy(byValues, bySignals);
}

// seriesLevel is one series' colour where the series says it: a count of signals by level
// (its "level" label) is that level while above zero; an objective's attainment (its
// "objective" label) is judged against that objective's thresholds, raised by its active
// signals; another series is judged against the panel's thresholds, raised by the signals
// on the panel's metrics.
export function seriesLevel(panel: Panel, series: Series, value: number, signals: Signal[]): Level | undefined {
  const level = series.labels["level"];
  if (level === "warning" || level === "critical") return value > 0 ? level : "ok";
  const objective = series.labels["objective"];
  if (objective) {
    const missed = signals.filter((s) => s.objective === objective);
    const byValue = series.thresholds.length > 0 ? valueLevel(value, series.thresholds) : value >= 1 ? "ok" : undefined;
    return raisedBy(byValue, missed.length > 0 ? highest(missed) : undefined);
  }
  if (panel.thresholds.length === 0) return undefined;
  return raisedBy(valueLevel(value, panel.thresholds), signalLevel(panel, signals));
}
