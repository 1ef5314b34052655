// The app against the real server (HOLOMATE_TEST_SERVER_URL, started by
// tests/clients/test_mobile_app.py): the companion's whole reply streams onto the screen with
// its voice and mouth, and an interrupted reply stops where it was heard.
import { fireEvent, screen, waitFor } from "@testing-library/react-native";

import { played } from "../test/nativeAudio";
import {
  newEmail,
  numbersIn,
  send,
  signUp,
  storedMessages,
  talkToNewCompanion,
} from "../test/steps";

const QUESTION = "Hello Mira! What is a star?";

beforeEach(() => {
  played.length = 0;
});

test("a new user talks to a new companion and the whole reply streams in, voiced, mouth moving", async () => {
  const email = newEmail("reply");
  await signUp(email);
  await talkToNewCompanion("Mira");
  await send(QUESTION);

  await waitFor(() => expect(screen.getByTestId("reply-status")).toHaveTextContent(/complete/), {
    timeout: 30_000,
  });
  const [question, reply] = await storedMessages(email);
  expect(question).toMatchObject({ role: "USER", text: QUESTION });
  expect(reply).toMatchObject({ role: "COMPANION", status: "COMPLETE" });
  expect(screen.getByTestId("reply-text")).toHaveTextContent(reply.text);
  const [pieces] = numbersIn("reply-status");
  expect(pieces).toBeGreaterThan(1);

  // Every chunk played in order, and the mouth took shapes from the visemes while it did.
  await waitFor(() => expect(screen.getByTestId("audio-status")).toHaveTextContent(/played/), {
    timeout: 30_000,
  });
  const [playedCount, received, shapes] = numbersIn("audio-status");
  expect(received).toBeGreaterThan(0);
  expect(playedCount).toBe(received);
  expect(shapes).toBeGreaterThan(0);
  expect(screen.getByTestId("mouth")).toHaveProp("accessibilityLabel", "mouth sil");
  // The played chunks are the reply's audio, each one fetchable from the server.
  expect(played).toHaveLength(received);
  for (const url of played) expect((await fetch(url)).status).toBe(200);
});

test("interrupting a reply stops its voice and the server keeps only what was heard", async () => {
  const email = newEmail("interrupt");
  await signUp(email);
  await talkToNewCompanion("Nova");
  await send(QUESTION);

  await waitFor(() => expect(screen.getByTestId("audio-status")).toHaveTextContent(/playing/), {
    timeout: 30_000,
  });
  fireEvent.press(screen.getByText("Interrupt"));

  await waitFor(() => expect(screen.getByTestId("reply-status")).toHaveTextContent(/interrupted/), {
    timeout: 15_000,
  });
  expect(screen.getByTestId("audio-status")).toHaveTextContent(/stopped/);
  const [, reply] = await storedMessages(email);
  expect(reply.status).toBe("INTERRUPTED");
  expect(screen.getByTestId("reply-text")).toHaveTextContent(reply.text, { exact: true });
  expect(screen.queryByText("Interrupt")).toBeNull();
});
