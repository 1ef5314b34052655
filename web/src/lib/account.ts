// Devices, plan and privacy operations (typed by codegen like lib/operations.ts).
import { graphql } from "@/gql";

export const DEVICE_FIELDS = graphql(`
  fragment DeviceFields on HologramDevice {
    id
    name
    model
    serial
    firmware
    online
    speaks
    lastSeenAt
    activeCompanionId
  }
`);

export const DEVICES = graphql(`
  query Devices {
    devices {
      ...DeviceFields
    }
    companions(first: 100) {
      nodes {
        id
        name
      }
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

export const DENY_PAIRING = graphql(`
  mutation DenyPairing($userCode: String!) {
    denyDevicePairing(userCode: $userCode)
  }
`);

export const UNPAIR_DEVICE = graphql(`
  mutation UnpairDevice($id: ID!) {
    unpairDevice(id: $id)
  }
`);

export const ASSIGN_COMPANION = graphql(`
  mutation AssignCompanion($deviceId: ID!, $companionId: ID!) {
    assignCompanionToDevice(deviceId: $deviceId, companionId: $companionId) {
      ...DeviceFields
    }
  }
`);

export const SET_SPEAKING_DEVICE = graphql(`
  mutation SetSpeakingDevice($deviceId: ID!) {
    setSpeakingDevice(deviceId: $deviceId) {
      ...DeviceFields
    }
  }
`);

export const BILLING = graphql(`
  query Billing {
    billing {
      plan
      status
      provider
      currentPeriodEnd
      graceUntil
      limits {
        companions
        messagesPerDay
        voiceMinutesPerMonth
        devices
      }
      usage {
        companions
        messagesToday
        voiceMinutesThisMonth
        devices
      }
    }
  }
`);

export const START_CHECKOUT = graphql(`
  mutation StartCheckout($plan: String!) {
    startCheckout(plan: $plan) {
      url
    }
  }
`);

export const OPEN_BILLING_PORTAL = graphql(`
  mutation OpenBillingPortal {
    openBillingPortal {
      url
    }
  }
`);

export const EXPORT_MY_DATA = graphql(`
  mutation ExportMyData {
    exportMyData {
      id
      status
      url
      expiresAt
    }
  }
`);

export const DATA_EXPORT = graphql(`
  query DataExport($id: ID!) {
    dataExport(id: $id) {
      id
      status
      url
      expiresAt
    }
  }
`);

export const DELETE_MY_ACCOUNT = graphql(`
  mutation DeleteMyAccount($password: String!) {
    deleteMyAccount(password: $password)
  }
`);
