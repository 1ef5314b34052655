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
    memoryEnabled
    pictureUrl
    lorebookEntryCount
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

/** A 3D character by the URL of its model file (the conversation page draws a VRM). */
export const CREATE_CHARACTER_ASSET = graphql(`
  mutation CreateCharacterAsset($input: CharacterAssetInput!) {
    createCharacterAsset(input: $input) {
      id
      name
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
      summary
      summaryUpdatedAt
      companion {
        id
        name
        greeting
        memoryEnabled
        characterAsset {
          id
          url
          format
          visemeMap
          emotionMap
        }
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

// Hands-free voice sessions: sent over the WebSocket (context `viaSocket`, see apollo.ts), so a
// chunk every 100 ms costs no HTTP request and rides the socket the conversation's stream holds.
export const START_VOICE_SESSION = graphql(`
  mutation StartVoiceSession($conversationId: ID!) {
    startVoiceSession(conversationId: $conversationId) {
      id
      sampleRate
      maxChunkMs
      bargeInMs
    }
  }
`);

export const SEND_VOICE_CHUNK = graphql(`
  mutation SendVoiceChunk(
    $sessionId: ID!
    $seq: Int!
    $audio: String!
    $playing: VoicePlaybackInput
  ) {
    sendVoiceChunk(sessionId: $sessionId, seq: $seq, audio: $audio, playing: $playing) {
      seq
      receivedMs
    }
  }
`);

export const END_VOICE_SESSION = graphql(`
  mutation EndVoiceSession($sessionId: ID!) {
    endVoiceSession(sessionId: $sessionId) {
      id
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
      ... on ReplyStarted {
        model
        fallback
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
      ... on MemoryFormed {
        memory {
          ...MemoryFields
        }
      }
      ... on VoiceSpeechStarted {
        sessionId
        atMs
      }
      ... on VoicePartialTranscript {
        sessionId
        partial: text
        throughMs
      }
      ... on VoiceTurnEnded {
        sessionId
        endMs
      }
      ... on VoiceFinalTranscript {
        sessionId
        final: text
        outcome
        detail
      }
      ... on VoiceSessionClosed {
        sessionId
        reason
        closedDetail: detail
      }
    }
  }
`);

/** The conversation header's summary, read again when the stream says a reply ended. */
export const CONVERSATION_SUMMARY = graphql(`
  query ConversationSummary($id: ID!) {
    conversation(id: $id) {
      id
      summary
      summaryUpdatedAt
    }
  }
`);

export const IMPORT_CHARACTER_CARD = graphql(`
  mutation ImportCharacterCard($file: Upload!) {
    importCharacterCard(file: $file) {
      ...CompanionFields
    }
  }
`);

export const EXPORT_CHARACTER_CARD = graphql(`
  mutation ExportCharacterCard($companionId: ID!, $format: CharacterCardFormat!) {
    exportCharacterCard(companionId: $companionId, format: $format) {
      url
      filename
      format
      expiresAt
    }
  }
`);

export const MEMORY_FIELDS = graphql(`
  fragment MemoryFields on Memory {
    id
    companionId
    text
    kind
    importance
    origin
    conversationId
    createdAt
    updatedAt
    lastRecalledAt
  }
`);

export const COMPANION_MEMORY = graphql(`
  query CompanionMemory($id: ID!) {
    companion(id: $id) {
      id
      name
      memoryEnabled
      pictureUrl
    }
  }
`);

export const MEMORIES = graphql(`
  query Memories($companionId: ID!, $query: String, $first: Int!, $after: String) {
    memories(companionId: $companionId, query: $query, first: $first, after: $after) {
      nodes {
        ...MemoryFields
      }
      pageInfo {
        hasNextPage
        endCursor
      }
    }
  }
`);

export const REMEMBER_MEMORY = graphql(`
  mutation RememberMemory($companionId: ID!, $text: String!, $importance: Float) {
    rememberMemory(companionId: $companionId, text: $text, importance: $importance) {
      ...MemoryFields
    }
  }
`);

export const UPDATE_MEMORY = graphql(`
  mutation UpdateMemory($id: ID!, $text: String, $importance: Float) {
    updateMemory(id: $id, text: $text, importance: $importance) {
      ...MemoryFields
    }
  }
`);

export const FORGET_MEMORY = graphql(`
  mutation ForgetMemory($id: ID!) {
    forgetMemory(id: $id)
  }
`);

export const FORGET_ALL_MEMORIES = graphql(`
  mutation ForgetAllMemories($companionId: ID!) {
    forgetAllMemories(companionId: $companionId)
  }
`);

export const SET_MEMORY_ENABLED = graphql(`
  mutation SetMemoryEnabled($id: ID!, $enabled: Boolean!) {
    updateCompanion(id: $id, input: { memoryEnabled: $enabled }) {
      id
      memoryEnabled
    }
  }
`);
