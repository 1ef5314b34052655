// Hands-free against the real server: the microphone (test/nativeMic.ts: espeak-ng's spoken
// question from VOICE_WAV, then silence) streams to a voice session over the app's socket; the
// server's speech-to-text hears the turn end, its final transcript shows on screen, becomes the
// person's message, and the companion's reply streams in whole.
import { fireEvent, screen, waitFor } from "@testing-library/react-native";

import { mic } from "../test/nativeMic";
import { sent } from "../test/wire";
import { newEmail, numbersIn, signUp, storedMessages, talkToNewCompanion } from "../test/steps";

test("a person talks hands-free: the transcript shows live and the companion's reply streams in", async () => {
  expect(process.env.VOICE_WAV).toBeTruthy();
  const email = newEmail("handsfree");
  await signUp(email);
  await talkToNewCompanion("Mira");
  fireEvent.press(screen.getByText("Hands-free"));
  await screen.findByText("Stop hands-free");

  await waitFor(() => expect(screen.getByTestId("reply-status")).toHaveTextContent(/complete/), {
    timeout: 60_000,
  });
  const [question, reply] = await storedMessages(email);
  // What the server heard: the final transcript, on screen and posted as the person's message.
  expect(question).toMatchObject({ role: "USER" });
  expect(question.text).toMatch(/star/i);
  expect(screen.getByTestId("voice-transcript")).toHaveTextContent(question.text);
  expect(screen.getAllByText(question.text).length).toBeGreaterThanOrEqual(2);
  // The reply streamed onto the screen piece by piece and is the one the server stored.
  expect(reply).toMatchObject({ role: "COMPANION", status: "COMPLETE" });
  expect(screen.getByTestId("reply-text")).toHaveTextContent(reply.text);
  const [pieces] = numbersIn("reply-status");
  expect(pieces).toBeGreaterThan(1);
  // The whole question went out, and the microphone stayed open (silence) while the reply came.
  expect(mic.speechChunks).toBeGreaterThan(20);
  expect(mic.chunks).toBeGreaterThan(mic.speechChunks);
  expect(mic.recording).toBe(true);

  // While the reply's voice played, each chunk said how much of it had been heard (barge-in).
  await waitFor(() => expect(screen.getByTestId("audio-status")).toHaveTextContent(/played/), {
    timeout: 30_000,
  });
  const heard = sent.playing.flatMap((p) => (p ? [p.heardUntilMs] : []));
  expect(heard.length).toBeGreaterThan(2);
  expect(heard).toEqual([...heard].sort((a, b) => a - b)); // the position only moves on
  expect(heard.at(-1)).toBeGreaterThan(500);
  expect(sent.playing[0]).toBeNull(); // the question was spoken before any reply played

  fireEvent.press(screen.getByText("Stop hands-free"));
  await screen.findByText("Hands-free");
  expect(mic.recording).toBe(false);
}, 90_000);
