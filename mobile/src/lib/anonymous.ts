// Register and log in happen before there are tokens: a one-off client without a session.
import { Client, fetchExchange } from "@urql/core";

import { hashOnlyExchange } from "./documents";
import type { Tokens } from "./holoClient";
import { LOGIN, REGISTER } from "./operations";

function client(serverUrl: string): Client {
  return new Client({
    url: serverUrl,
    exchanges: [hashOnlyExchange(), fetchExchange],
    requestPolicy: "network-only",
  });
}

export async function login(serverUrl: string, email: string, password: string): Promise<Tokens> {
  const result = await client(serverUrl).mutation(LOGIN, { email, password }).toPromise();
  if (!result.data) throw result.error ?? new Error("no answer");
  return result.data.login;
}

export async function register(
  serverUrl: string,
  email: string,
  password: string,
  displayName: string,
): Promise<Tokens> {
  const result = await client(serverUrl)
    .mutation(REGISTER, { email, password, displayName })
    .toPromise();
  if (!result.data) throw result.error ?? new Error("no answer");
  return result.data.register;
}
