// Every GraphQL operation of the app, typed by GraphQL Code Generator from ../schema.graphql
// (`npm run codegen`), with the web app's selections where both apps show the same thing.
import { graphql } from "../gql";

export const AUTH_FIELDS = graphql(`
  fragment AuthFields on AuthPayload {
    accessToken
    refreshToken
    accessTokenExpiresAt
    user {
      id
      email
      displayName
    }
  }
`);

export const REGISTER = graphql(`
  mutation Register($email: String!, $password: String!, $displayName: String!) {
    register(email: $email, password: $password, displayName: $displayName) {
      ...AuthFields
    }
  }
`);

export const LOGIN = graphql(`
  mutation Login($email: String!, $password: String!) {
    login(email: $email, password: $password) {
      ...AuthFields
    }
  }
`);

export const REFRESH = graphql(`
  mutation Refresh($refreshToken: String!) {
    refreshToken(refreshToken: $refreshToken) {
      ...AuthFields
    }
  }
`);

export const COMPANIONS = graphql(`
  query Companions {
    companions(first: 100) {
      nodes {
        id
        name
        persona
        conversations(first: 1) {
          nodes {
            id
          }
        }
      }
    }
  }
`);

export const CREATE_COMPANION = graphql(`
  mutation CreateCompanion($input: CreateCompanionInput!) {
    createCompanion(input: $input) {
      id
      name
    }
  }
`);

export const START_CONVERSATION = graphql(`
  mutation StartConversation($companionId: ID!) {
    startConversation(companionId: $companionId) {
      id
      liveCursor
    }
  }
`);

export const MESSAGE_FIELDS = graphql(`
  fragment MessageFields on Message {
    id
    role
    text
    status
  }
`);

export const LIVE_CURSOR = graphql(`
  query LiveCursor($id: ID!) {
    conversation(id: $id) {
      id
      liveCursor
    }
  }
`);

export const CONVERSATION = graphql(`
  query Conversation($id: ID!) {
    conversation(id: $id) {
      id
      companion {
        id
        name
      }
      messages(last: 30) {
        nodes {
          ...MessageFields
        }
      }
    }
  }
`);

export const SEND_MESSAGE = graphql(`
  mutation SendMessage($conversationId: ID!, $text: String!) {
    sendMessage(conversationId: $conversationId, text: $text) {
      ...MessageFields
    }
  }
`);

export const SEND_VOICE_MESSAGE = graphql(`
  mutation SendVoiceMessage($conversationId: ID!, $audio: Upload!) {
    sendVoiceMessage(conversationId: $conversationId, audio: $audio) {
      ...MessageFields
    }
  }
`);

export const INTERRUPT_REPLY = graphql(`
  mutation InterruptReply($messageId: ID!, $heardUntilMs: Int!) {
    interruptReply(messageId: $messageId, heardUntilMs: $heardUntilMs) {
      id
      status
      text
    }
  }
`);

export const CONVERSATION_EVENTS = graphql(`
  subscription ConversationEvents($id: ID!, $after: String) {
    conversationEvents(conversationId: $id, after: $after) {
      __typename
      ... on EventBase {
        cursor
        messageId
      }
      ... on MessagePosted {
        message {
          ...MessageFields
        }
      }
      ... on MessageDelta {
        seq
        text
      }
      ... on AudioChunk {
        seq
        url
        mimeType
        startMs
        durationMs
      }
      ... on VisemeFrames {
        audioSeq
        frames {
          viseme
          startMs
          endMs
          weight
        }
      }
      ... on EmotionChanged {
        emotion
        intensity
        atMs
      }
      ... on ReplyCompleted {
        message {
          ...MessageFields
        }
      }
      ... on ReplyInterrupted {
        heardText
        message {
          ...MessageFields
        }
      }
      ... on ReplyFailed {
        code
        detail
        retryable
      }
    }
  }
`);

export const DEVICE_FIELDS = graphql(`
  fragment DeviceFields on HologramDevice {
    id
    name
    model
    online
    speaks
    lastSeenAt
  }
`);

export const DEVICES = graphql(`
  query Devices {
    devices {
      ...DeviceFields
    }
  }
`);

export const DEVICE_STATUS = graphql(`
  subscription DeviceStatus {
    deviceStatusChanged {
      device {
        ...DeviceFields
      }
    }
  }
`);

export const PAIR_DEVICE = graphql(`
  mutation PairDevice($userCode: String!, $name: String!) {
    pairDevice(userCode: $userCode, name: $name) {
      ...DeviceFields
    }
  }
`);
