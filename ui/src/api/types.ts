// The HTTP API's shapes, mirroring the Rust serde types (camelCase). Kept in this one file so
// that a generator (OpenAPI) can replace it later. Times are RFC 3339 strings in UTC.
//
// Rust sources: core/src/decision.rs (Decision, PassSummary, PreviousUse, EntryCount),
// core/src/loyalty/{mod,program,rewards,ledger,ops}.rs (LoyaltyView, Tier, Reward,
// LedgerEntry, Account, OpResult), core/src/scan_log.rs (ScanRecord), core/src/reader.rs
// (Reader), core/src/passentry.rs (pass resources), service/src/server/routes/*.rs (documents).

export type Rfc3339 = string;

// ---- JSON:API envelopes -------------------------------------------------------------------

export interface Resource<T extends string, A> {
  type: T;
  id: string;
  attributes: A;
}

export interface Doc<D, M = unknown> {
  data: D;
  meta?: M;
  included?: unknown[];
  links?: Record<string, string | null>;
}

export interface PageMeta {
  totalCount: number;
  resultsPerPage: number;
  currentPage: number;
  totalPages: number;
}

export interface ApiErrorObject {
  status: string;
  code: string;
  title: string;
  detail: string;
  source?: { pointer?: string; parameter?: string };
}

export interface ErrorDoc {
  errors: ApiErrorObject[];
}

// ---- Scans and decisions (core/src/decision.rs) -------------------------------------------

export type Verdict = 'accept' | 'reject';

export type Reason =
  | 'malformed_value'
  | 'unknown_pass'
  | 'voided'
  | 'expired'
  | 'not_yet_valid'
  | 'wrong_event'
  | 'already_used'
  | 'not_checked_in'
  | 'reader_not_allowed'
  | 'invalid_token'
  | 'revoked';

export type Warning = 'removed_from_wallet' | 'not_in_cache';

export type Medium =
  | 'qr'
  | 'nfc'
  | 'nfc_vas'
  | 'nfc_smart_tap'
  | 'nfc_ndef'
  | 'nfc_uid'
  | 'serial'
  | 'manual';

export type Direction = 'entry' | 'exit';

export type MatchedBy = 'barcode' | 'nfc' | 'passId' | 'extId' | 'token';

export interface PassSummary {
  id: string;
  extId: string | null;
  holderName: string | null;
  status: string | null;
  passType: string;
  templateId: string;
  templateName: string | null;
  eventId: string | null;
  eventName: string | null;
  expiresAt: Rfc3339 | null;
}

export interface PreviousUse {
  scanId: string;
  at: Rfc3339;
  readerId: string;
  readerName: string;
}

export interface EntryCount {
  used: number;
  limit: number;
}

export interface Decision {
  scanId: string;
  verdict: Verdict;
  reason: Reason | null;
  /** Words a gate worker can say aloud; times in it are UTC (the UI localises them). */
  message: string;
  passId: string | null;
  pass: PassSummary | null;
  matchedBy: MatchedBy | null;
  readerId: string;
  medium: Medium;
  direction: Direction;
  at: Rfc3339;
  previousUse?: PreviousUse;
  duplicateOf?: string;
  entries?: EntryCount;
  warnings: Warning[];
  loyalty?: LoyaltyView;
}

/** `POST /api/v1/scans` answers it; the `decision` server-sent event carries it as data. */
export type ScanResource = Resource<'scan', Decision>;

export interface ScanRequest {
  value: string;
  readerId?: string;
  medium?: Medium;
  direction?: Direction;
}

/** `GET /api/v1/scans`: the audit log (core/src/scan_log.rs). */
export interface ScanRecord {
  id: string;
  nodeId: string;
  at: Rfc3339;
  readerId: string;
  medium: string;
  direction: Direction;
  value: string;
  valueLen: number;
  passId: string | null;
  verdict: Verdict;
  reason: Reason | null;
  detail: string | null;
  counted: boolean;
  duplicateOf: string | null;
  viaToken: boolean;
}

// ---- Loyalty (core/src/loyalty) -----------------------------------------------------------

export type RewardUnit = 'points' | 'stamps';

export interface Tier {
  name: string;
  threshold: number;
  unit: RewardUnit;
}

export type RewardStatus = 'available' | 'redeemed' | 'deleted';

export interface Reward {
  id: string;
  passId: string;
  tierName: string;
  unit: RewardUnit;
  cost: number;
  status: RewardStatus;
  createdAt: Rfc3339;
  closedAt: Rfc3339 | null;
}

export interface LoyaltyView {
  balance: number;
  reservedPoints: number;
  stamps: number;
  cardSize: number | null;
  stampsOnCard: number | null;
  rewards: Reward[];
  claimable: Tier[];
}

export type EntryKind =
  | 'earn'
  | 'adjust'
  | 'override'
  | 'stamp'
  | 'reward_create'
  | 'reward_redeem'
  | 'reward_delete'
  | 'reverse'
  | 'expire';

export interface LedgerEntry {
  id: string;
  opId: string;
  nodeId: string;
  passId: string;
  kind: EntryKind;
  points: number;
  stamps: number;
  reservedPoints: number;
  reservedStamps: number;
  amountMinor: number | null;
  rewardId: string | null;
  reverses: string | null;
  reason: string | null;
  at: Rfc3339;
}

export interface Account {
  points: number;
  stamps: number;
  reservedPoints: number;
  reservedStamps: number;
}

export interface OpResult {
  opId: string;
  passId: string;
  entries: LedgerEntry[];
  account: Account;
  reward: Reward | null;
  replayed: boolean;
}

/** Answer of earn / stamps / redeem: `data` the operation, `meta` the balance. */
export type OpDoc = Doc<
  Resource<'loyaltyOperation', OpResult>,
  { loyalty: { balance: number }; replayed: boolean }
>;

/** `GET /api/v1/passes/{id}/loyalty`: the view, with the ledger in `included`. */
export interface LoyaltyDoc {
  data: Resource<'loyalty', LoyaltyView | null>;
  included: Resource<'ledgerEntry', LedgerEntry>[];
}

export interface EarnRequest {
  amountMinor?: number;
  points?: number;
}

export interface StampRequest {
  count?: number;
}

export interface TierRequest {
  tier: string;
}

// ---- Passes (core/src/passentry.rs, service/src/server/routes/passes.rs) ------------------

export interface Barcode {
  type: string;
  value: string;
  displayText: boolean;
}

export type PassStatus = 'issued' | 'active' | 'voided' | 'deactivated' | 'expired' | string;

export interface PassAttributes {
  passType: string;
  deviceType: string | null;
  createdAt: Rfc3339;
  updatedAt: Rfc3339;
  status: PassStatus;
  extId: string | null;
  groupTag: string | null;
  addedAt: Rfc3339 | null;
  removedAt: Rfc3339 | null;
  deactivatedAt: Rfc3339 | null;
  expiresAt: Rfc3339 | null;
  validFrom: Rfc3339 | null;
  validUntil: Rfc3339 | null;
  passTemplateUuid: string;
  passTemplateName: string | null;
  eventUuid: string | null;
  eventName: string | null;
  nfc: string | null;
  barcode: Barcode | null;
  latestMessage: string | null;
  passContent: Record<string, unknown>;
  downloadUrl?: string;
}

export type PassResource = Resource<'pass', PassAttributes>;

/** `GET /api/v1/passes/{id}`: `meta.loyalty` when the pass has a program. */
export type PassDoc = Doc<PassResource, { loyalty?: LoyaltyView }>;
export type PassPage = Doc<PassResource[], PageMeta>;

export interface CreatePassRequest {
  passTemplate: string;
  eventUuid?: string;
  extId?: string;
  pass: { fullName?: string; email?: string; [k: string]: unknown };
  initialBalance?: number;
}

export interface UpdatePassRequest {
  passAction?: 'void' | 'deactivate' | 'reactivate';
  message?: string;
}

// ---- Catalog (core/src/catalog.rs, core/src/reader.rs) ------------------------------------

export interface TemplateAttributes {
  name: string;
  /** The pass type: eventTicket, storeCard, ... */
  templateType: string;
}
export type TemplateResource = Resource<'passTemplate', TemplateAttributes>;

export interface EventAttributes {
  name: string;
  venueName: string | null;
  startTime: Rfc3339 | null;
  endTime: Rfc3339 | null;
  timeZone: string | null;
}
export type EventResource = Resource<'event', EventAttributes>;

export interface Reader {
  id: string;
  name: string;
  readerType: string;
  eventId: string | null;
  direction: Direction;
  scanEnabled: boolean;
  redeemEnabled: boolean;
  addPointsEnabled: boolean;
}

// ---- Status (service/src/server/routes/status.rs) -----------------------------------------

export interface StatusAttributes {
  version: string;
  nodeId: string;
  nodeName: string | null;
  keyId: string;
  uptimeSeconds: number;
  passes: number;
  scansToday: number;
  outboxPending: number;
  readers: Reader[];
  lastSync: Rfc3339 | null;
}
export type StatusDoc = Doc<Resource<'status', StatusAttributes>>;

/** `GET /api/v1/readers` (service/src/server/routes/catalog.rs: `eventUuid`, not `eventId`). */
export interface ReaderAttributes {
  name: string;
  readerType: string;
  eventUuid: string | null;
  direction: Direction;
  scanEnabled: boolean;
  redeemEnabled: boolean;
  addPointsEnabled: boolean;
}
export type ReaderResource = Resource<'reader', ReaderAttributes>;
