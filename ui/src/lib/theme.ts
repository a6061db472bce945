// Light and dark themes: the viewer's system preference unless they chose one.
import { useCallback, useEffect, useState } from "react";

export type Theme = "light" | "dark";
const KEY = "cairn.theme";

function initial(): Theme {
  const saved = window.localStorage.getItem(KEY);
  if (saved === "light" || saved === "dark") return saved;
  return window.matchMedia?.("(prefers-color-scheme: dark)").matches ? "dark" : "light";
}

export function useTheme(): [Theme, () => void] {
  const [theme, setTheme] = useState<Theme>(initial);
  useEffect(() => {
    document.documentElement.dataset.theme = theme;
    window.dispatchEvent(new Event("cairn-theme"));
  }, [theme]);
  const toggle = useCallback(() => {
    setTheme((t) => {
      const next = t === "dark" ? "light" : "dark";
      window.localStorage.setItem(KEY, next);
      return next;
    });
  }, []);
  return [theme, toggle];
}

/** A CSS custom property of the current theme (charts draw on canvas, not with CSS). */
export function cssVar(name: string): string {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
}

/** Run colors: distinguishable in both themes, stable per index. */
export const PALETTE = [
  "#2f6fdf",
  "#e8590c",
  "#2b9a66",
  "#c2255c",
  "#7048e8",
  "#b08800",
  "#0c8599",
  "#d6336c",
  "#5c7cfa",
  "#868e96",
];

export function runColor(index: number): string {
  return PALETTE[index % PALETTE.length] as string;
}
