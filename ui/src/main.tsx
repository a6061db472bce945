import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import "uplot/dist/uPlot.min.css";
import "./styles.css";
import { App, pageFor } from "./App";
import { ApiError } from "./lib/api";

const queryClient = new QueryClient({
  defaultOptions: {
    queries: {
      staleTime: 10_000,
      refetchOnWindowFocus: false,
      // Only a server that did not answer is worth asking again; a 4xx will not change.
      retry: (count, error) => error instanceof ApiError && error.isNetwork && count < 2,
      retryDelay: (count) => 1000 * 2 ** count,
    },
  },
});

const root = document.getElementById("root");
// The page a link opens is loaded before the first render: no loading flash, no delay.
const first =
  pageFor(window.location.hash)
    ?.preload()
    .catch(() => undefined) ?? Promise.resolve();
void first.then(() => {
  if (!root) return;
  createRoot(root).render(
    <StrictMode>
      <QueryClientProvider client={queryClient}>
        <App />
      </QueryClientProvider>
    </StrictMode>,
  );
});
