// A clock for live durations: re-renders every 100 ms while `active`, and stops when nothing moves.
"use client";

import { useEffect, useState } from "react";

const TICK_MS = 100;

export function useNow(active: boolean): number {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (!active) return;
    setNow(Date.now());
    const timer = window.setInterval(() => setNow(Date.now()), TICK_MS);
    return () => window.clearInterval(timer);
  }, [active]);
  return now;
}
