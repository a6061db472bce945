// A run's artifacts: a folder tree loaded one level at a time, a preview of the chosen file,
// download of any file or folder (a folder comes as a zip).
import { useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { ErrorView, Loading } from "../components/common";
import { api, artifactUrl, artifactZipUrl } from "../lib/api";
import { formatBytes } from "../lib/format";
import { useParams } from "../lib/route";
import type { FileInfo } from "../lib/types";
import { baseName } from "./kinds";
import { Preview } from "./Preview";

function Icon({ folder, open }: { folder: boolean; open: boolean }) {
  return (
    <svg width="16" height="14" viewBox="0 0 16 14" aria-hidden="true" style={{ flex: "none" }}>
      {folder ? (
        <>
          <path
            d={open ? "M1 3 L5 7 L1 11 Z" : "M1 3 L5 7 L1 11 Z"}
            transform={open ? "rotate(90 3 7)" : undefined}
            fill="currentColor"
            opacity={0.6}
          />
          <path d="M6 3 h3 l1 1.5 h5 v8 h-9 z" fill="none" stroke="currentColor" strokeWidth="1.1" />
        </>
      ) : (
        <path d="M7 1.5 h5 l2.5 2.5 v8.5 h-7.5 z" fill="none" stroke="currentColor" strokeWidth="1.1" />
      )}
    </svg>
  );
}

function Folder({
  runId,
  path,
  depth,
  selected,
  onSelect,
}: {
  runId: string;
  path: string;
  depth: number;
  selected: string;
  onSelect: (file: FileInfo) => void;
}) {
  const query = useQuery({
    queryKey: ["artifacts", runId, path],
    queryFn: ({ signal }) => api.listArtifacts(runId, path, signal),
  });
  const [open, setOpen] = useState<Set<string>>(new Set());
  if (query.isPending)
    return (
      <div className="muted small" style={{ paddingLeft: 8 + depth * 14 }}>
        loading…
      </div>
    );
  if (query.isError) return <ErrorView error={query.error} />;
  const files = [...query.data].sort((a, b) => Number(b.is_dir) - Number(a.is_dir) || a.path.localeCompare(b.path));
  if (files.length === 0 && depth === 0) return <div className="empty small">This run has no artifacts.</div>;
  return (
    <>
      {files.map((file) => (
        <div key={file.path}>
          <button
            type="button"
            aria-current={selected === file.path}
            aria-expanded={file.is_dir ? open.has(file.path) : undefined}
            style={{ paddingLeft: 8 + depth * 14 }}
            title={file.path}
            onClick={() => {
              onSelect(file);
              if (file.is_dir)
                setOpen((prev) => {
                  const next = new Set(prev);
                  if (next.has(file.path)) next.delete(file.path);
                  else next.add(file.path);
                  return next;
                });
            }}
          >
            <Icon folder={file.is_dir} open={open.has(file.path)} />
            <span className="ellipsis">{baseName(file.path)}</span>
            {!file.is_dir && (
              <span className="muted small" style={{ marginLeft: "auto" }}>
                {formatBytes(file.file_size)}
              </span>
            )}
          </button>
          {file.is_dir && open.has(file.path) && (
            <Folder runId={runId} path={file.path} depth={depth + 1} selected={selected} onSelect={onSelect} />
          )}
        </div>
      ))}
    </>
  );
}

function FolderView({ runId, path }: { runId: string; path: string }) {
  const query = useQuery({
    queryKey: ["artifacts", runId, path],
    queryFn: ({ signal }) => api.listArtifacts(runId, path, signal),
  });
  return (
    <>
      <div className="row">
        <strong className="mono">{path || "/"}</strong>
        <span className="spacer" />
        <a className="button" href={artifactZipUrl(runId, path)} download>
          Download folder (.zip)
        </a>
      </div>
      {query.isPending ? (
        <Loading what="folder" />
      ) : query.isError ? (
        <ErrorView error={query.error} />
      ) : (
        <span className="muted">
          {query.data.length} item{query.data.length === 1 ? "" : "s"}. Choose a file to preview it.
        </span>
      )}
    </>
  );
}

export default function ArtifactBrowser({ runId }: { runId: string }) {
  const [params, setParams] = useParams();
  const selectedPath = params.get("path") ?? "";
  // The chosen entry comes from its folder's listing (cached by the tree), so a link to a
  // file knows its size and kind before anything is loaded.
  const parent = selectedPath.includes("/") ? selectedPath.slice(0, selectedPath.lastIndexOf("/")) : "";
  const listing = useQuery({
    queryKey: ["artifacts", runId, parent],
    queryFn: ({ signal }) => api.listArtifacts(runId, parent, signal),
    enabled: Boolean(selectedPath),
  });
  const current = selectedPath ? listing.data?.find((f) => f.path === selectedPath) : undefined;
  return (
    <div className="artifacts" data-testid="artifacts">
      <div className="tree" role="tree" aria-label="Artifacts">
        <Folder
          runId={runId}
          path=""
          depth={0}
          selected={selectedPath}
          onSelect={(file) => setParams({ path: file.path })}
        />
      </div>
      <div className="preview" data-testid="artifact-preview">
        {!selectedPath ? (
          <FolderView runId={runId} path="" />
        ) : listing.isPending ? (
          <Loading what="file" />
        ) : listing.isError ? (
          <ErrorView error={listing.error} />
        ) : !current ? (
          <div className="banner error" role="alert">
            <strong>No artifact "{selectedPath}".</strong> It may have been deleted.
          </div>
        ) : current.is_dir ? (
          <FolderView runId={runId} path={current.path} />
        ) : (
          <>
            <div className="row">
              <strong className="mono ellipsis" title={current.path}>
                {current.path}
              </strong>
              <span className="muted small">{formatBytes(current.file_size)}</span>
              <span className="spacer" />
              <a className="button" href={artifactUrl(runId, current.path)} download={baseName(current.path)}>
                Download
              </a>
            </div>
            <Preview key={current.path} runId={runId} file={current} />
          </>
        )}
      </div>
    </div>
  );
}
