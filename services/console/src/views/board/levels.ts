// Levels colour the board red, orange or green. Panels carry no thresholds of their own:
// the productivity objectives' thresholds reach the board as signals (each with its level,
// metric and threshold), so a panel takes the highest level of the active signals on the
// metrics it shows, and is "ok" while none is active.
import type { Panel, Series } from "../../gen/switchboard/supervision/v1/board_pb";
import { SignalLevel, type Signal } from "../../gen/switchboard/supervision/v1/signal_pb";

export type Level = "ok" | "warning" | "critical";

// Objective metrics that a signal is raised for on a conversation.
const conversationMetrics = ["firstResponseTime", "responseTime", "handlingDuration"];

// panelMetrics names, per board panel, the objective metrics it shows; "*" is every metric.
// Panels not named here show no objective and stay neutral.
const panelMetrics: Record<string, string[]> = {
  visitors: conversationMetrics,
  "satisfaction-today": ["satisfaction"],
  "satisfaction-by-criterion": ["satisfaction"],
  "first-response": ["firstResponseTime"],
  objectives: ["*"],
  signals: ["*"],
};

export function levelOf(signal: Signal): Level {
  return signal.level === SignalLevel.CRITICAL ? "critical" : "warning";
}

// highest is the worst of the signals' levels, "ok" without any.
export function highest(signals: Signal[]): Level {
  let worst: Level = "ok";
  for (const s of signals) {
    if (levelOf(s) === "critical") return "critical";
    worst = "warning";
  }
  return worst;
}

// panelLevel is the panel's colour, or undefined for a panel that shows no objective.
export function panelLevel(panel: Panel, signals: Signal[]): Level | undefined {
  const metrics = panelMetrics[panel.id];
  if (!metrics) return undefined;
  return highest(signals.filter((s) => metrics.includes("*") || metrics.includes(s.metric)));
}

// seriesLevel is one series' colour where the series says it: a count of signals by level
// (its "level" label) is that level while above zero, and an objective's attainment (its
// "objective" label) takes the level of that objective's active signals, or is ok when the
// target is met. Short of its target without a signal, an objective stays neutral: the
// board does not carry the objective's thresholds to judge it (aggregate objectives are
// signalled by Prometheus alerts, which the embedded engine does not raise).
export function seriesLevel(series: Series, value: number, signals: Signal[]): Level | undefined {
  const level = series.labels["level"];
  if (level === "warning" || level === "critical") return value > 0 ? level : "ok";
  const objective = series.labels["objective"];
  if (!objective) return undefined;
  const missed = signals.filter((s) => s.objective === objective);
  if (missed.length > 0) return highest(missed);
  return value >= 1 ? "ok" : undefined;
}
