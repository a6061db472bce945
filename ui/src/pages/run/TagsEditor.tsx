// The run's tags: add, edit and delete. System tags (mlflow.*) are listed apart.
import { useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { ErrorView } from "../../components/common";
import { api } from "../../lib/api";
import { NOTE_TAG } from "../../lib/filter";
import type { KeyValue } from "../../lib/types";

export function TagsEditor({ runId, tags }: { runId: string; tags: KeyValue[] }) {
  const client = useQueryClient();
  const [editing, setEditing] = useState<string | null>(null);
  const [value, setValue] = useState("");
  const [newKey, setNewKey] = useState("");
  const [newValue, setNewValue] = useState("");
  const [error, setError] = useState<unknown>(null);
  const [showSystem, setShowSystem] = useState(false);
  const user = tags.filter((t) => !t.key.startsWith("mlflow.")).sort((a, b) => a.key.localeCompare(b.key));
  const system = tags
    .filter((t) => t.key.startsWith("mlflow.") && t.key !== NOTE_TAG)
    .sort((a, b) => a.key.localeCompare(b.key));

  const run = async (work: () => Promise<unknown>) => {
    setError(null);
    try {
      await work();
      await client.invalidateQueries({ queryKey: ["run", runId] });
      return true;
    } catch (err) {
      setError(err);
      return false;
    }
  };

  const row = (tag: KeyValue, editable: boolean) => (
    <tr key={tag.key}>
      <td className="mono break-anywhere" style={{ width: "38%" }}>
        {tag.key}
      </td>
      <td className="mono break-anywhere">
        {editing === tag.key ? (
          <input
            aria-label={`Value of ${tag.key}`}
            value={value}
            autoFocus
            style={{ width: "100%" }}
            onChange={(e) => setValue(e.target.value)}
            onKeyDown={(e) => {
              if (e.key === "Enter")
                void run(() => api.setRunTag(runId, tag.key, value)).then((ok) => ok && setEditing(null));
              if (e.key === "Escape") setEditing(null);
            }}
          />
        ) : (
          tag.value
        )}
      </td>
      <td className="nowrap" style={{ width: 1 }}>
        {editable &&
          (editing === tag.key ? (
            <button
              type="button"
              onClick={() => void run(() => api.setRunTag(runId, tag.key, value)).then((ok) => ok && setEditing(null))}
            >
              Save
            </button>
          ) : (
            <>
              <button
                type="button"
                className="link"
                aria-label={`Edit tag ${tag.key}`}
                onClick={() => {
                  setEditing(tag.key);
                  setValue(tag.value);
                }}
              >
                Edit
              </button>{" "}
              <button
                type="button"
                className="link"
                aria-label={`Delete tag ${tag.key}`}
                onClick={() => void run(() => api.deleteRunTag(runId, tag.key))}
              >
                Delete
              </button>
            </>
          ))}
      </td>
    </tr>
  );

  return (
    <div className="card" data-testid="tags">
      <div className="card-head">
        <h2 style={{ margin: 0 }}>Tags</h2>
        <span className="muted small">{user.length}</span>
        <span className="spacer" />
        <label className="small">
          <input type="checkbox" checked={showSystem} onChange={(e) => setShowSystem(e.target.checked)} />
          System tags ({system.length})
        </label>
      </div>
      {error ? <ErrorView error={error} title="Tag not saved" /> : null}
      <div style={{ maxHeight: 420, overflow: "auto" }}>
        <table className="plain" aria-label="Tags">
          <tbody>
            {user.map((t) => row(t, true))}
            {showSystem && system.map((t) => row(t, true))}
          </tbody>
        </table>
      </div>
      <form
        className="row"
        style={{ padding: 8 }}
        onSubmit={(e) => {
          e.preventDefault();
          if (!newKey.trim()) return;
          void run(() => api.setRunTag(runId, newKey.trim(), newValue)).then((ok) => {
            if (ok) {
              setNewKey("");
              setNewValue("");
            }
          });
        }}
      >
        <input placeholder="key" aria-label="New tag key" value={newKey} onChange={(e) => setNewKey(e.target.value)} />
        <input
          placeholder="value"
          aria-label="New tag value"
          className="grow"
          value={newValue}
          onChange={(e) => setNewValue(e.target.value)}
        />
        <button type="submit" disabled={!newKey.trim()}>
          Add tag
        </button>
      </form>
    </div>
  );
}
