// The visitor widget's frame: to be built (issue 6).
import { createRoot } from "react-dom/client";

createRoot(document.getElementById("root")!).render(<p>Chat is coming.</p>);
