// Hash routing: the whole view state lives in the URL after "#", so a link reproduces it.
//   #/                                experiments
//   #/experiments/1,2?filter=&order=  runs of experiments 1 and 2
//   #/runs/<run id>?tab=charts        one run
//   #/compare?runs=a,b                selected runs side by side
import { useCallback, useSyncExternalStore } from "react";

export interface Route {
  path: string[];
  params: URLSearchParams;
}

function parse(hash: string): Route {
  const text = hash.replace(/^#/, "");
  const [pathPart = "", queryPart = ""] = text.split(/\?(.*)/s, 2);
  const path = pathPart
    .split("/")
    .filter(Boolean)
    .map((p) => {
      try {
        return decodeURIComponent(p);
      } catch {
        return p;
      }
    });
  return { path, params: new URLSearchParams(queryPart) };
}

function subscribe(onChange: () => void): () => void {
  window.addEventListener("hashchange", onChange);
  return () => window.removeEventListener("hashchange", onChange);
}

const snapshot = () => window.location.hash;

export function href(path: string[], params?: Record<string, string | undefined> | URLSearchParams): string {
  const search = new URLSearchParams();
  if (params instanceof URLSearchParams) params.forEach((v, k) => search.append(k, v));
  else if (params) for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== "") search.set(k, v);
  const query = search.toString();
  return `#/${path.map(encodeURIComponent).join("/")}${query ? `?${query}` : ""}`;
}

export function navigate(target: string, replace = false): void {
  if (replace) {
    const url = `${window.location.pathname}${window.location.search}${target}`;
    window.history.replaceState(window.history.state, "", url);
    window.dispatchEvent(new HashChangeEvent("hashchange"));
  } else {
    window.location.hash = target;
  }
}

export function useRoute(): Route {
  const hash = useSyncExternalStore(subscribe, snapshot);
  return parse(hash);
}

/** Read and update query parameters of the current route. `push` records a history entry. */
export function useParams(): [
  URLSearchParams,
  (changes: Record<string, string | null | undefined>, push?: boolean) => void,
] {
  const route = useRoute();
  const update = useCallback((changes: Record<string, string | null | undefined>, push = false) => {
    const current = parse(window.location.hash);
    for (const [key, value] of Object.entries(changes)) {
      if (value === null || value === undefined || value === "") current.params.delete(key);
      else current.params.set(key, value);
    }
    navigate(href(current.path, current.params), !push);
  }, []);
  return [route.params, update];
}

/** Lists in the URL are comma-separated; items are URI-encoded so commas inside survive. */
export function readList(params: URLSearchParams, name: string): string[] {
  const raw = params.get(name);
  if (!raw) return [];
  return raw
    .split(",")
    .filter(Boolean)
    .map((item) => item.replace(/%2C/gi, ",").replace(/%25/g, "%"));
}

/** Items joined by commas; a comma or percent sign inside an item is escaped. */
export function writeList(items: string[]): string | null {
  return items.length ? items.map((i) => i.replace(/%/g, "%25").replace(/,/g, "%2C")).join(",") : null;
}
