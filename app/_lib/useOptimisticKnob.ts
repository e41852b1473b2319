// A control that waits on the server (a switch, a radio, a select): it moves at once, React's own
// optimistic state holds it there while the request is on its way, and when the request ends it shows
// the server's value again. After a refusal that is the value from before, and the page says why.
"use client";

import { useOptimistic, useTransition } from "react";

export function useOptimisticKnob<Value, Change>(
  value: Value,
  apply: (current: Value, change: Change) => Value,
  /** Resolves once the server answered, whatever it said. */
  commit: (change: Change) => Promise<void>,
): [Value, (change: Change) => void] {
  const [shown, show] = useOptimistic(value, apply);
  const [, startTransition] = useTransition();
  const change = (next: Change) =>
    startTransition(async () => {
      show(next);
      await commit(next);
    });
  return [shown, change];
}

/** For a control whose change is its new value. */
export function replaced<Value>(_current: Value, next: Value): Value {
  return next;
}
