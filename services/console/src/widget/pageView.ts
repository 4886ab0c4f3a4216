// The page view a widget reports on every page of a site. It is a plain JSON call to the
// Connect endpoint, not the generated client: this runs on every page before the visitor
// opens the chat, and the protobuf runtime would triple what each page loads.
import { loadVisitorKey, saveVisitorKey, type Place } from "./place";

// trackPageView records the page and keeps the visitor key the server answers; it resolves
// to the visitor's name when the visitor is known (for a greeting), else "".
export async function trackPageView(p: Place): Promise<string> {
  if (!p.pageUrl || !p.widgetKey) return "";
  try {
    const r = await fetch("/switchboard.chat.v1.ChatService/TrackPageView", {
      method: "POST",
      headers: { "Content-Type": "application/json", "Connect-Protocol-Version": "1" },
      body: JSON.stringify({ widgetKey: p.widgetKey, visitorKey: loadVisitorKey(p), pageUrl: p.pageUrl, pageTitle: p.pageTitle }),
    });
    if (!r.ok) return "";
    const answer = (await r.json()) as { visitorKey?: string; visitorName?: string };
    saveVisitorKey(p, answer.visitorKey ?? "");
    return answer.visitorName ?? "";
  } catch {
    return ""; // statistics only: the chat works without it
  }
}
