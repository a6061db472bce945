// Small pieces every page uses: loading and error states, empty states, status badges, tabs.
import { useQueryClient } from "@tanstack/react-query";
import {
  Component,
  type ErrorInfo,
  type KeyboardEvent,
  type ReactNode,
  useEffect,
  useRef,
  useState,
  useSyncExternalStore,
} from "react";
import { ApiError, connection } from "../lib/api";
import { useFocusTrap } from "../lib/focus";
import type { RunStatus } from "../lib/types";

export function Loading({ what }: { what: string }) {
  return (
    <div className="loading" role="status">
      <span className="spinner" aria-hidden="true" /> Loading {what}…
    </div>
  );
}

export function errorMessage(error: unknown): string {
  if (error instanceof ApiError) return error.message;
  if (error instanceof Error) return error.message;
  return String(error);
}

export function ErrorView({ error, title, retry }: { error: unknown; title?: string; retry?: () => void }) {
  const network = error instanceof ApiError && error.isNetwork;
  return (
    <div className="banner error" role="alert">
      <strong>{title ?? (network ? "The server is not answering" : "Something went wrong")}</strong>
      <div className="mono" style={{ whiteSpace: "pre-wrap", marginTop: 4 }}>
        {errorMessage(error)}
      </div>
      {retry && (
        <div style={{ marginTop: 8 }}>
          <button type="button" onClick={retry}>
            Try again
          </button>
        </div>
      )}
    </div>
  );
}

/** While the server does not answer: a banner, a health check every few seconds, and once
 * the server is back, everything on screen is fetched again. */
export function OfflineBanner() {
  const offline = useSyncExternalStore(connection.subscribe, connection.isOffline);
  const client = useQueryClient();
  useEffect(() => {
    if (!offline) return undefined;
    const timer = window.setInterval(() => {
      void connection.probe().then((back) => {
        if (back) void client.refetchQueries({ type: "active" });
      });
    }, 3000);
    return () => window.clearInterval(timer);
  }, [offline, client]);
  if (!offline) return null;
  return (
    <div className="banner error offline" role="alert">
      <strong>Cannot reach the cairn server.</strong> Is <code>cairn ui</code> (or <code>cairn server</code>) still
      running? This page reconnects on its own when it is back.
    </div>
  );
}

export function Status({ status }: { status?: RunStatus | string | null }) {
  const value = status ?? "UNKNOWN";
  return <span className={`status ${value}`}>{value.charAt(0) + value.slice(1).toLowerCase()}</span>;
}

export const FIRST_RUN_CODE = `import cairn

with cairn.start_run():
    cairn.log_metric("loss", 0.25)`;

export function FirstRunHelp({ experiment }: { experiment?: string }) {
  const code = experiment
    ? `import cairn

cairn.set_experiment(${JSON.stringify(experiment)})
with cairn.start_run():
    cairn.log_metric("loss", 0.25)`
    : FIRST_RUN_CODE;
  return (
    <div className="empty">
      <strong style={{ color: "var(--text)" }}>No runs yet.</strong>
      <span>Log your first run from Python, then reload this page:</span>
      <pre>{code}</pre>
      <span className="small">
        Point it at a server with <code>cairn.set_tracking_uri("{window.location.origin}")</code>; by default it logs
        into <code>./mlruns</code>.
      </span>
    </div>
  );
}

export interface TabSpec {
  id: string;
  label: ReactNode;
}

/** A tab list with arrow-key navigation (WAI-ARIA tabs pattern). */
export function Tabs({
  tabs,
  current,
  onChange,
}: {
  tabs: TabSpec[];
  current: string;
  onChange: (id: string) => void;
}) {
  const onKey = (event: KeyboardEvent<HTMLDivElement>) => {
    const index = tabs.findIndex((t) => t.id === current);
    let next = index;
    if (event.key === "ArrowRight") next = (index + 1) % tabs.length;
    else if (event.key === "ArrowLeft") next = (index - 1 + tabs.length) % tabs.length;
    else return;
    event.preventDefault();
    const tab = tabs[next];
    if (tab) {
      onChange(tab.id);
      document.getElementById(`tab-${tab.id}`)?.focus();
    }
  };
  return (
    <div className="tabs" role="tablist" onKeyDown={onKey}>
      {tabs.map((tab) => (
        <button
          key={tab.id}
          id={`tab-${tab.id}`}
          type="button"
          role="tab"
          aria-selected={tab.id === current}
          tabIndex={tab.id === current ? 0 : -1}
          onClick={() => onChange(tab.id)}
        >
          {tab.label}
        </button>
      ))}
    </div>
  );
}

/** Never a blank page: a render error shows what broke and a way back. */
export class ErrorBoundary extends Component<{ children: ReactNode; resetKey?: string }, { error: unknown }> {
  state: { error: unknown } = { error: null };

  static getDerivedStateFromError(error: unknown) {
    return { error };
  }

  componentDidCatch(error: unknown, info: ErrorInfo) {
    console.error("cairn UI error", error, info.componentStack);
  }

  componentDidUpdate(previous: { resetKey?: string }) {
    if (previous.resetKey !== this.props.resetKey && this.state.error) this.setState({ error: null });
  }

  render() {
    if (this.state.error) {
      return (
        <div className="page">
          <ErrorView
            error={this.state.error}
            title="This page failed to render"
            retry={() => this.setState({ error: null })}
          />
          <a href="#/">Back to the experiments</a>
        </div>
      );
    }
    return this.props.children;
  }
}

/** A modal with a single text field (create, rename). */
export function PromptDialog({
  title,
  label,
  initial = "",
  confirm,
  onSubmit,
  onClose,
}: {
  title: string;
  label: string;
  initial?: string;
  confirm: string;
  onSubmit: (value: string) => Promise<unknown>;
  onClose: () => void;
}) {
  const [value, setValue] = useState(initial);
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const dialog = useRef<HTMLDivElement>(null);
  useFocusTrap(dialog);
  const submit = async () => {
    if (!value.trim()) return;
    setBusy(true);
    setError(null);
    try {
      await onSubmit(value.trim());
      onClose();
    } catch (err) {
      setError(err);
      setBusy(false);
    }
  };
  return (
    <div className="modal-backdrop" onMouseDown={(e) => e.target === e.currentTarget && onClose()}>
      <div
        ref={dialog}
        className="modal"
        role="dialog"
        aria-modal="true"
        aria-label={title}
        onKeyDown={(e) => e.key === "Escape" && onClose()}
      >
        <h2>{title}</h2>
        <label style={{ flexDirection: "column", alignItems: "stretch" }}>
          <span className="muted small">{label}</span>
          <input
            autoFocus
            value={value}
            onChange={(e) => setValue(e.target.value)}
            onKeyDown={(e) => e.key === "Enter" && void submit()}
          />
        </label>
        {error ? <ErrorView error={error} title="Not saved" /> : null}
        <div className="row" style={{ justifyContent: "flex-end" }}>
          <button type="button" onClick={onClose}>
            Cancel
          </button>
          <button type="button" className="primary" disabled={busy || !value.trim()} onClick={() => void submit()}>
            {confirm}
          </button>
        </div>
      </div>
    </div>
  );
}
