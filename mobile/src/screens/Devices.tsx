// Your holograms: pair one by the code it shows, and see which are online as it changes.
import { useCallback, useEffect, useState } from "react";
import { Text, View } from "react-native";

import { Button, ErrorText, Field, styles } from "../components/ui";
import type { DeviceFieldsFragment } from "../gql/graphql";
import { DEVICE_STATUS, DEVICES, PAIR_DEVICE } from "../lib/operations";
import { errorText, useHolo } from "../lib/session";

export function Devices() {
  const holo = useHolo();
  const [devices, setDevices] = useState<DeviceFieldsFragment[] | null>(null);
  const [userCode, setUserCode] = useState("");
  const [name, setName] = useState("");
  const [error, setError] = useState("");

  const upsert = useCallback((device: DeviceFieldsFragment) => {
    setDevices((all) => {
      const others = (all ?? []).filter((d) => d.id !== device.id);
      return [...others, device].sort((a, b) => a.name.localeCompare(b.name));
    });
  }, []);

  useEffect(() => {
    const load = () =>
      holo.query(DEVICES, {}).then(
        (data) => setDevices(data.devices),
        (e: unknown) => setError(errorText(e)),
      );
    // Presence: each status change carries the whole device. The stream has no cursor, so the
    // list is read again whenever it (re)connects: nothing changed in between goes unseen.
    const listener = holo.listen(DEVICE_STATUS, {}, (data) => data.deviceStatusChanged.device, {
      onEvent: upsert,
      onLive: (live) => void (live && load()),
      onError: (e) => setError(errorText(e)),
    });
    return () => listener.stop();
  }, [holo, upsert]);

  async function pair() {
    setError("");
    try {
      const code = userCode.trim().toUpperCase();
      upsert(
        (await holo.mutate(PAIR_DEVICE, { userCode: code, name: name.trim() || "Hologram" }))
          .pairDevice,
      );
      setUserCode("");
      setName("");
    } catch (e) {
      setError(errorText(e));
    }
  }

  return (
    <View style={styles.screen}>
      <Text style={styles.title}>Devices</Text>
      {devices?.length === 0 && <Text style={styles.muted}>No devices paired yet.</Text>}
      {devices?.map((d) => (
        <View key={d.id} style={styles.card} testID={`device-${d.name}`}>
          <Text style={styles.text}>{d.name}</Text>
          <Text style={styles.muted}>
            {`${d.model} · ${d.online ? "online" : "offline"}${d.speaks ? " · speaks" : ""}`}
          </Text>
        </View>
      ))}
      <Text style={styles.muted}>Type the code your device shows.</Text>
      <Field
        label="Pairing code"
        value={userCode}
        onChangeText={setUserCode}
        autoCapitalize="characters"
      />
      <Field label="Device name" value={name} onChangeText={setName} autoCapitalize="words" />
      <ErrorText>{error}</ErrorText>
      <Button title="Pair" onPress={() => void pair()} disabled={!userCode.trim()} />
    </View>
  );
}
