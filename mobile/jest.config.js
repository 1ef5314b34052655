// jest-expo mocks Expo's native modules (audio, secure store) at the native boundary; the app's
// own code runs as it is. The tests talk to a real server: tests/clients/test_mobile_app.py
// starts one and passes its URL in HOLOMATE_TEST_SERVER_URL.
module.exports = {
  preset: "jest-expo",
  testEnvironment: "<rootDir>/test/environment.js",
  setupFilesAfterEnv: ["<rootDir>/jest.setup.ts"],
  testTimeout: 60_000,
};
