// Every GraphQL operation of the app. `graphql()` is generated from ../schema.graphql by
// GraphQL Code Generator, so each document is typed and checked against the server's contract.
import { graphql } from "@/gql";

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

export const LOGOUT = graphql(`
  mutation Logout($refreshToken: String!) {
    logout(refreshToken: $refreshToken)
  }
`);

export const ME = graphql(`
  query Me {
    me {
      id
      email
      displayName
    }
  }
`);

export const COMPANION_FIELDS = graphql(`
  fragment CompanionFields on Companion {
    id
    name
    persona
    backstory
    traits
    language
    greeting
    voiceProfile {
      id
      name
    }
    characterAsset {
      id
      name
    }
  }
`);

export const COMPANIONS = graphql(`
  query Companions {
    companions(first: 100) {
      nodes {
        ...CompanionFields
        conversations(first: 1) {
          nodes {
            id
            title
          }
        }
      }
    }
  }
`);

export const COMPANION_OPTIONS = graphql(`
  query CompanionOptions {
    voiceProfiles {
      id
      name
      language
    }
    characterAssets {
      id
      name
    }
    availableVoices {
      provider
      voiceId
      name
      language
    }
  }
`);

export const CREATE_COMPANION = graphql(`
  mutation CreateCompanion($input: CreateCompanionInput!) {
    createCompanion(input: $input) {
      ...CompanionFields
    }
  }
`);

export const UPDATE_COMPANION = graphql(`
  mutation UpdateCompanion($id: ID!, $input: UpdateCompanionInput!) {
    updateCompanion(id: $id, input: $input) {
      ...CompanionFields
    }
  }
`);

export const DELETE_COMPANION = graphql(`
  mutation DeleteCompanion($id: ID!) {
    deleteCompanion(id: $id)
  }
`);

export const CREATE_VOICE_PROFILE = graphql(`
  mutation CreateVoiceProfile($input: CreateVoiceProfileInput!) {
    createVoiceProfile(input: $input) {
      id
      name
      language
    }
  }
`);

export const START_CONVERSATION = graphql(`
  mutation StartConversation($companionId: ID!) {
    startConversation(companionId: $companionId) {
      id
    }
  }
`);

export const MESSAGE_FIELDS = graphql(`
  fragment MessageFields on Message {
    id
    role
    text
    status
    createdAt
  }
`);

/** Where a race-free stream starts: read before the history it goes with. */
export const LIVE_CURSOR = graphql(`
  query LiveCursor($id: ID!) {
    conversation(id: $id) {
      id
      liveCursor
    }
  }
`);

export const CONVERSATION = graphql(`
  query Conversation($id: ID!, $last: Int!, $before: String) {
    conversation(id: $id) {
      id
      title
      companion {
        id
        name
        greeting
      }
      messages(last: $last, before: $before) {
        edges {
          cursor
          node {
            ...MessageFields
          }
        }
        pageInfo {
          hasPreviousPage
          startCursor
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
      ... on ReplyDegraded {
        reason
        detail
      }
      ... on ReplyFailed {
        code
        detail
        retryable
      }
    }
  }
`);
