// A value kept in localStorage and shared by every component that reads it, including other tabs.
// Built on useSyncExternalStore so the server render (no storage) and hydration agree.
"use client";

import { useSyncExternalStore } from "react";
import type { z } from "zod";

export interface StoredValue<T> {
  use: () => T;
  get: () => T;
  set: (next: T | ((current: T) => T)) => void;
}

export function storedValue<T>(key: string, schema: z.ZodType<T>, fallback: T): StoredValue<T> {
  const listeners = new Set<() => void>();
  let cachedRaw: string | null = null;
  let cachedValue: T = fallback;

  function get(): T {
    if (typeof window === "undefined") return fallback;
    const raw = window.localStorage.getItem(key);
    if (raw !== cachedRaw) {
      cachedRaw = raw;
      cachedValue = parse(raw);
    }
    return cachedValue;
  }

  function parse(raw: string | null): T {
    if (raw === null) return fallback;
    try {
      const parsed = schema.safeParse(JSON.parse(raw));
      return parsed.success ? parsed.data : fallback;
    } catch {
      return fallback;
    }
  }

  function set(next: T | ((current: T) => T)): void {
    const value = typeof next === "function" ? (next as (current: T) => T)(get()) : next;
    window.localStorage.setItem(key, JSON.stringify(value));
    for (const listener of listeners) listener();
  }

  function subscribe(listener: () => void): () => void {
    listeners.add(listener);
    const onStorage = (event: StorageEvent) => {
      if (event.key === key || event.key === null) listener();
    };
    window.addEventListener("storage", onStorage);
    return () => {
      listeners.delete(listener);
      window.removeEventListener("storage", onStorage);
    };
  }

  return {
    get,
    set,
    use: () => useSyncExternalStore(subscribe, get, () => fallback),
  };
}
