"use client";

import { ApolloProvider } from "@apollo/client/react";
import {
  type ReactNode,
  createContext,
  useContext,
  useEffect,
  useState,
  useSyncExternalStore,
} from "react";

import { Nav } from "@/components/Nav";
import { type Connection, makeConnection } from "@/lib/apollo";
import { Session, type Tokens } from "@/lib/session";

interface AppContext {
  graphqlUrl: string;
  session: Session;
  connection: Connection;
}

const Context = createContext<AppContext | null>(null);

export function useApp(): AppContext {
  const value = useContext(Context);
  if (!value) throw new Error("useApp outside <Providers>");
  return value;
}

/** The signed-in person's tokens, re-rendering on sign-in, refresh and sign-out. */
export function useTokens(): Tokens | null {
  const { session } = useApp();
  return useSyncExternalStore(
    (onChange) => session.subscribe(onChange),
    () => session.current,
    () => null,
  );
}

export function Providers({ graphqlUrl, children }: { graphqlUrl: string; children: ReactNode }) {
  // Tokens live in localStorage, so the app renders in the browser only.
  const [app, setApp] = useState<AppContext | null>(null);
  useEffect(() => {
    const session = new Session(graphqlUrl);
    // eslint-disable-next-line react-hooks/set-state-in-effect -- made once, in the browser only
    setApp({ graphqlUrl, session, connection: makeConnection(graphqlUrl, session) });
  }, [graphqlUrl]);
  if (!app) return <p className="muted">Loading…</p>;
  return (
    <Context.Provider value={app}>
      <ApolloProvider client={app.connection.client}>
        <Nav />
        <main>{children}</main>
      </ApolloProvider>
    </Context.Provider>
  );
}
