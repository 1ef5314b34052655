// React Native's test environment, keeping Node's own fetch for jest.setup.ts to put back:
// the preset's setup replaces fetch with React Native's, which sends through the (mocked)
// native networking module. The app's requests go to a real server in these tests.
const ReactNativeEnv = require("@react-native/jest-preset/jest/react-native-env.js");

module.exports = class HoloMateEnv extends ReactNativeEnv {
  constructor(config, context) {
    super(config, context);
    this.global.__nodeFetch = fetch;
  }
};
