// Previews of one artifact file. Nothing big is loaded: the size is checked first, and a
// file over its kind's limit (or binary) is offered for download instead, except plain text
// (logs), whose first part is shown. HTML is shown in a sandboxed iframe with scripts off;
// Markdown is sanitized.
import { useQuery } from "@tanstack/react-query";
import { useEffect, useMemo, useState } from "react";
import { ErrorView, Loading } from "../components/common";
import { artifactUrl, fetchArtifact } from "../lib/api";
import { formatBytes } from "../lib/format";
import { renderMarkdown } from "../lib/markdown";
import type { FileInfo } from "../lib/types";
import { type PreviewKind, PREVIEW_LIMITS, looksBinary, previewKind } from "./kinds";
import { DataTable, JsonView, MLmodelView, parseCsv } from "./views";

function Message({ children }: { children: React.ReactNode }) {
  return (
    <div className="banner warn" data-testid="preview-message">
      {children}
    </div>
  );
}

function TextPreview({
  runId,
  file,
  kind,
  head,
}: {
  runId: string;
  file: FileInfo;
  kind: PreviewKind;
  /** Load only this many bytes from the start of the file. */
  head?: number;
}) {
  const query = useQuery({
    queryKey: ["artifact-bytes", runId, file.path, head],
    queryFn: ({ signal }) => fetchArtifact(runId, file.path, signal, head),
    staleTime: 60_000,
  });
  const bytes = useMemo(() => (query.data ? new Uint8Array(query.data) : null), [query.data]);
  const binary = bytes ? looksBinary(bytes) : false;
  // stream: true keeps back a character cut in two at the end of a head.
  const text = useMemo(
    () => (bytes && !binary ? new TextDecoder().decode(bytes, { stream: head !== undefined }) : ""),
    [bytes, binary, head],
  );
  const [svgUrl, setSvgUrl] = useState<string | null>(null);
  useEffect(() => {
    if (kind !== "svg" || !bytes || binary) return undefined;
    const url = URL.createObjectURL(new Blob([bytes as BlobPart], { type: "image/svg+xml" }));
    setSvgUrl(url);
    return () => URL.revokeObjectURL(url);
  }, [kind, bytes, binary]);

  if (query.isPending) return <Loading what="file" />;
  if (query.isError)
    return <ErrorView error={query.error} title="Could not read the file" retry={() => void query.refetch()} />;
  if (binary)
    return (
      <Message>
        This file looks binary ({formatBytes(file.file_size)}): there is no preview. Download it to open it.
      </Message>
    );
  switch (kind) {
    case "svg":
      return svgUrl ? <img src={svgUrl} alt={file.path} /> : null;
    case "html":
      // sandbox="" : no scripts, no forms, no same-origin access, no top navigation.
      return (
        <iframe
          title={`Preview of ${file.path}`}
          sandbox=""
          srcDoc={text}
          referrerPolicy="no-referrer"
          data-testid="html-preview"
        />
      );
    case "json":
      return <JsonView text={text} />;
    case "csv":
      return <DataTable table={parseCsv(text, file.path.toLowerCase().endsWith(".tsv") ? "\t" : ",")} />;
    case "mlmodel":
      return <MLmodelView text={text} />;
    case "markdown":
      return <div className="markdown" dangerouslySetInnerHTML={{ __html: renderMarkdown(text) }} />;
    default:
      return <pre data-testid="text-preview">{text}</pre>;
  }
}

export function Preview({ runId, file }: { runId: string; file: FileInfo }) {
  const kind = previewKind(file.path);
  const size = file.file_size ?? 0;
  if (kind === "binary")
    return <Message>Binary file ({formatBytes(size)}): there is no preview. Download it to open it.</Message>;
  if (kind === "text" && size > PREVIEW_LIMITS.text)
    return (
      <>
        <Message>
          This file is {formatBytes(size)}: showing its first {formatBytes(PREVIEW_LIMITS.text)}. Download it for the
          rest.
        </Message>
        <TextPreview runId={runId} file={file} kind={kind} head={PREVIEW_LIMITS.text} />
      </>
    );
  if (size > PREVIEW_LIMITS[kind])
    return (
      <Message>
        This file is {formatBytes(size)}, too large to preview here (the limit for this kind is{" "}
        {formatBytes(PREVIEW_LIMITS[kind])}). Download it instead.
      </Message>
    );
  if (size === 0) return <Message>This file is empty.</Message>;
  if (kind === "image") return <img src={artifactUrl(runId, file.path)} alt={file.path} data-testid="image-preview" />;
  return <TextPreview runId={runId} file={file} kind={kind} />;
}
