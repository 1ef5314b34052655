// Native boundaries the app's code meets in Jest:
// - React Native's WebSocket is a native module, which Jest's React Native setup mocks: Node's
//   `ws` stands in for it, so the app's graphql-ws client opens a real socket to the server.
// - React Native's fetch goes through its native networking module, mocked too: Node's fetch
//   (kept by test/environment.js) sends the app's requests.
// - Expo's native audio module (test/nativeAudio.ts).
import WebSocket from "ws";

import "./test/nativeAudio";

const { __nodeFetch } = globalThis as unknown as { __nodeFetch: typeof fetch };
Object.assign(globalThis, { WebSocket, fetch: __nodeFetch });
