// The operations the app sends: the web app's documents (../web/src/lib/operations.ts and
// account.ts), typed for this app by `npm run codegen` (see codegen.ts), so both apps speak the
// same, checked GraphQL.
export {
  CompanionsDocument as COMPANIONS,
  ConversationDocument as CONVERSATION,
  ConversationEventsDocument as CONVERSATION_EVENTS,
  CreateCompanionDocument as CREATE_COMPANION,
  DeviceStatusDocument as DEVICE_STATUS,
  DevicesDocument as DEVICES,
  EndVoiceSessionDocument as END_VOICE_SESSION,
  InterruptReplyDocument as INTERRUPT_REPLY,
  LiveCursorDocument as LIVE_CURSOR,
  LoginDocument as LOGIN,
  PairDeviceDocument as PAIR_DEVICE,
  RefreshDocument as REFRESH,
  RegisterDocument as REGISTER,
  SendMessageDocument as SEND_MESSAGE,
  SendVoiceChunkDocument as SEND_VOICE_CHUNK,
  SendVoiceMessageDocument as SEND_VOICE_MESSAGE,
  StartConversationDocument as START_CONVERSATION,
  StartVoiceSessionDocument as START_VOICE_SESSION,
} from "../gql/graphql";
