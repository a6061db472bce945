// The run's description: Markdown in the tag mlflow.note.content, rendered sanitized.
import { useQueryClient } from "@tanstack/react-query";
import { useMemo, useState } from "react";
import { ErrorView } from "../../components/common";
import { api } from "../../lib/api";
import { NOTE_TAG } from "../../lib/filter";
import { renderMarkdown } from "../../lib/markdown";

export function Description({ runId, text }: { runId: string; text: string }) {
  const client = useQueryClient();
  const [editing, setEditing] = useState(false);
  const [draft, setDraft] = useState(text);
  const [preview, setPreview] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [saving, setSaving] = useState(false);
  const shown = editing ? draft : text;
  const html = useMemo(() => (preview || !editing ? renderMarkdown(shown) : ""), [shown, preview, editing]);

  const save = async () => {
    setSaving(true);
    setError(null);
    try {
      await api.setRunTag(runId, NOTE_TAG, draft);
      await client.invalidateQueries({ queryKey: ["run", runId] });
      setEditing(false);
    } catch (err) {
      setError(err);
    } finally {
      setSaving(false);
    }
  };

  return (
    <div className="card" data-testid="description">
      <div className="card-head">
        <h2 style={{ margin: 0 }}>Description</h2>
        <span className="spacer" />
        {editing ? (
          <>
            <button
              type="button"
              className={preview ? "pressed" : ""}
              aria-pressed={preview}
              onClick={() => setPreview((p) => !p)}
            >
              Preview
            </button>
            <button type="button" onClick={() => setEditing(false)}>
              Cancel
            </button>
            <button type="button" className="primary" disabled={saving} onClick={() => void save()}>
              Save
            </button>
          </>
        ) : (
          <button
            type="button"
            onClick={() => {
              setDraft(text);
              setEditing(true);
              setPreview(false);
            }}
          >
            Edit
          </button>
        )}
      </div>
      <div className="card-body">
        {error ? <ErrorView error={error} title="Not saved" /> : null}
        {editing && !preview ? (
          <textarea
            aria-label="Description (Markdown)"
            value={draft}
            onChange={(e) => setDraft(e.target.value)}
            autoFocus
          />
        ) : shown ? (
          // Sanitized by DOMPurify in renderMarkdown: no scripts, handlers or javascript: URLs.
          <div className="markdown" data-testid="description-html" dangerouslySetInnerHTML={{ __html: html }} />
        ) : (
          <span className="muted">No description. Edit to add notes in Markdown.</span>
        )}
      </div>
    </div>
  );
}
