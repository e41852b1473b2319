// A developer page: its client island behind the developer tools' door (DevToolsGate). The page itself
// is only this frame.
import type { ComponentType } from "react";
import { DevToolsGate } from "./DevToolsGate";

export function behindDevToolsGate(Island: ComponentType) {
  return function DevToolsPage() {
    return (
      <DevToolsGate>
        <Island />
      </DevToolsGate>
    );
  };
}
