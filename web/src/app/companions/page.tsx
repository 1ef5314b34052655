"use client";

import { useApolloClient, useMutation, useQuery } from "@apollo/client/react";
import Link from "next/link";
import { useRouter } from "next/navigation";
import { type ChangeEvent, useState } from "react";

import { useApp } from "@/app/providers";
import { CompanionForm, type CompanionValues, valuesOf } from "@/components/CompanionForm";
import { RequireAuth } from "@/components/Nav";
import type {
  CharacterCardFormat,
  CompanionFieldsFragment,
  ExportCharacterCardMutation,
} from "@/gql/graphql";
import { errorCode, errorText } from "@/lib/errors";
import {
  COMPANIONS,
  CREATE_COMPANION,
  DELETE_COMPANION,
  EXPORT_CHARACTER_CARD,
  START_CONVERSATION,
  UPDATE_COMPANION,
} from "@/lib/operations";
import { importCharacterCard } from "@/lib/upload";

type CardExport = ExportCharacterCardMutation["exportCharacterCard"];

export default function CompanionsPage() {
  return (
    <RequireAuth>
      <Companions />
    </RequireAuth>
  );
}

function Companions() {
  const router = useRouter();
  const client = useApolloClient();
  const { graphqlUrl, session } = useApp();
  const { data, loading, error } = useQuery(COMPANIONS);
  const [importing, setImporting] = useState(false);
  const [imported, setImported] = useState<string | null>(null);
  const [exports, setExports] = useState<Record<string, CardExport>>({});
  const [exportCard] = useMutation(EXPORT_CHARACTER_CARD);
  const [creating, setCreating] = useState(false);
  const [editing, setEditing] = useState<string | null>(null);
  const [actionError, setActionError] = useState<string | null>(null);
  const [createCompanion] = useMutation(CREATE_COMPANION, { refetchQueries: [COMPANIONS] });
  const [updateCompanion] = useMutation(UPDATE_COMPANION);
  const [deleteCompanion] = useMutation(DELETE_COMPANION, { refetchQueries: [COMPANIONS] });
  const [startConversation] = useMutation(START_CONVERSATION);

  async function create(values: CompanionValues) {
    const { voiceProfileId, characterAssetId, ...rest } = values;
    await createCompanion({ variables: { input: { ...rest, voiceProfileId, characterAssetId } } });
    setCreating(false);
  }

  async function update(companion: CompanionFieldsFragment, values: CompanionValues) {
    const { voiceProfileId, characterAssetId, ...rest } = values;
    await updateCompanion({
      variables: {
        id: companion.id,
        input: {
          ...rest,
          voiceProfileId,
          characterAssetId,
          clearVoiceProfile: voiceProfileId === null && companion.voiceProfile != null,
          clearCharacterAsset: characterAssetId === null && companion.characterAsset != null,
        },
      },
    });
    setEditing(null);
  }

  async function remove(companion: CompanionFieldsFragment) {
    if (!window.confirm(`Delete ${companion.name} and every conversation with them?`)) return;
    try {
      await deleteCompanion({ variables: { id: companion.id } });
    } catch (e) {
      setActionError(errorText(e));
    }
  }

  /** Opens the newest conversation, or starts one: its stream then begins before the greeting. */
  async function talk(companionId: string, existing: string | undefined) {
    try {
      if (existing) {
        router.push(`/conversations/${existing}`);
        return;
      }
      const { data: started } = await startConversation({ variables: { companionId } });
      const conversation = started?.startConversation;
      if (conversation)
        router.push(
          `/conversations/${conversation.id}?from=${encodeURIComponent(conversation.liveCursor)}`,
        );
    } catch (e) {
      setActionError(errorText(e));
    }
  }

  /** A Character Card file (.json, .png, .charx) becomes a new companion. */
  async function importCard(event: ChangeEvent<HTMLInputElement>) {
    const input = event.currentTarget;
    const file = input.files?.[0];
    if (!file) return;
    setImporting(true);
    setActionError(null);
    setImported(null);
    try {
      const companion = await importCharacterCard(graphqlUrl, session, file);
      await client.refetchQueries({ include: [COMPANIONS] });
      setImported(companion.name);
    } catch (e) {
      const { code, field } = errorCode(e);
      const where =
        code === "BAD_USER_INPUT" && field && field !== "file" ? ` (card field ${field})` : "";
      setActionError(`${file.name} was not imported: ${errorText(e)}${where}`);
    } finally {
      setImporting(false);
      input.value = ""; // the same file can be chosen again
    }
  }

  async function exportAs(companionId: string, format: CharacterCardFormat) {
    setActionError(null);
    try {
      const { data: written } = await exportCard({ variables: { companionId, format } });
      if (written) setExports((all) => ({ ...all, [companionId]: written.exportCharacterCard }));
    } catch (e) {
      setActionError(errorText(e));
    }
  }

  const companions = data?.companions.nodes ?? [];
  return (
    <section>
      <header className="row">
        <h1>Your companions</h1>
        <span className="spacer" />
        <label
          className={`button secondary${importing ? " busy" : ""}`}
          title="Character Card V2 or V3: .json, .png or .charx"
        >
          {importing ? "Importing…" : "Import a character card"}
          <input
            type="file"
            name="card"
            accept=".json,.png,.charx,application/json,image/png"
            onChange={importCard}
            disabled={importing}
            hidden
          />
        </label>
        {!creating && (
          <button type="button" onClick={() => setCreating(true)}>
            New companion
          </button>
        )}
      </header>
      {imported && (
        <p className="ok" role="status" data-testid="imported">
          {imported} joined your companions.
        </p>
      )}
      {error && <p className="error">{errorText(error)}</p>}
      {actionError && (
        <p className="error" role="alert">
          {actionError}
        </p>
      )}
      {creating && (
        <div className="card">
          <h2>New companion</h2>
          <CompanionForm
            initial={valuesOf()}
            submitLabel="Create"
            onSubmit={create}
            onCancel={() => setCreating(false)}
          />
        </div>
      )}
      {loading && !data && <p className="muted">Loading…</p>}
      {data && companions.length === 0 && !creating && (
        <p className="muted">No companions yet: create one.</p>
      )}
      <ul className="cards">
        {companions.map((c) => (
          <li key={c.id} className="card companion" data-companion={c.name}>
            {editing === c.id ? (
              <CompanionForm
                initial={valuesOf(c)}
                submitLabel="Save"
                onSubmit={(values) => update(c, values)}
                onCancel={() => setEditing(null)}
              />
            ) : (
              <>
                <div className="row">
                  {c.pictureUrl && (
                    <img className="avatar" src={c.pictureUrl} alt={`${c.name}'s picture`} />
                  )}
                  <h2>{c.name}</h2>
                </div>
                {c.persona && <p>{c.persona}</p>}
                {c.traits.length > 0 && <p className="muted">{c.traits.join(" · ")}</p>}
                <p className="muted">
                  Voice: {c.voiceProfile?.name ?? "default"} · Character:{" "}
                  {c.characterAsset?.name ?? "default"}
                </p>
                <p className="muted">
                  {c.memoryEnabled ? "Remembers what you tell them" : "Memory off"}
                  {c.lorebookEntryCount > 0 &&
                    ` · Lorebook: ${c.lorebookEntryCount} ${c.lorebookEntryCount === 1 ? "entry" : "entries"}`}
                </p>
                <div className="row">
                  <button type="button" onClick={() => talk(c.id, c.conversations.nodes[0]?.id)}>
                    Talk
                  </button>
                  {c.conversations.nodes.length > 0 && (
                    <button
                      type="button"
                      className="secondary"
                      onClick={() => talk(c.id, undefined)}
                    >
                      New conversation
                    </button>
                  )}
                  <button type="button" className="secondary" onClick={() => setEditing(c.id)}>
                    Edit
                  </button>
                  <button type="button" className="danger" onClick={() => remove(c)}>
                    Delete
                  </button>
                </div>
                <div className="row card-links">
                  <Link href={`/companions/${c.id}/memories`}>Memories</Link>
                  <span className="muted">· Export card:</span>
                  <button type="button" className="link" onClick={() => exportAs(c.id, "JSON")}>
                    JSON
                  </button>
                  <button type="button" className="link" onClick={() => exportAs(c.id, "PNG")}>
                    PNG
                  </button>
                  {exports[c.id] && (
                    <a
                      href={exports[c.id]!.url}
                      download={exports[c.id]!.filename}
                      data-testid="card-download"
                      data-format={exports[c.id]!.format}
                    >
                      Download {exports[c.id]!.filename}
                    </a>
                  )}
                </div>
              </>
            )}
          </li>
        ))}
      </ul>
    </section>
  );
}
