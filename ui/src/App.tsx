import { Suspense, useEffect } from "react";
import { ErrorBoundary, Loading, OfflineBanner } from "./components/common";
import { lazyModule, preloadWhenIdle } from "./lib/lazy";
import { useRoute } from "./lib/route";
import { useTheme } from "./lib/theme";
import { ExperimentsPage } from "./pages/ExperimentsPage";
import { NotFoundPage } from "./pages/NotFoundPage";

// Pages with heavy dependencies (charts, markdown, artifact parsers) load on first use.
export const RunsPage = lazyModule(() => import("./pages/runs/RunsPage"));
export const RunPage = lazyModule(() => import("./pages/run/RunPage"));
export const ComparePage = lazyModule(() => import("./pages/compare/ComparePage"));

/** The module of the page at this address, so that main.tsx can load it before rendering. */
export function pageFor(hash: string): { preload: () => Promise<unknown> } | null {
  const first = hash.replace(/^#\/?/, "").split(/[/?]/)[0];
  const second = hash.replace(/^#\/?/, "").split(/[/?]/)[1];
  if (first === "experiments" && second) return RunsPage;
  if (first === "runs") return RunPage;
  if (first === "compare") return ComparePage;
  return null;
}

function Page() {
  const route = useRoute();
  const [first, second] = route.path;
  if (!first || (first === "experiments" && !second)) return <ExperimentsPage />;
  if (first === "experiments" && second) return <RunsPage experimentIds={second.split(",").filter(Boolean)} />;
  if (first === "runs" && second) return <RunPage runId={second} />;
  if (first === "compare") return <ComparePage />;
  return <NotFoundPage />;
}

export function App() {
  const [theme, toggleTheme] = useTheme();
  const route = useRoute();
  useEffect(() => preloadWhenIdle(RunsPage, RunPage, ComparePage), []);
  return (
    <div className="app">
      <header className="topbar">
        <a className="brand" href="#/">
          <img src="/static-files/favicon.svg" alt="" /> cairn
        </a>
        <nav className="crumbs" aria-label="Main">
          <a href="#/">Experiments</a>
        </nav>
        <span className="spacer" />
        <button
          type="button"
          className="icon"
          onClick={toggleTheme}
          aria-label={`Switch to ${theme === "dark" ? "light" : "dark"} theme`}
          title={`Switch to ${theme === "dark" ? "light" : "dark"} theme`}
        >
          {theme === "dark" ? "☀" : "☾"}
        </button>
      </header>
      <main className="main" id="main">
        <ErrorBoundary resetKey={route.path.join("/")}>
          <Suspense fallback={<Loading what="page" />}>
            <Page />
          </Suspense>
        </ErrorBoundary>
      </main>
      <OfflineBanner />
    </div>
  );
}
