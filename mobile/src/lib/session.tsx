// Who is signed in, and the one HoloClient every screen uses. Tokens live in SecureStore
// (Keychain / Keystore), so the app opens signed in; every refresh stores the new pair (the
// refresh token is single use).
import * as SecureStore from "expo-secure-store";
import { createContext, type ReactNode, useContext, useEffect, useMemo, useState } from "react";

import { type HoloClient, type Tokens, createHoloClient } from "./holoClient";

const TOKENS_KEY = "holomate.tokens";

/** The server from EXPO_PUBLIC_HOLOMATE_URL (inlined by Expo at build time) or typed in. */
export const DEFAULT_SERVER =
  process.env.EXPO_PUBLIC_HOLOMATE_URL ?? "http://localhost:8000/graphql";

const wsUrlFor = (httpUrl: string) => httpUrl.replace(/^http/, "ws");

interface SessionValue {
  holo: HoloClient | null;
  serverUrl: string;
  signIn: (serverUrl: string, tokens: Tokens) => void;
  signOut: () => void;
}

const SessionContext = createContext<SessionValue | null>(null);

function persist(tokens: Tokens | null, serverUrl: string): void {
  const value = tokens ? JSON.stringify({ ...tokens, serverUrl }) : null;
  void (
    value === null
      ? SecureStore.deleteItemAsync(TOKENS_KEY)
      : SecureStore.setItemAsync(TOKENS_KEY, value)
  ).catch(() => {});
}

export function SessionProvider({ children }: { children: ReactNode }) {
  const [serverUrl, setServerUrl] = useState(DEFAULT_SERVER);
  const [tokens, setTokens] = useState<Tokens | null>(null);

  useEffect(() => {
    SecureStore.getItemAsync(TOKENS_KEY).then(
      (stored) => {
        if (!stored) return;
        const saved = JSON.parse(stored) as Tokens & { serverUrl: string };
        setServerUrl(saved.serverUrl);
        setTokens({ accessToken: saved.accessToken, refreshToken: saved.refreshToken });
      },
      () => {},
    );
  }, []);

  const holo = useMemo(() => {
    if (!tokens) return null;
    return createHoloClient({
      httpUrl: serverUrl,
      wsUrl: wsUrlFor(serverUrl),
      tokens: { ...tokens },
      onTokens: (fresh) => persist(fresh, serverUrl),
    });
  }, [tokens, serverUrl]);
  useEffect(() => () => holo?.dispose(), [holo]);

  const value = useMemo<SessionValue>(
    () => ({
      holo,
      serverUrl,
      signIn(url, fresh) {
        setServerUrl(url);
        setTokens(fresh);
        persist(fresh, url);
      },
      signOut() {
        setTokens(null);
        persist(null, serverUrl);
      },
    }),
    [holo, serverUrl],
  );
  return <SessionContext.Provider value={value}>{children}</SessionContext.Provider>;
}

export function useSession(): SessionValue {
  const value = useContext(SessionContext);
  if (!value) throw new Error("useSession outside SessionProvider");
  return value;
}

/** The signed-in client; screens behind sign-in only. */
export function useHolo(): HoloClient {
  const { holo } = useSession();
  if (!holo) throw new Error("not signed in");
  return holo;
}

export function errorText(error: unknown): string {
  return error instanceof Error ? error.message.replace(/^\[GraphQL\] /, "") : String(error);
}
