// The app against the real server (HOLOMATE_TEST_SERVER_URL, started by
// tests/clients/test_mobile_app.py): sign up, create a companion, open the conversation, send,
// and the companion's whole reply streams onto the screen with its voice and mouth.
import { fireEvent, render, screen, waitFor } from "@testing-library/react-native";

import App from "../src/App";
import { played as playedUrls } from "../test/nativeAudio";

const SERVER = process.env.HOLOMATE_TEST_SERVER_URL ?? "";
const email = `mobile-${Date.now()}@example.com`;

async function serverMessages(conversationText: string) {
  const post = async (query: string, token?: string) => {
    const response = await fetch(SERVER, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        ...(token && { authorization: `Bearer ${token}` }),
      },
      body: JSON.stringify({ query }),
    });
    return (await response.json()).data;
  };
  const login = await post(
    `mutation { login(email: "${email}", password: "correct horse") { accessToken } }`,
  );
  const data = await post(
    `{ companions(first: 1) { nodes { conversations(first: 1) { nodes {
        messages(last: 2) { nodes { role text status } } } } } } }`,
    login.login.accessToken,
  );
  const messages = data.companions.nodes[0].conversations.nodes[0].messages.nodes;
  expect(messages[0]).toMatchObject({ role: "USER", text: conversationText });
  return messages[1] as { role: string; text: string; status: string };
}

test("a new user talks to a new companion and the whole reply streams in, voiced, mouth moving", async () => {
  expect(SERVER).toMatch(/^http/);
  render(<App />);

  fireEvent.press(screen.getByText("New here? Create an account"));
  fireEvent.changeText(screen.getByLabelText("Server"), SERVER);
  fireEvent.changeText(screen.getByLabelText("Email"), email);
  fireEvent.changeText(screen.getByLabelText("Password"), "correct horse");
  fireEvent.changeText(screen.getByLabelText("Your name"), "Ada");
  fireEvent.press(screen.getByText("Create account"));

  await screen.findByText("No companions yet: create one below.");
  fireEvent.changeText(screen.getByLabelText("Companion name"), "Mira");
  fireEvent.changeText(screen.getByLabelText("Persona"), "A cheerful astronomer");
  fireEvent.press(screen.getByText("Create companion"));
  fireEvent.press(await screen.findByLabelText("Talk to Mira"));

  await waitFor(() => expect(screen.getByTestId("stream-status")).toHaveTextContent(/^Live/));
  fireEvent.changeText(screen.getByLabelText("Message"), "Hello Mira! What is a star?");
  fireEvent.press(screen.getByText("Send"));

  await screen.findByText("Hello Mira! What is a star?");
  await waitFor(() => expect(screen.getByTestId("reply-status")).toHaveTextContent(/complete/), {
    timeout: 30_000,
  });
  const reply = await serverMessages("Hello Mira! What is a star?");
  expect(reply).toMatchObject({ role: "COMPANION", status: "COMPLETE" });
  expect(screen.getByTestId("reply-text")).toHaveTextContent(reply.text);
  const pieces = Number(
    /(\d+) pieces/.exec(String(screen.getByTestId("reply-status").props.children))?.[1],
  );
  expect(pieces).toBeGreaterThan(1);

  // Every chunk played in order, and the mouth took shapes from the visemes while it did.
  await waitFor(() => expect(screen.getByTestId("audio-status")).toHaveTextContent(/played/), {
    timeout: 30_000,
  });
  const status = String(screen.getByTestId("audio-status").props.children);
  const [, played, received, shapes] = /Voice (\d+)\/(\d+) chunks played · (\d+) mouth/.exec(
    status,
  )!;
  expect(Number(received)).toBeGreaterThan(0);
  expect(played).toBe(received);
  expect(Number(shapes)).toBeGreaterThan(0);
  expect(screen.getByTestId("mouth")).toHaveProp("accessibilityLabel", "mouth sil");
  // The played chunks are the reply's audio, each one fetchable from the server.
  expect(playedUrls).toHaveLength(Number(received));
  for (const url of playedUrls) expect((await fetch(url)).status).toBe(200);
});
