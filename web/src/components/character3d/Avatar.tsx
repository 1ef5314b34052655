"use client";

// The companion on the conversation page: its VRM character when one can be drawn, else the flat
// SVG face (no WebGL, a model that fails to load, or a character that is not a VRM). The face
// shows while the model loads, so the page always has someone talking.
import { useMemo, useState } from "react";

import { Face, type FaceState } from "@/components/Face";

import { Character3D } from "./Character3D";
import { expressionMaps } from "./expressions";

/** The project's own character (web/scripts/make-default-vrm.mjs), for a companion without one. */
export const DEFAULT_VRM = "/characters/default.vrm";

/** What the conversation query says of the companion's character asset (null: none chosen). */
export interface CharacterChoice {
  url: string;
  format: string;
  visemeMap?: unknown;
  emotionMap?: unknown;
}

/** The model to draw: the companion's VRM, the default one without an asset, none for a GLB. */
export function modelUrl(asset: CharacterChoice | null): string | null {
  if (!asset) return DEFAULT_VRM;
  return asset.format.toUpperCase() === "VRM" ? asset.url : null;
}

export function Avatar({
  character,
  read,
}: {
  /** undefined while the companion is still loading. */
  character: CharacterChoice | null | undefined;
  read: () => FaceState;
}) {
  const url = character === undefined ? null : modelUrl(character);
  const [state, setState] = useState<{ url: string; state: "ready" | "failed" } | null>(null);
  const maps = useMemo(
    () => expressionMaps(character?.visemeMap, character?.emotionMap),
    [character?.visemeMap, character?.emotionMap],
  );
  const shown = url === null ? "none" : state?.url === url ? state.state : "loading";
  return (
    // data-character: what is shown (none: the face by choice; failed: the face as fallback).
    <div className="companion-view" data-testid="avatar" data-character={shown}>
      {url && shown !== "failed" && (
        <Character3D
          key={url}
          url={url}
          maps={maps}
          read={read}
          onState={(s) => setState({ url, state: s })}
        />
      )}
      {shown !== "ready" && <Face read={read} />}
    </div>
  );
}
