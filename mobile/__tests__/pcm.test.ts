// The voice session's engine-free parts: PCM16 to base64 and back as the server reads it
// (little-endian, standard alphabet), and a microphone's frames cut into whole 100 ms chunks.
import { base64ToPcm16, pcm16ToBase64 } from "../src/lib/pcm";
import { Chunker } from "../src/lib/voiceSession";

test("PCM16 goes out as the little-endian base64 the server decodes", () => {
  for (const length of [0, 1, 2, 3, 1600]) {
    const samples = Int16Array.from({ length }, (_, i) => ((i * 7919) % 65536) - 32768);
    const expected = Buffer.from(samples.buffer).toString("base64"); // Node: little-endian
    expect(pcm16ToBase64(samples)).toBe(expected);
    expect(Array.from(base64ToPcm16(expected))).toEqual(Array.from(samples));
  }
});

test("frames of any length become whole chunks, in order, the rest kept for the next", () => {
  const chunker = new Chunker(1600);
  const frames = [700, 700, 700, 2000, 701].map((n, f) => new Int16Array(n).fill(f));
  const chunks = frames.flatMap((frame) => chunker.push(frame));
  expect(chunks.map((c) => c.length)).toEqual([1600, 1600, 1600]);
  const sent = chunks.flatMap((c) => Array.from(c));
  const given = frames.flatMap((f) => Array.from(f)).slice(0, 4800);
  expect(sent).toEqual(given);
});
