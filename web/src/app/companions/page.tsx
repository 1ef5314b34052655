"use client";

import { useMutation, useQuery } from "@apollo/client/react";
import { useRouter } from "next/navigation";
import { useState } from "react";

import { CompanionForm, type CompanionValues, valuesOf } from "@/components/CompanionForm";
import { RequireAuth } from "@/components/Nav";
import type { CompanionFieldsFragment } from "@/gql/graphql";
import { errorText } from "@/lib/errors";
import {
  COMPANIONS,
  CREATE_COMPANION,
  DELETE_COMPANION,
  START_CONVERSATION,
  UPDATE_COMPANION,
} from "@/lib/operations";

export default function CompanionsPage() {
  return (
    <RequireAuth>
      <Companions />
    </RequireAuth>
  );
}

function Companions() {
  const router = useRouter();
  const { data, loading, error } = useQuery(COMPANIONS);
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

  async function talk(companionId: string, existing: string | undefined) {
    try {
      let id = existing;
      if (!id) {
        const { data: started } = await startConversation({ variables: { companionId } });
        id = started?.startConversation.id;
      }
      if (id) router.push(`/conversations/${id}`);
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
        {!creating && (
          <button type="button" onClick={() => setCreating(true)}>
            New companion
          </button>
        )}
      </header>
      {error && <p className="error">{errorText(error)}</p>}
      {actionError && (
        <p className="error" role="alert">
          {actionError}
        </p>
      )}
      {creating && (
        <div className="card">
          <h2>New companion</h2>
          <CompanionForm initial={valuesOf()} submitLabel="Create" onSubmit={create} onCancel={() => setCreating(false)} />
        </div>
      )}
      {loading && !data && <p className="muted">Loading…</p>}
      {data && companions.length === 0 && !creating && <p className="muted">No companions yet: create one.</p>}
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
                <h2>{c.name}</h2>
                {c.persona && <p>{c.persona}</p>}
                {c.traits.length > 0 && <p className="muted">{c.traits.join(" · ")}</p>}
                <p className="muted">
                  Voice: {c.voiceProfile?.name ?? "default"} · Character: {c.characterAsset?.name ?? "default"}
                </p>
                <div className="row">
                  <button type="button" onClick={() => talk(c.id, c.conversations.nodes[0]?.id)}>
                    Talk
                  </button>
                  <button type="button" className="secondary" onClick={() => setEditing(c.id)}>
                    Edit
                  </button>
                  <button type="button" className="danger" onClick={() => remove(c)}>
                    Delete
                  </button>
                </div>
              </>
            )}
          </li>
        ))}
      </ul>
    </section>
  );
}
