import { useCallback, useEffect, useState } from "react";
import { FlatList, Pressable, Text, View } from "react-native";

import { Button, ErrorText, Field, styles } from "../components/ui";
import type { CompanionsQuery } from "../gql/graphql";
import { COMPANIONS, CREATE_COMPANION, START_CONVERSATION } from "../lib/operations";
import { errorText, useHolo } from "../lib/session";

type Companion = CompanionsQuery["companions"]["nodes"][number];

export interface OpenConversation {
  conversationId: string;
  companionName: string;
}

/** Your companions; tapping one opens its latest conversation (or starts the first). */
export function Companions({ onOpen }: { onOpen: (open: OpenConversation) => void }) {
  const holo = useHolo();
  const [companions, setCompanions] = useState<Companion[] | null>(null);
  const [name, setName] = useState("");
  const [persona, setPersona] = useState("");
  const [error, setError] = useState("");

  const load = useCallback(async () => {
    try {
      setCompanions((await holo.query(COMPANIONS, {})).companions.nodes);
    } catch (e) {
      setError(errorText(e));
    }
  }, [holo]);
  useEffect(() => {
    // eslint-disable-next-line react-hooks/set-state-in-effect -- set when the server answers
    void load();
  }, [load]);

  async function create() {
    setError("");
    try {
      await holo.mutate(CREATE_COMPANION, {
        input: { name: name.trim(), persona: persona.trim() || "A friendly companion" },
      });
      setName("");
      setPersona("");
      await load();
    } catch (e) {
      setError(errorText(e));
    }
  }

  async function open(companion: Companion) {
    setError("");
    try {
      const existing = companion.conversations.nodes[0]?.id;
      const conversationId =
        existing ??
        (await holo.mutate(START_CONVERSATION, { companionId: companion.id })).startConversation.id;
      onOpen({ conversationId, companionName: companion.name });
    } catch (e) {
      setError(errorText(e));
    }
  }

  return (
    <View style={styles.screen}>
      <Text style={styles.title}>Companions</Text>
      <ErrorText>{error}</ErrorText>
      {companions === null ? (
        <Text style={styles.muted}>Loading…</Text>
      ) : (
        <FlatList
          data={companions}
          keyExtractor={(c) => c.id}
          ListEmptyComponent={
            <Text style={styles.muted}>No companions yet: create one below.</Text>
          }
          renderItem={({ item }) => (
            <Pressable
              accessibilityRole="button"
              accessibilityLabel={`Talk to ${item.name}`}
              onPress={() => void open(item)}
              style={styles.card}
            >
              <Text style={styles.text}>{item.name}</Text>
              <Text style={styles.muted} numberOfLines={1}>
                {item.persona}
              </Text>
            </Pressable>
          )}
        />
      )}
      <Field label="Companion name" value={name} onChangeText={setName} autoCapitalize="words" />
      <Field label="Persona" value={persona} onChangeText={setPersona} autoCapitalize="sentences" />
      <Button title="Create companion" onPress={() => void create()} disabled={!name.trim()} />
    </View>
  );
}
