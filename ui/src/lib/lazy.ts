// Code-split modules without a visible wait on navigation. React.lazy suspends the first time
// it renders, and React holds a revealed Suspense boundary back for ~300 ms; a module loaded
// ahead of time (preload) renders at once instead, through the plain component.
import { type ComponentType, createElement, lazy } from "react";

export interface Preloadable<P> {
  (props: P): ReturnType<typeof createElement>;
  preload: () => Promise<unknown>;
}

export function lazyModule<P extends object>(load: () => Promise<{ default: ComponentType<P> }>): Preloadable<P> {
  let loaded: ComponentType<P> | null = null;
  let pending: Promise<{ default: ComponentType<P> }> | null = null;
  const preload = () => {
    pending ??= load().then((module) => {
      loaded = module.default;
      return module;
    });
    return pending;
  };
  const Lazy = lazy(preload);
  const Component = (props: P) => createElement((loaded ?? Lazy) as ComponentType<P>, props);
  Component.preload = preload;
  return Component;
}

type Module = { preload: () => Promise<unknown> };

/** Start loading modules now (a page does this for the panels it may show). */
export function preload(...modules: Module[]): void {
  modules.forEach((m) => void m.preload().catch(() => undefined));
}

/** Load modules when the browser is idle (they are small; the network is local). */
export function preloadWhenIdle(...modules: Module[]): void {
  if (typeof window.requestIdleCallback === "function")
    window.requestIdleCallback(() => preload(...modules), { timeout: 2000 });
  else window.setTimeout(() => preload(...modules), 200);
}
