// The API's shapes under the names the screens use. Nothing here is written by hand: every type
// is an alias of one generated from the service's OpenAPI document into schema.d.ts
// (`npm run types`; the tests fail when it is stale), which the utoipa annotations in
// service/src/server derive from the Rust types (core/src/decision.rs, core/src/loyalty, ...).

import type { components } from './schema';

type S = components['schemas'];

// ---- Scans and decisions ------------------------------------------------------------------
export type Decision = S['Decision'];
export type PassSummary = S['PassSummary'];
export type Verdict = S['Verdict'];
export type Reason = S['Reason'];
export type Warning = S['Warning'];
export type Medium = S['Medium'];
/** `POST /api/v1/scans` answers it; the `decision` server-sent event carries it as data. */
export type ScanResource = S['ScanResource'];
export type ScanDoc = S['ScanDoc'];
export type ScanRequest = S['ScanRequest'];
/** `GET /api/v1/scans`: the audit log, with today's totals in `meta`. */
export type ScanRecord = S['ScanRecord'];
export type ScanRecordList = S['ScanRecordList'];

// ---- Loyalty ------------------------------------------------------------------------------
export type LoyaltyView = S['LoyaltyView'];
export type Tier = S['Tier'];
export type Reward = S['Reward'];
export type LedgerEntry = S['LedgerEntry'];
/** Answer of earn / stamps / redeem / reverse: `data` the operation, `meta` the balance. */
export type OpDoc = S['LoyaltyOperationDoc'];
/** `GET /api/v1/passes/{id}/loyalty`: the view, with the ledger in `included`. */
export type LoyaltyDoc = S['LoyaltyDoc'];

// ---- Passes and catalog -------------------------------------------------------------------
export type PassResource = S['PassResource'];
export type PassDoc = S['PassDoc'];
export type PassPage = S['PassPage'];
export type CreatePassRequest = S['CreateBody'];
export type TemplateList = S['TemplateList'];
export type EventList = S['EventList'];

// ---- Sync with the hub -------------------------------------------------------------------
/** `GET /api/v1/sync`: the banner's facts; also `/status`'s `sync`. */
export type SyncStatus = S['SyncStatus'];
export type SyncDoc = S['SyncDoc'];
/** A conflict the hub found; its sides' times are unix milliseconds (the sync protocol's). */
export type ConflictRecord = S['ConflictRecord'];
export type ConflictSide = S['ConflictSide'];
export type ConflictKind = S['ConflictKind'];
/** `decision.conflict`: the scanned pass's newest conflict. */
export type ConflictNote = S['ConflictNote'];
export type SyncConflictList = S['SyncConflictList'];

// ---- Status and errors --------------------------------------------------------------------
export type StatusDoc = S['StatusDoc'];
export type ErrorDoc = S['ErrorDoc'];
/** `GET /api/v1/camera/preview.json`: the camera picture's size, time, outline and text. */
export type CameraPreviewDoc = S['CameraPreviewDoc'];

// ---- Keys and the day ---------------------------------------------------------------------
/** `GET /api/v1/me`: who the presented key is (role, bound readers). */
export type MeDoc = S['MeDoc'];
/** `GET /api/v1/scans/today`: a reader's (or the counter's) day: totals, latest scans, bounds. */
export type ScanDay = S['ScanDay'];
export type LocalDay = S['LocalDay'];

// ---- Webhooks -----------------------------------------------------------------------------
/** `/api/v1/webhook-subscriptions`: where the counter sends its events; `secretKey` only in the
 * answers of create and rotate-secret. */
export type WebhookSubscriptionAttributes = S['WebhookSubscriptionAttributes'];
export type WebhookSubscriptionResource = S['WebhookSubscriptionResource'];
export type WebhookSubscriptionDoc = S['WebhookSubscriptionDoc'];
export type WebhookSubscriptionPage = S['WebhookSubscriptionPage'];
export type WebhookSubscriptionFields = S['WebhookSubscriptionFields'];
export type WebhookSubscriptionPatch = S['WebhookSubscriptionPatch'];
export type WebhookEventName = S['WebhookEventName'];
export type WebhookFormat = S['Format'];
/** `/api/v1/webhook-deliveries`: the delivery log; one with its attempts in `included`. */
export type WebhookDeliveryResource = S['WebhookDeliveryResource'];
export type WebhookDeliveryDoc = S['WebhookDeliveryDoc'];
export type WebhookDeliveryPage = S['WebhookDeliveryPage'];
export type WebhookDeliveryDetailDoc = S['WebhookDeliveryDetailDoc'];
/** A webhook's line on `/status`: its health, and its host only. */
export type WebhookStatus = S['WebhookStatus'];

// ---- PassEntry as upstream ----------------------------------------------------------------
/** `GET /api/v1/upstream` and `/status`'s `upstream`: the account's pull and push state. */
export type UpstreamAttributes = S['UpstreamAttributes'];
export type UpstreamDoc = S['UpstreamDoc'];
/** A request to PassEntry that needs a person: refused (with PassEntry's answer) or uncertain. */
export type UpstreamRequest = S['Request'];

// ---- Wallets ------------------------------------------------------------------------------
/** `/status`'s `wallet`: Apple Wallet's and Google Wallet's state (and why, when not ready), and
 * the address phones reach the holder pages at. */
export type WalletStatus = S['WalletStatus'];
export type WalletLine = S['WalletLine'];
export type WalletState = S['WalletState'];
