// Which preview a file gets, from its name; and how much of it the browser may load.
export type PreviewKind =
  "image" | "svg" | "html" | "json" | "csv" | "yaml" | "mlmodel" | "markdown" | "text" | "binary";

/** Files above this are never loaded into a preview: download them instead. */
export const PREVIEW_LIMITS: Record<PreviewKind, number> = {
  image: 25 * 1024 * 1024,
  svg: 5 * 1024 * 1024,
  html: 5 * 1024 * 1024,
  json: 5 * 1024 * 1024,
  csv: 5 * 1024 * 1024,
  yaml: 2 * 1024 * 1024,
  mlmodel: 2 * 1024 * 1024,
  markdown: 2 * 1024 * 1024,
  text: 2 * 1024 * 1024,
  binary: 0,
};

const BY_EXTENSION: Record<string, PreviewKind> = {
  png: "image",
  jpg: "image",
  jpeg: "image",
  gif: "image",
  webp: "image",
  bmp: "image",
  ico: "image",
  avif: "image",
  svg: "svg",
  html: "html",
  htm: "html",
  json: "json",
  geojson: "json",
  csv: "csv",
  tsv: "csv",
  yaml: "yaml",
  yml: "yaml",
  md: "markdown",
  markdown: "markdown",
  txt: "text",
  log: "text",
  py: "text",
  ipynb: "json",
  cfg: "text",
  ini: "text",
  toml: "text",
  sh: "text",
  r: "text",
  sql: "text",
  js: "text",
  ts: "text",
  xml: "text",
  conf: "text",
  out: "text",
  err: "text",
  rst: "text",
  pkl: "binary",
  pickle: "binary",
  bin: "binary",
  pt: "binary",
  pth: "binary",
  ckpt: "binary",
  h5: "binary",
  hdf5: "binary",
  npy: "binary",
  npz: "binary",
  parquet: "binary",
  zip: "binary",
  gz: "binary",
  tar: "binary",
  whl: "binary",
  onnx: "binary",
  joblib: "binary",
  skops: "binary",
  so: "binary",
  exe: "binary",
  pdf: "binary",
  safetensors: "binary",
  tgz: "binary",
  bz2: "binary",
  xz: "binary",
  feather: "binary",
  arrow: "binary",
};

export function baseName(path: string): string {
  const parts = path.split("/");
  return parts[parts.length - 1] ?? path;
}

export function previewKind(path: string): PreviewKind {
  const name = baseName(path);
  if (name === "MLmodel") return "mlmodel";
  if (/^(requirements\.txt|conda\.yaml|python_env\.yaml|LICENSE|README)$/.test(name))
    return name.endsWith(".yaml") ? "yaml" : "text";
  const dot = name.lastIndexOf(".");
  if (dot <= 0) return "text"; // no extension: sniffed for binary content when loaded
  return BY_EXTENSION[name.slice(dot + 1).toLowerCase()] ?? "text";
}

/** Whether bytes look like a binary file (NUL bytes or invalid UTF-8 in the first 8 KB). */
export function looksBinary(bytes: Uint8Array): boolean {
  const head = bytes.subarray(0, 8192);
  if (head.includes(0)) return true;
  try {
    new TextDecoder("utf-8", { fatal: true }).decode(
      head.length === bytes.length ? head : head.subarray(0, head.length - 4),
    );
    return false;
  } catch {
    return true;
  }
}
