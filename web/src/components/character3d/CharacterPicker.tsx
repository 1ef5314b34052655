"use client";

// The companion form's character: the default one, one of the person's character assets, or a
// new asset made on the spot from the URL of any VRM model (its host must allow this origin by
// CORS: the browser fetches the file).
import { useMutation } from "@apollo/client/react";
import { useState } from "react";

import { errorText } from "@/lib/errors";
import { COMPANION_OPTIONS, CREATE_CHARACTER_ASSET } from "@/lib/operations";

const BY_URL = "url:";

/** "https://host/models/Alice.vrm?x" -> "Alice". */
function nameOf(url: string): string {
  try {
    const file = new URL(url).pathname.split("/").pop() ?? "";
    return decodeURIComponent(file).replace(/\.vrm$/i, "") || "Character";
  } catch {
    return "Character";
  }
}

export function CharacterPicker({
  value,
  assets,
  onChange,
  onError,
}: {
  value: string | null;
  assets: { id: string; name: string }[];
  onChange: (characterAssetId: string | null) => void;
  onError: (message: string | null) => void;
}) {
  const [adding, setAdding] = useState(false);
  const [url, setUrl] = useState("");
  const [create, { loading }] = useMutation(CREATE_CHARACTER_ASSET, {
    refetchQueries: [COMPANION_OPTIONS],
    awaitRefetchQueries: true,
  });

  async function add() {
    onError(null);
    try {
      const { data } = await create({
        variables: { input: { name: nameOf(url), format: "VRM", url: url.trim() } },
      });
      if (!data) return;
      onChange(data.createCharacterAsset.id);
      setAdding(false);
      setUrl("");
    } catch (e) {
      onError(errorText(e));
    }
  }

  return (
    <>
      <label>
        Character
        <select
          name="character"
          value={adding ? BY_URL : (value ?? "")}
          onChange={(e) => {
            setAdding(e.target.value === BY_URL);
            if (e.target.value !== BY_URL) onChange(e.target.value || null);
          }}
        >
          <option value="">Default character</option>
          {assets.map((a) => (
            <option key={a.id} value={a.id}>
              {a.name}
            </option>
          ))}
          <option value={BY_URL}>Another VRM, by URL…</option>
        </select>
      </label>
      {adding && (
        <div className="row">
          <input
            name="characterUrl"
            type="url"
            placeholder="https://…/model.vrm"
            value={url}
            onChange={(e) => setUrl(e.target.value)}
            aria-label="VRM model URL"
          />
          <button type="button" onClick={() => void add()} disabled={loading || !url.trim()}>
            Add
          </button>
        </div>
      )}
    </>
  );
}
