"use client";

// What a companion remembers about the signed-in person, and the person's control over it:
// search, correct, forget one or all, tell it something, or switch its memory off.
import { useApolloClient, useMutation, useQuery } from "@apollo/client/react";
import Link from "next/link";
import { useParams } from "next/navigation";
import { type FormEvent, useCallback, useEffect, useRef, useState } from "react";

import { RequireAuth } from "@/components/Nav";
import type { MemoryFieldsFragment } from "@/gql/graphql";
import { errorCode, errorText } from "@/lib/errors";
import {
  COMPANION_MEMORY,
  FORGET_ALL_MEMORIES,
  FORGET_MEMORY,
  MEMORIES,
  REMEMBER_MEMORY,
  SET_MEMORY_ENABLED,
  UPDATE_MEMORY,
} from "@/lib/operations";

const PAGE = 50;
const SEARCH_DELAY_MS = 250;

/** A refused change: the field it names (BAD_USER_INPUT), the plan's limit, or anything else. */
interface Refusal {
  text: string;
  field: string | null;
  quota: boolean;
}

function refusal(error: unknown): Refusal {
  const { code, field } = errorCode(error);
  return {
    text: errorText(error),
    field: code === "BAD_USER_INPUT" ? field : null,
    quota: code === "QUOTA_EXCEEDED",
  };
}

/** The refusal when it is about `field`; without `field`, when it is about none of `shownElsewhere`. */
function RefusalNote({
  refused,
  field,
  shownElsewhere = [],
}: {
  refused: Refusal | null;
  field?: string;
  shownElsewhere?: string[];
}) {
  if (!refused) return null;
  if (
    field !== undefined
      ? refused.field !== field
      : refused.field !== null && shownElsewhere.includes(refused.field)
  )
    return null;
  return (
    <small
      className="error"
      role="alert"
      data-testid={refused.field ? `field-error-${refused.field}` : "memory-error"}
    >
      {refused.text}
      {refused.quota && (
        <>
          {" "}
          <Link href="/billing">See plans</Link>
        </>
      )}
    </small>
  );
}

export default function MemoriesPage() {
  const { id } = useParams<{ id: string }>();
  return (
    <RequireAuth>
      <Memories companionId={id} />
    </RequireAuth>
  );
}

function Memories({ companionId }: { companionId: string }) {
  const client = useApolloClient();
  const companion = useQuery(COMPANION_MEMORY, { variables: { id: companionId } });
  const [query, setQuery] = useState("");
  const [memories, setMemories] = useState<MemoryFieldsFragment[]>([]);
  const [next, setNext] = useState<string | null>(null);
  const [loaded, setLoaded] = useState(false);
  const [error, setError] = useState<Refusal | null>(null);
  const [newText, setNewText] = useState("");
  const [newImportance, setNewImportance] = useState("0.6");
  const [adding, setAdding] = useState<Refusal | null>(null);
  const [editing, setEditing] = useState<string | null>(null);
  const [forgotten, setForgotten] = useState<number | null>(null);
  const latest = useRef(0); // answers to an older search, arriving late, are dropped
  const [setEnabled] = useMutation(SET_MEMORY_ENABLED);
  const [remember] = useMutation(REMEMBER_MEMORY);
  const [forget] = useMutation(FORGET_MEMORY);
  const [forgetAll] = useMutation(FORGET_ALL_MEMORIES);

  const name = companion.data?.companion.name ?? "Your companion";
  const enabled = companion.data?.companion.memoryEnabled ?? true;

  /** The first page for the current search (after: null), or the next one. */
  const load = useCallback(
    async (after: string | null) => {
      const asked = ++latest.current;
      try {
        const { data } = await client.query({
          query: MEMORIES,
          variables: { companionId, query: query.trim() || null, first: PAGE, after },
          fetchPolicy: "network-only",
        });
        if (!data || asked !== latest.current) return;
        const page = data.memories;
        setMemories((shown) => (after ? [...shown, ...page.nodes] : page.nodes));
        setNext(page.pageInfo.hasNextPage ? (page.pageInfo.endCursor ?? null) : null);
        setLoaded(true);
      } catch (e) {
        setError(refusal(e));
      }
    },
    [client, companionId, query],
  );

  useEffect(() => {
    const timer = setTimeout(() => void load(null), query ? SEARCH_DELAY_MS : 0);
    return () => clearTimeout(timer);
  }, [load, query]);

  async function toggle(on: boolean) {
    setError(null);
    try {
      await setEnabled({
        variables: { id: companionId, enabled: on },
        optimisticResponse: {
          __typename: "Mutation",
          updateCompanion: { __typename: "Companion", id: companionId, memoryEnabled: on },
        },
      });
    } catch (e) {
      setError(refusal(e));
    }
  }

  async function add(event: FormEvent) {
    event.preventDefault();
    setAdding(null);
    try {
      const importance = Number(newImportance);
      await remember({
        variables: {
          companionId,
          text: newText,
          importance: Number.isFinite(importance) ? importance : null,
        },
      });
      setNewText("");
      await load(null);
    } catch (e) {
      setAdding(refusal(e));
    }
  }

  async function forgetOne(memory: MemoryFieldsFragment) {
    setError(null);
    try {
      await forget({ variables: { id: memory.id } });
      setMemories((shown) => shown.filter((m) => m.id !== memory.id));
    } catch (e) {
      setError(refusal(e));
    }
  }

  async function forgetEverything() {
    if (!window.confirm(`${name} will forget everything you told them. This cannot be undone.`))
      return;
    setError(null);
    try {
      const { data } = await forgetAll({ variables: { companionId } });
      setMemories([]);
      setNext(null);
      setForgotten(data?.forgetAllMemories ?? 0);
    } catch (e) {
      setError(refusal(e));
    }
  }

  const saved = (memory: MemoryFieldsFragment) => {
    setMemories((shown) => shown.map((m) => (m.id === memory.id ? memory : m)));
    setEditing(null);
  };

  return (
    <section className="memories">
      <header className="row">
        <Link href="/companions">← Companions</Link>
        {companion.data?.companion.pictureUrl && (
          <img className="avatar" src={companion.data.companion.pictureUrl} alt="" />
        )}
        <h1>What {name} remembers</h1>
        <span className="spacer" />
        <label className="switch">
          <input
            type="checkbox"
            name="memoryEnabled"
            checked={enabled}
            disabled={!companion.data}
            onChange={(e) => void toggle(e.target.checked)}
          />
          Memory {enabled ? "on" : "off"}
        </label>
      </header>
      {companion.error && <p className="error">{errorText(companion.error)}</p>}
      {!enabled && (
        <p className="muted" data-testid="memory-off">
          Memory is off: {name} neither remembers new things nor recalls what is below.
        </p>
      )}
      <RefusalNote refused={error} />

      <form className="card stack" onSubmit={add} data-testid="remember-form">
        <div className="row">
          <label className="grow">
            Tell {name} something to remember
            <input
              name="newMemory"
              value={newText}
              onChange={(e) => setNewText(e.target.value)}
              placeholder="I'm allergic to peanuts"
            />
          </label>
          <label>
            Importance
            <input
              name="newImportance"
              type="number"
              step="0.1"
              min="0"
              max="1"
              value={newImportance}
              onChange={(e) => setNewImportance(e.target.value)}
            />
          </label>
          <button type="submit" disabled={!newText.trim()}>
            Remember
          </button>
        </div>
        <RefusalNote refused={adding} field="text" />
        <RefusalNote refused={adding} field="importance" />
        <RefusalNote refused={adding} shownElsewhere={["text", "importance"]} />
      </form>

      <div className="row">
        <input
          type="search"
          name="memorySearch"
          className="grow"
          placeholder="Search memories"
          value={query}
          onChange={(e) => setQuery(e.target.value)}
        />
        <button
          type="button"
          className="danger"
          onClick={forgetEverything}
          disabled={memories.length === 0}
        >
          Forget everything
        </button>
      </div>
      {forgotten !== null && (
        <p className="muted" role="status" data-testid="forgotten">
          {name} forgot {forgotten} {forgotten === 1 ? "memory" : "memories"}.
        </p>
      )}
      {loaded && memories.length === 0 && (
        <p className="muted" data-testid="no-memories">
          {query.trim() ? "No memory matches." : `${name} remembers nothing about you yet.`}
        </p>
      )}
      <ul className="memory-list" data-testid="memories">
        {memories.map((m) =>
          editing === m.id ? (
            <MemoryEditor key={m.id} memory={m} onSaved={saved} onCancel={() => setEditing(null)} />
          ) : (
            <li key={m.id} className="card memory" data-memory={m.text}>
              <p>{m.text}</p>
              <p className="muted small">
                {m.kind} · importance {m.importance.toFixed(1)} ·{" "}
                {m.origin === "PERSON" ? "added by you" : "heard in a conversation"} on{" "}
                {new Date(m.createdAt).toLocaleDateString()}
                {m.lastRecalledAt &&
                  ` · last recalled ${new Date(m.lastRecalledAt).toLocaleString()}`}
              </p>
              <div className="row">
                <button type="button" className="secondary" onClick={() => setEditing(m.id)}>
                  Edit
                </button>
                <button type="button" className="link" onClick={() => void forgetOne(m)}>
                  Forget
                </button>
              </div>
            </li>
          ),
        )}
      </ul>
      {next && (
        <button type="button" className="link" onClick={() => void load(next)}>
          More
        </button>
      )}
    </section>
  );
}

function MemoryEditor({
  memory,
  onSaved,
  onCancel,
}: {
  memory: MemoryFieldsFragment;
  onSaved: (memory: MemoryFieldsFragment) => void;
  onCancel: () => void;
}) {
  const [text, setText] = useState(memory.text);
  const [importance, setImportance] = useState(String(memory.importance));
  const [refused, setRefused] = useState<Refusal | null>(null);
  const [update, { loading }] = useMutation(UPDATE_MEMORY);

  async function save(event: FormEvent) {
    event.preventDefault();
    setRefused(null);
    try {
      const value = Number(importance);
      const { data } = await update({
        variables: { id: memory.id, text, importance: Number.isFinite(value) ? value : null },
      });
      if (data) onSaved(data.updateMemory);
    } catch (e) {
      setRefused(refusal(e));
    }
  }

  return (
    <li className="card memory editing" data-memory={memory.text}>
      <form className="stack" onSubmit={save}>
        <label>
          Memory
          <input name="memoryText" value={text} onChange={(e) => setText(e.target.value)} />
        </label>
        <RefusalNote refused={refused} field="text" />
        <label>
          Importance (0 to 1)
          <input
            name="memoryImportance"
            type="number"
            step="0.1"
            min="0"
            max="1"
            value={importance}
            onChange={(e) => setImportance(e.target.value)}
          />
        </label>
        <RefusalNote refused={refused} field="importance" />
        <RefusalNote refused={refused} shownElsewhere={["text", "importance"]} />
        <div className="row">
          <button type="submit" disabled={loading}>
            Save
          </button>
          <button type="button" className="secondary" onClick={onCancel}>
            Cancel
          </button>
        </div>
      </form>
    </li>
  );
}
