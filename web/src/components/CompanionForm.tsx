"use client";

import { useMutation, useQuery } from "@apollo/client/react";
import { type FormEvent, useState } from "react";

import { CharacterPicker } from "@/components/character3d/CharacterPicker";
import type { CompanionFieldsFragment } from "@/gql/graphql";
import { errorText } from "@/lib/errors";
import { COMPANION_OPTIONS, CREATE_VOICE_PROFILE } from "@/lib/operations";

export interface CompanionValues {
  name: string;
  persona: string;
  backstory: string;
  traits: string[];
  greeting: string;
  voiceProfileId: string | null;
  characterAssetId: string | null;
}

export function valuesOf(companion?: CompanionFieldsFragment): CompanionValues {
  return {
    name: companion?.name ?? "",
    persona: companion?.persona ?? "",
    backstory: companion?.backstory ?? "",
    traits: companion?.traits ?? [],
    greeting: companion?.greeting ?? "",
    voiceProfileId: companion?.voiceProfile?.id ?? null,
    characterAssetId: companion?.characterAsset?.id ?? null,
  };
}

/** Name, persona, voice and character of a companion, for creating and for editing. */
export function CompanionForm({
  initial,
  submitLabel,
  onSubmit,
  onCancel,
}: {
  initial: CompanionValues;
  submitLabel: string;
  onSubmit: (values: CompanionValues) => Promise<void>;
  onCancel?: () => void;
}) {
  const [values, setValues] = useState(initial);
  const [traits, setTraits] = useState(initial.traits.join(", "));
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const options = useQuery(COMPANION_OPTIONS);
  const [createVoice] = useMutation(CREATE_VOICE_PROFILE, { refetchQueries: [COMPANION_OPTIONS] });

  const set = (patch: Partial<CompanionValues>) => setValues((v) => ({ ...v, ...patch }));

  async function submit(event: FormEvent) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const list = traits
        .split(",")
        .map((t) => t.trim())
        .filter(Boolean);
      await onSubmit({ ...values, traits: list });
    } catch (e) {
      setError(errorText(e));
    } finally {
      setBusy(false);
    }
  }

  /** "voice:<provider>:<voiceId>" entries make a profile from an offered voice on the spot. */
  async function chooseVoice(choice: string) {
    if (!choice.startsWith("voice:")) {
      set({ voiceProfileId: choice || null });
      return;
    }
    const [, provider, voiceId] = choice.split(":");
    const voice = options.data?.availableVoices.find(
      (v) => v.provider === provider && v.voiceId === voiceId,
    );
    if (!voice) return;
    try {
      const { data } = await createVoice({
        variables: { input: { name: voice.name, provider, voiceId, language: voice.language } },
      });
      if (data) set({ voiceProfileId: data.createVoiceProfile.id });
    } catch (e) {
      setError(errorText(e));
    }
  }

  const data = options.data;
  return (
    <form onSubmit={submit} className="stack companion-form">
      <label>
        Name
        <input
          name="name"
          value={values.name}
          onChange={(e) => set({ name: e.target.value })}
          required
        />
      </label>
      <label>
        Persona
        <textarea
          name="persona"
          rows={3}
          value={values.persona}
          onChange={(e) => set({ persona: e.target.value })}
          placeholder="A cheerful astronomer who loves bad puns"
        />
      </label>
      <label>
        Backstory
        <textarea
          name="backstory"
          rows={2}
          value={values.backstory}
          onChange={(e) => set({ backstory: e.target.value })}
        />
      </label>
      <label>
        Traits (comma separated)
        <input name="traits" value={traits} onChange={(e) => setTraits(e.target.value)} />
      </label>
      <label>
        Greeting
        <input
          name="greeting"
          value={values.greeting}
          onChange={(e) => set({ greeting: e.target.value })}
        />
      </label>
      <label>
        Voice
        <select
          name="voice"
          value={values.voiceProfileId ?? ""}
          onChange={(e) => void chooseVoice(e.target.value)}
        >
          <option value="">Default voice</option>
          {data?.voiceProfiles.map((p) => (
            <option key={p.id} value={p.id}>
              {p.name} ({p.language})
            </option>
          ))}
          {data && data.availableVoices.length > 0 && (
            <optgroup label="New profile from a voice">
              {data.availableVoices.map((v) => (
                <option
                  key={`${v.provider}:${v.voiceId}`}
                  value={`voice:${v.provider}:${v.voiceId}`}
                >
                  {v.name} — {v.provider}, {v.language}
                </option>
              ))}
            </optgroup>
          )}
        </select>
      </label>
      <CharacterPicker
        value={values.characterAssetId}
        assets={data?.characterAssets ?? []}
        onChange={(characterAssetId) => set({ characterAssetId })}
        onError={setError}
      />
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      <div className="row">
        <button type="submit" disabled={busy}>
          {submitLabel}
        </button>
        {onCancel && (
          <button type="button" className="secondary" onClick={onCancel}>
            Cancel
          </button>
        )}
      </div>
    </form>
  );
}
