// What a person does in the app, step by step, shared by the tests that start from it.
import { fireEvent, render, screen, waitFor } from "@testing-library/react-native";
import { createElement } from "react";

import App from "../src/App";
import { otherClient } from "./wire";

export const SERVER = process.env.HOLOMATE_TEST_SERVER_URL ?? "";
export const PASSWORD = "correct horse";

let accounts = 0;
export const newEmail = (what: string) => `mobile-${what}-${Date.now()}-${accounts++}@example.com`;

/** Opens the app and creates an account on the test server; ends on the companions screen. */
export async function signUp(email: string): Promise<void> {
  expect(SERVER).toMatch(/^http/);
  render(createElement(App));
  fireEvent.press(screen.getByText("New here? Create an account"));
  fireEvent.changeText(screen.getByLabelText("Server"), SERVER);
  fireEvent.changeText(screen.getByLabelText("Email"), email);
  fireEvent.changeText(screen.getByLabelText("Password"), PASSWORD);
  fireEvent.changeText(screen.getByLabelText("Your name"), "Ada");
  fireEvent.press(screen.getByText("Create account"));
  await screen.findByText("No companions yet: create one below.");
}

/** Creates a companion and opens its conversation, live. */
export async function talkToNewCompanion(name: string): Promise<void> {
  fireEvent.changeText(screen.getByLabelText("Companion name"), name);
  fireEvent.changeText(screen.getByLabelText("Persona"), "A cheerful astronomer");
  fireEvent.press(screen.getByText("Create companion"));
  fireEvent.press(await screen.findByLabelText(`Talk to ${name}`));
  await waitFor(() => expect(screen.getByTestId("stream-status")).toHaveTextContent(/^Live/));
}

export async function send(text: string): Promise<void> {
  fireEvent.changeText(screen.getByLabelText("Message"), text);
  fireEvent.press(screen.getByText("Send"));
  await screen.findByText(text);
}

/** A GraphQL request to the test server outside the app (as another client would), by hash. */
export async function graphql<T>(
  document: Parameters<typeof otherClient>[0],
  variables: Record<string, unknown> = {},
  token?: string,
): Promise<T> {
  const response = await fetch(SERVER, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      ...(token && { authorization: `Bearer ${token}` }),
    },
    body: JSON.stringify({ variables, ...otherClient(document) }),
  });
  const body = (await response.json()) as { data: T; errors?: unknown };
  expect(body.errors).toBeUndefined();
  return body.data;
}

/** The newest two messages of the person's first conversation, as the server stored them. */
export async function storedMessages(email: string) {
  const { login } = await graphql<{ login: { accessToken: string } }>("login", {
    e: email,
    p: PASSWORD,
  });
  const data = await graphql<{
    companions: {
      nodes: { conversations: { nodes: { messages: { nodes: StoredMessage[] } }[] } }[];
    };
  }>("storedMessages", {}, login.accessToken);
  return data.companions.nodes[0].conversations.nodes[0].messages.nodes;
}

export interface StoredMessage {
  role: string;
  text: string;
  status: string;
}

/** The numbers in a status line, e.g. "Voice 3/6 chunks playing · 4 mouth shapes". */
export function numbersIn(testID: string): number[] {
  const text = String(screen.getByTestId(testID).props.children);
  return [...text.matchAll(/\d+/g)].map((m) => Number(m[0]));
}
