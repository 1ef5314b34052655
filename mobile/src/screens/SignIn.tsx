import { useState } from "react";
import { Text, View } from "react-native";

import { Button, ErrorText, Field, styles } from "../components/ui";
import { login, register } from "../lib/anonymous";
import { errorText, useSession } from "../lib/session";

export function SignIn() {
  const session = useSession();
  const [serverUrl, setServerUrl] = useState(session.serverUrl);
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [name, setName] = useState("");
  const [creating, setCreating] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState("");

  async function submit() {
    setBusy(true);
    setError("");
    try {
      const tokens = creating
        ? await register(serverUrl, email.trim(), password, name.trim() || email.trim())
        : await login(serverUrl, email.trim(), password);
      session.signIn(serverUrl, tokens);
    } catch (e) {
      setError(errorText(e));
      setBusy(false);
    }
  }

  return (
    <View style={styles.screen}>
      <Text style={styles.title}>{creating ? "Create your account" : "Sign in"}</Text>
      <Field label="Server" value={serverUrl} onChangeText={setServerUrl} keyboardType="url" />
      <Field label="Email" value={email} onChangeText={setEmail} keyboardType="email-address" />
      <Field label="Password" value={password} onChangeText={setPassword} secureTextEntry />
      {creating && <Field label="Your name" value={name} onChangeText={setName} />}
      <ErrorText>{error}</ErrorText>
      <Button
        title={creating ? "Create account" : "Sign in"}
        onPress={() => void submit()}
        disabled={busy || !email || !password}
      />
      <Button
        title={creating ? "I have an account" : "New here? Create an account"}
        onPress={() => setCreating(!creating)}
      />
    </View>
  );
}
