// The width an element is given by the page, kept up to date as it changes (a phone turned sideways,
// a window resized), for drawings laid out in real pixels. Null until it has been measured.
"use client";

import { type RefObject, useEffect, useRef, useState } from "react";

export function useElementWidth<T extends HTMLElement>(): [RefObject<T | null>, number | null] {
  const ref = useRef<T | null>(null);
  const [width, setWidth] = useState<number | null>(null);
  useEffect(() => {
    const element = ref.current;
    if (!element) return;
    const observer = new ResizeObserver(([entry]) => {
      if (entry) setWidth(Math.floor(entry.contentRect.width));
    });
    observer.observe(element);
    return () => observer.disconnect();
  }, []);
  return [ref, width];
}
