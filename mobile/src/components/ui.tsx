// The few styled building blocks the screens share.
import type { ReactNode } from "react";
import { Pressable, StyleSheet, Text, TextInput, type TextInputProps } from "react-native";

export function Button({
  title,
  onPress,
  disabled,
}: {
  title: string;
  onPress: () => void;
  disabled?: boolean;
}) {
  return (
    <Pressable
      accessibilityRole="button"
      accessibilityState={{ disabled: !!disabled }}
      disabled={disabled}
      onPress={onPress}
      style={[styles.button, disabled && styles.disabled]}
    >
      <Text style={styles.buttonText}>{title}</Text>
    </Pressable>
  );
}

export function Field(props: TextInputProps & { label: string }) {
  return (
    <TextInput
      accessibilityLabel={props.label}
      placeholder={props.label}
      autoCapitalize="none"
      style={styles.input}
      {...props}
    />
  );
}

export function ErrorText({ children }: { children: ReactNode }) {
  return children ? (
    <Text accessibilityRole="alert" style={styles.error}>
      {children}
    </Text>
  ) : null;
}

export const styles = StyleSheet.create({
  screen: { flex: 1, padding: 16, gap: 12, backgroundColor: "#0d1020" },
  title: { fontSize: 22, fontWeight: "600", color: "#e8ecff" },
  text: { color: "#e8ecff" },
  muted: { color: "#8a93b8" },
  row: { flexDirection: "row", gap: 8, alignItems: "center" },
  input: {
    borderWidth: 1,
    borderColor: "#3a4170",
    borderRadius: 8,
    padding: 10,
    color: "#e8ecff",
    flexGrow: 1,
  },
  button: {
    backgroundColor: "#5b6cff",
    borderRadius: 8,
    paddingVertical: 10,
    paddingHorizontal: 14,
  },
  disabled: { opacity: 0.5 },
  buttonText: { color: "white", fontWeight: "600", textAlign: "center" },
  error: { color: "#ff7a7a" },
  card: { backgroundColor: "#171b33", borderRadius: 10, padding: 12, gap: 4 },
});
