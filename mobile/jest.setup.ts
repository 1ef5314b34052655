// Native boundaries the app's code meets in Jest:
// - React Native's WebSocket is a native module, which Jest's React Native setup mocks: Node's
//   `ws` stands in for it, so the app's graphql-ws client opens a real socket to the server.
// - React Native's fetch goes through its native networking module, mocked too: Node's fetch
//   (kept by test/environment.js) sends the app's requests.
// - Expo's native audio module (test/nativeAudio.ts), and the microphone's (test/nativeMic.ts).
// Both stand-ins record what they send (test/wire.ts): after each file, no GraphQL request
// carried document text, only hashes (the server trusts the app's manifest and no text).
import "./test/nativeAudio";
import "./test/nativeMic";
import { configure } from "@testing-library/react-native";

import { RecordingWebSocket, recordingFetch, sent } from "./test/wire";

// Screens wait on a real server over real sockets: on a loaded CI machine connecting and
// subscribing took over Testing Library's default 1 s (findBy*, waitFor without a timeout).
configure({ asyncUtilTimeout: 15_000 });

const { __nodeFetch } = globalThis as unknown as { __nodeFetch: typeof fetch };
Object.assign(globalThis, { WebSocket: RecordingWebSocket, fetch: recordingFetch(__nodeFetch) });

afterAll(() => {
  // Every GraphQL request named its document by hash alone.
  expect(sent.withText).toEqual([]);
  // (A file that talks to the server sends many: a recorder that saw none would prove nothing.)
  if (expect.getState().testPath?.includes("pcm.test")) return;
  expect(sent.byHash).toBeGreaterThan(5);
});
