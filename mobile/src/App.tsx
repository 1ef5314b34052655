// Three places behind sign-in (companions, a conversation, devices), switched by a small
// state machine: the app has no deep links yet, so a navigation library would add only weight.
import { StatusBar } from "expo-status-bar";
import { useState } from "react";
import { StyleSheet, View } from "react-native";

import { Button } from "./components/ui";
import { Companions, type OpenConversation } from "./screens/Companions";
import { Conversation } from "./screens/Conversation";
import { Devices } from "./screens/Devices";
import { SignIn } from "./screens/SignIn";
import { SessionProvider, useSession } from "./lib/session";

type Place =
  { name: "companions" } | { name: "devices" } | ({ name: "conversation" } & OpenConversation);

function Screens() {
  const { holo, signOut } = useSession();
  const [place, setPlace] = useState<Place>({ name: "companions" });
  if (!holo) return <SignIn />;
  return (
    <View style={{ flex: 1 }}>
      <View style={tabs.bar}>
        <Button title="Companions" onPress={() => setPlace({ name: "companions" })} />
        <Button title="Devices" onPress={() => setPlace({ name: "devices" })} />
        <Button title="Sign out" onPress={signOut} />
      </View>
      {place.name === "companions" && (
        <Companions onOpen={(open) => setPlace({ name: "conversation", ...open })} />
      )}
      {place.name === "conversation" && (
        <Conversation
          key={place.conversationId}
          conversationId={place.conversationId}
          companionName={place.companionName}
        />
      )}
      {place.name === "devices" && <Devices />}
    </View>
  );
}

export default function App() {
  return (
    <SessionProvider>
      <View style={tabs.root}>
        <StatusBar style="light" />
        <Screens />
      </View>
    </SessionProvider>
  );
}

const tabs = StyleSheet.create({
  root: { flex: 1, paddingTop: 48, backgroundColor: "#0d1020" },
  bar: { flexDirection: "row", gap: 8, padding: 8, justifyContent: "center" },
});
