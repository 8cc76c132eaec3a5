//! The shapes of the API's response documents, for the OpenAPI document only (never built: the
//! handlers answer `serde_json` values). They name the core types the handlers serialise, so the
//! document, the UI's generated TypeScript types (`ui/src/api/schema.d.ts`) and schemathesis's
//! response checks all follow the Rust types. A field a handler may leave out is an `Option`.
#![allow(dead_code)]

use crate::pipeline::DeviceStatus;
use passdesk_core::decision::Decision;
use passdesk_core::local_day::LocalDay;
use passdesk_core::loyalty::ledger::LedgerEntry;
use passdesk_core::loyalty::{LoyaltyView, OpResult};
use passdesk_core::pass::Barcode;
use passdesk_core::reader::{Direction, Reader};
use passdesk_core::scan_log::ScanRecord;
use passdesk_core::Timestamp;
use serde_json::{Map, Value};
use utoipa::openapi::schema::{AnyOfBuilder, Schema};
use utoipa::openapi::{Ref, RefOr};
use utoipa::{PartialSchema, ToSchema};

/// `{"type": "scan", "id", "attributes": Decision}`: `POST /scans` answers it, and the stream's
/// `decision` events carry it as their data.
#[derive(ToSchema)]
pub struct ScanResource {
    #[schema(rename = "type")]
    kind: String,
    id: String,
    attributes: Decision,
}

#[derive(ToSchema)]
pub struct ScanDoc {
    data: ScanResource,
    /// `loyalty`: what the scan's loyalty change did (`operation`, `balance`) or why not (`error`).
    meta: Option<Map<String, Value>>,
}

#[derive(ToSchema)]
pub struct ScanRecordResource {
    #[schema(rename = "type")]
    kind: String,
    id: String,
    attributes: ScanRecord,
    relationships: ScanRelationships,
}

/// `{"id", "type"}`: a resource named, not shown.
#[derive(ToSchema)]
pub struct ResourceIdentifier {
    id: String,
    #[schema(rename = "type")]
    kind: String,
}

#[derive(ToSchema)]
pub struct PassLinkage {
    /// Null for a scan of a value no pass has.
    data: Option<ResourceIdentifier>,
}

#[derive(ToSchema)]
pub struct ReaderLinkage {
    data: ResourceIdentifier,
}

/// A scan's pass and reader (PassEntry's `relationships`).
#[derive(ToSchema)]
pub struct ScanRelationships {
    pass: PassLinkage,
    reader: ReaderLinkage,
}

/// A pass or a reader a page of scans refers to, told apart by `type` (a reader's attributes
/// would also pass for a sparse pass's).
#[derive(ToSchema)]
#[serde(untagged)]
#[allow(clippy::large_enum_variant)] // a schema, never built
pub enum ScanIncluded {
    Pass(IncludedPass),
    Reader(IncludedReader),
}

#[derive(ToSchema)]
#[allow(non_camel_case_types)]
pub enum IncludedPassType {
    pass,
}

#[derive(ToSchema)]
#[allow(non_camel_case_types)]
pub enum IncludedReaderType {
    reader,
}

/// A pass, as `GET /passes/{id}` shows it.
#[derive(ToSchema)]
pub struct IncludedPass {
    #[schema(rename = "type")]
    kind: IncludedPassType,
    id: String,
    attributes: PassAttributes,
}

/// A reader, as `GET /readers/{id}` shows it.
#[derive(ToSchema)]
pub struct IncludedReader {
    #[schema(rename = "type")]
    kind: IncludedReaderType,
    id: String,
    attributes: ReaderAttributes,
}

/// The body of `POST /scans`: Passdesk's own, or PassEntry's (`{"scan": {…}}`).
#[derive(ToSchema)]
#[serde(untagged)]
#[allow(clippy::large_enum_variant)] // a schema, never built
pub enum ScanRequestBody {
    Passdesk(crate::server::routes::scans::ScanRequest),
    PassEntry(passdesk_core::passentry_scan::ScanBody),
}

/// The answer of `POST /scans`: to Passdesk's body the decision; to PassEntry's, PassEntry's
/// answer. `anyOf`, not `oneOf`: both are `{"data": …}` documents, told apart by what `data`
/// holds (`attributes`, or `validationResponse` and `scanInfo`), which no property of the
/// document itself says.
pub struct ScanAnswer;

impl utoipa::PartialSchema for ScanAnswer {
    fn schema() -> RefOr<Schema> {
        AnyOfBuilder::new()
            .item(Ref::from_schema_name(ScanDoc::name()))
            .item(Ref::from_schema_name(PassEntryScanDoc::name()))
            .description(Some(
                "The decision as a scan resource (Passdesk's body), or PassEntry's answer (PassEntry's body).",
            ))
            .into()
    }
}

impl ToSchema for ScanAnswer {
    fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
        schemas.push((ScanDoc::name().into(), ScanDoc::schema()));
        schemas.push((PassEntryScanDoc::name().into(), PassEntryScanDoc::schema()));
        ScanDoc::schemas(schemas);
        PassEntryScanDoc::schemas(schemas);
    }
}

/// PassEntry's answer to a scan.
#[derive(ToSchema)]
pub struct PassEntryScanDoc {
    data: PassEntryScanResult,
}

/// The scan's id and type, with PassEntry's two members beside them, where PassEntry's tools
/// read them (`data.validationResponse`, `data.scanInfo`).
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct PassEntryScanResult {
    /// The scan's id (`scanInfo.scanId`).
    id: String,
    /// `scan`.
    #[schema(rename = "type")]
    kind: String,
    validation_response: ValidationResponse,
    scan_info: ScanInfo,
}

/// What the reader shows and did.
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct ValidationResponse {
    /// `successful`, or `failed`: the scan was refused, or admitted but its loyalty change was
    /// not.
    status: passdesk_core::passentry_scan::ScanStatus,
    /// `valid` for an admission; else the refusal's code (`already_used`, `voided`,
    /// `unknown_pass`, `typed_id_not_accepted`…, or a loyalty refusal's: `reader_not_allowed`,
    /// `insufficient_points`…).
    status_detail: String,
    reader_instructions: ReaderInstructions,
    /// The loyalty change made; absent without one.
    loyalty: Option<ValidationLoyalty>,
}

#[derive(ToSchema)]
pub struct ReaderInstructions {
    /// The gate's words: "Valid", "Already used 19:42 UTC at Gate B" (times in UTC).
    message: String,
}

/// PassEntry's loyalty numbers, as strings.
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct ValidationLoyalty {
    /// The size of the change ("5").
    #[schema(example = "5")]
    balance_change: String,
    /// The balance after it ("17").
    #[schema(example = "17")]
    updated_balance: String,
    operation: BalanceOperation,
}

#[derive(ToSchema)]
#[allow(non_camel_case_types)]
pub enum BalanceOperation {
    add,
    subtract,
}

/// The scan as recorded.
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct ScanInfo {
    scan_id: String,
    scan_type: passdesk_core::passentry_scan::ScanType,
    /// What the reader sent as `passId`.
    scan_value: String,
    /// `internal`: validated by this counter, as PassEntry's readers' `validationType`.
    validation_type: String,
    /// The scan's own verdict.
    status: passdesk_core::passentry_scan::ScanStatus,
    scanned_at: Timestamp,
    /// The pass matched (null: none; a typed number refused at a gate still names it).
    pass_id: Option<String>,
    /// Its extId (null when the pass is not shown).
    pass_ext_id: Option<String>,
    reader_id: String,
}

#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct LoggedScanMeta {
    /// The same scan was logged before: this is that row, and nothing was recorded.
    replayed: bool,
    /// The pass is in this counter's cache; false: recorded under the id given.
    known_pass: bool,
}

/// A scan validated elsewhere, as recorded.
#[derive(ToSchema)]
pub struct LoggedScanDoc {
    data: ScanRecordResource,
    meta: LoggedScanMeta,
}

#[derive(ToSchema)]
pub struct ScanListMeta {
    /// Records in `data`.
    count: u64,
    /// Every scan the filter matches, `limit` aside (a repeat tap not counted twice).
    totals: passdesk_core::scan_log::Totals,
}

/// The audit log, newest first, with the passes and readers it refers to.
#[derive(ToSchema)]
pub struct ScanRecordList {
    data: Vec<ScanRecordResource>,
    /// Each pass and reader the scans relate to, once (a pass not in the cache and another
    /// node's reader are not included).
    included: Vec<ScanIncluded>,
    meta: ScanListMeta,
}

#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct ScanDayMeta {
    /// Records in `data`.
    count: u64,
    /// The day's scans at the reader (at every reader without `readerId`), a repeat tap not
    /// counted again.
    totals: passdesk_core::scan_log::Totals,
    /// The reader asked for; null: every reader.
    reader_id: Option<String>,
    /// The local day counted, in the zone of the reader's event, else the counter's: a screen
    /// asks again at `end`.
    day: LocalDay,
}

/// A gate's day: its latest scans, newest first, and the day's totals.
#[derive(ToSchema)]
pub struct ScanDay {
    data: Vec<ScanRecordResource>,
    meta: ScanDayMeta,
}

#[derive(ToSchema)]
pub struct LoyaltyOperationResource {
    #[schema(rename = "type")]
    kind: String,
    id: String,
    attributes: OpResult,
}

#[derive(ToSchema)]
pub struct BalanceMeta {
    balance: i64,
}

#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct LoyaltyOperationMeta {
    loyalty: BalanceMeta,
    /// True when this answer is the stored result of an earlier request with the same key.
    replayed: bool,
}

/// Earn, stamps, rewards, redemption, reversal: the operation and the balance after it.
#[derive(ToSchema)]
pub struct LoyaltyOperationDoc {
    data: LoyaltyOperationResource,
    meta: LoyaltyOperationMeta,
}

#[derive(ToSchema)]
pub struct LoyaltyResource {
    #[schema(rename = "type")]
    kind: String,
    /// The pass id.
    id: String,
    /// Null when the pass's template has no program and the pass has no ledger.
    attributes: Option<LoyaltyView>,
}

#[derive(ToSchema)]
pub struct LedgerEntryResource {
    #[schema(rename = "type")]
    kind: String,
    id: String,
    attributes: LedgerEntry,
}

/// A pass's loyalty with its whole ledger, oldest entry first, in `included`.
#[derive(ToSchema)]
pub struct LoyaltyDoc {
    data: LoyaltyResource,
    included: Vec<LedgerEntryResource>,
}

/// PassEntry's pass attributes. Every one may be missing: a list's `fields` keeps only those
/// asked for.
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct PassAttributes {
    pass_type: Option<String>,
    device_type: Option<String>,
    created_at: Option<Timestamp>,
    updated_at: Option<Timestamp>,
    /// issued, active, voided, deactivated, expired...
    status: Option<String>,
    ext_id: Option<String>,
    group_tag: Option<String>,
    added_at: Option<Timestamp>,
    removed_at: Option<Timestamp>,
    deactivated_at: Option<Timestamp>,
    expires_at: Option<Timestamp>,
    valid_from: Option<Timestamp>,
    valid_until: Option<Timestamp>,
    pass_template_uuid: Option<String>,
    pass_template_name: Option<String>,
    event_uuid: Option<String>,
    event_name: Option<String>,
    nfc: Option<String>,
    barcode: Option<Barcode>,
    latest_message: Option<String>,
    /// The pass's fields: `fullName`, `email`, and whatever the template has.
    pass_content: Option<Map<String, Value>>,
    /// This node's page for the holder (`/p/{token}`: an unguessable link, never the pass id or
    /// extId; the QR code, printable).
    download_url: Option<String>,
    /// Asked for with `includePassSource`: the pass's wallet file.
    pass_source: Option<PassSource>,
}

/// A pass's wallet file (PassEntry's `passSource`): one of the two keys.
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct PassSource {
    /// The signed `.pkpass`, standard base64 (`includePassSource=apple`).
    apple_base64: Option<String>,
    /// The "Add to Google Wallet" link (`includePassSource=google`).
    google_download_url: Option<String>,
}

/// Whether `data.attributes.passSource` was included, and why not.
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct PassSourceNote {
    included: bool,
    /// `apple` or `google`.
    wallet: String,
    /// Why it is not included (the pass is active on a device, or its file could not be made).
    detail: Option<String>,
}

#[derive(ToSchema)]
pub struct PassResource {
    #[schema(rename = "type")]
    kind: String,
    id: String,
    attributes: PassAttributes,
}

#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct PassMeta {
    /// The pass's loyalty, when it has some.
    loyalty: Option<LoyaltyView>,
    /// Asked for with `includePassSource`: whether the wallet file is included.
    pass_source: Option<PassSourceNote>,
}

/// One pass.
#[derive(ToSchema)]
pub struct PassDoc {
    data: PassResource,
    meta: Option<PassMeta>,
}

#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct PatchLoyaltyMeta {
    loyalty: BalanceMeta,
    operation: OpResult,
}

/// PassEntry's loyalty update: the pass, `meta.loyalty.balance` and the operation.
#[derive(ToSchema)]
pub struct PatchLoyaltyDoc {
    data: PassResource,
    meta: PatchLoyaltyMeta,
}

#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct PageMeta {
    total_count: u64,
    results_per_page: u32,
    current_page: u32,
    total_pages: u32,
}

#[derive(ToSchema)]
pub struct PageLinks {
    first: String,
    prev: Option<String>,
    next: Option<String>,
    last: String,
}

/// A page of passes.
#[derive(ToSchema)]
pub struct PassPage {
    data: Vec<PassResource>,
    meta: PageMeta,
    links: PageLinks,
}

#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct TemplateAttributes {
    name: String,
    /// The pass type: eventTicket, storeCard...
    template_type: String,
}

#[derive(ToSchema)]
pub struct TemplateResource {
    #[schema(rename = "type")]
    kind: String,
    id: String,
    attributes: TemplateAttributes,
}

#[derive(ToSchema)]
pub struct TemplateDoc {
    data: TemplateResource,
}

#[derive(ToSchema)]
pub struct TemplateList {
    data: Vec<TemplateResource>,
}

#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct EventAttributes {
    name: String,
    venue_name: Option<String>,
    start_time: Option<Timestamp>,
    end_time: Option<Timestamp>,
    /// An IANA time zone name.
    time_zone: String,
}

#[derive(ToSchema)]
pub struct EventResource {
    #[schema(rename = "type")]
    kind: String,
    id: String,
    attributes: EventAttributes,
}

#[derive(ToSchema)]
pub struct EventDoc {
    data: EventResource,
}

#[derive(ToSchema)]
pub struct EventList {
    data: Vec<EventResource>,
}

#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct ReaderAttributes {
    name: String,
    reader_type: String,
    /// The event a gate admits (null: any).
    event_uuid: Option<String>,
    direction: Direction,
    scan_enabled: bool,
    redeem_enabled: bool,
    add_points_enabled: bool,
    /// A typed pass id or extId admits here, flagged `typed_id`.
    accept_ids: bool,
    /// A scan may give its `direction` here.
    exit_enabled: bool,
}

#[derive(ToSchema)]
pub struct ReaderResource {
    #[schema(rename = "type")]
    kind: String,
    id: String,
    attributes: ReaderAttributes,
}

#[derive(ToSchema)]
pub struct ReaderDoc {
    data: ReaderResource,
}

#[derive(ToSchema)]
pub struct ReaderList {
    data: Vec<ReaderResource>,
}

#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct StatusAttributes {
    version: String,
    node_id: String,
    node_name: Option<String>,
    /// The id of this node's signing key.
    key_id: String,
    uptime_seconds: u64,
    /// Passes in the cache.
    passes: u64,
    /// Scans today (the counter's local day, `day`), a repeat tap not counted again.
    scans_today: u64,
    /// Today in the counter's time zone: when it started and ends.
    day: LocalDay,
    /// Outbox events the webhook fan-out has not reached yet.
    outbox_pending: u64,
    /// Every webhook subscription's health, read from its own row.
    webhooks: Vec<WebhookStatus>,
    /// The readers as configured.
    readers: Vec<Reader>,
    /// The devices the service drives, connected or not.
    devices: Vec<DeviceStatus>,
    /// This counter's sync with its hub (`joined` false when it has none).
    sync: passdesk_core::sync::state::SyncStatus,
    /// This counter's PassEntry account (`configured` false when it has none): the last pull,
    /// the requests waiting, refused and uncertain.
    upstream: UpstreamAttributes,
    /// Apple Wallet and Google Wallet on this counter, and the holder pages' address.
    wallet: crate::wallet::WalletStatus,
}

/// A webhook subscription on `/status`.
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct WebhookStatus {
    id: String,
    /// The endpoint's host (and port): never its path or query, which may carry a token.
    host: String,
    format: passdesk_core::webhook::Format,
    enabled: bool,
    /// `gone` (the endpoint answered 410) or `failing` (3 days without a success) when the
    /// counter turned it off; null when a person did, or it is on.
    disabled_reason: Option<String>,
    /// Deliveries waiting to be sent (held while it is off).
    backlog: u64,
    last_success_at: Option<Timestamp>,
    /// The first failure since the last success.
    failing_since: Option<Timestamp>,
    last_error: Option<String>,
}

#[derive(ToSchema)]
pub struct StatusResource {
    #[schema(rename = "type")]
    kind: String,
    id: String,
    attributes: StatusAttributes,
}

#[derive(ToSchema)]
pub struct StatusDoc {
    data: StatusResource,
}

#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct CameraPreviewAttributes {
    /// The picture's size in pixels (the frame shrunk to at most 640 wide).
    width: u32,
    height: u32,
    /// When the frame was captured.
    at: Timestamp,
    /// How long ago that was, in milliseconds.
    age_ms: i64,
    /// The read code's points (finder patterns or corners) in the picture's pixels, `[x, y]`
    /// each; null when no code was read in the last 1.5 s or the decoder gave no points.
    outline: Option<Vec<[f64; 2]>>,
    /// The code read in the last 1.5 s.
    text: Option<String>,
}

#[derive(ToSchema)]
pub struct CameraPreviewResource {
    #[schema(rename = "type")]
    kind: String,
    /// The frame's capture time in unix milliseconds.
    id: String,
    attributes: CameraPreviewAttributes,
}

#[derive(ToSchema)]
pub struct CameraPreviewDoc {
    data: CameraPreviewResource,
}

/// An event name of `subscribedEvents` (PassEntry's; `passScanned` is also taken, as
/// `passTapped`).
#[derive(ToSchema)]
#[allow(non_camel_case_types)]
pub enum WebhookEventName {
    passCreated,
    passUpdated,
    passVoided,
    /// Every scan decision, accepted or not.
    passTapped,
    passLoyaltyUpdated,
    passConflict,
}

#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct WebhookSubscriptionAttributes {
    url: String,
    /// Off: its deliveries wait, and are sent when it is turned on again.
    enabled: bool,
    /// Empty: every event.
    subscribed_events: Vec<WebhookEventName>,
    format: passdesk_core::webhook::Format,
    /// The signing secret (`whsec_...`): only in the answers of create and rotate-secret.
    secret_key: Option<String>,
    /// Why the counter turned it off: `gone` (the endpoint answered 410) or `failing` (3 days
    /// without a success); null when it is on or a person turned it off.
    disabled_reason: Option<String>,
    created_at: Timestamp,
    updated_at: Timestamp,
    last_success_at: Option<Timestamp>,
    /// The first failure since the last success.
    failing_since: Option<Timestamp>,
    last_error: Option<String>,
    /// Deliveries waiting to be sent.
    backlog: u64,
}

#[derive(ToSchema)]
pub struct WebhookSubscriptionResource {
    #[schema(rename = "type")]
    kind: String,
    id: String,
    attributes: WebhookSubscriptionAttributes,
}

#[derive(ToSchema)]
pub struct WebhookSubscriptionDoc {
    data: WebhookSubscriptionResource,
}

/// A page of webhook subscriptions, oldest first.
#[derive(ToSchema)]
pub struct WebhookSubscriptionPage {
    data: Vec<WebhookSubscriptionResource>,
    meta: PageMeta,
    links: PageLinks,
}

/// The deliveries a list can be narrowed to.
#[derive(ToSchema)]
#[allow(non_camel_case_types)]
pub enum DeliveryStateFilter {
    /// Given up after the last attempt (or a 410): kept for `retry`.
    failed,
}

#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct WebhookDeliveryAttributes {
    subscription_id: String,
    /// The event's id (`webhook-id`, the same on every attempt).
    event_id: String,
    /// PassEntry's name for the event (`passTapped`, `webhookTest`, ...).
    event_type: String,
    /// The format's word for it (`pass_created`, `N801`, ...).
    event_name: String,
    event_at: Timestamp,
    state: passdesk_core::webhook::deliveries::State,
    /// Attempts made so far (since the last retry).
    attempts: u32,
    /// When a pending delivery is due (held while its subscription is off).
    next_attempt_at: Option<Timestamp>,
    created_at: Timestamp,
    /// Delivered, or given up.
    done_at: Option<Timestamp>,
    /// The last answer's HTTP status.
    last_status: Option<u16>,
    last_error: Option<String>,
}

#[derive(ToSchema)]
pub struct WebhookDeliveryResource {
    #[schema(rename = "type")]
    kind: String,
    id: String,
    attributes: WebhookDeliveryAttributes,
}

#[derive(ToSchema)]
pub struct WebhookDeliveryDoc {
    data: WebhookDeliveryResource,
}

#[derive(ToSchema)]
pub struct WebhookAttemptResource {
    #[schema(rename = "type")]
    kind: String,
    /// `<delivery id>.<n>`.
    id: String,
    attributes: passdesk_core::webhook::deliveries::Attempt,
}

/// A delivery with every attempt, oldest first, in `included`.
#[derive(ToSchema)]
pub struct WebhookDeliveryDetailDoc {
    data: WebhookDeliveryResource,
    included: Vec<WebhookAttemptResource>,
}

/// A page of the delivery log, newest first.
#[derive(ToSchema)]
pub struct WebhookDeliveryPage {
    data: Vec<WebhookDeliveryResource>,
    meta: PageMeta,
    links: PageLinks,
}

/// `{"type": "sync", "id": nodeId, "attributes"}`: `GET /sync`.
#[derive(ToSchema)]
pub struct SyncResource {
    #[schema(rename = "type")]
    kind: String,
    /// This counter's node id.
    id: String,
    attributes: passdesk_core::sync::state::SyncStatus,
}

#[derive(ToSchema)]
pub struct SyncDoc {
    data: SyncResource,
}

#[derive(ToSchema)]
pub struct SyncConflictResource {
    #[schema(rename = "type")]
    kind: String,
    id: String,
    attributes: passdesk_core::sync::wire::ConflictRecord,
}

#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct SyncConflictMeta {
    /// Conflicts in `data`.
    count: u64,
    /// Every conflict known here.
    total_count: u64,
}

/// The conflicts the hub found, newest first.
#[derive(ToSchema)]
pub struct SyncConflictList {
    data: Vec<SyncConflictResource>,
    meta: SyncConflictMeta,
}

/// The upstream state on `GET /upstream`, `POST /upstream/pull` and `/status`:
/// `UpstreamStatus` and whether the worker runs.
#[derive(ToSchema)]
#[schema(rename_all = "camelCase")]
pub struct UpstreamAttributes {
    /// `[upstream.passentry]` is in passdesk.toml.
    configured: bool,
    /// The worker runs in this service (configured and `enabled`).
    running: bool,
    /// The account's API host this store is attached to.
    base_url: Option<String>,
    /// The end of the last complete pull.
    last_pull_at: Option<Timestamp>,
    /// Passes the last complete pull saw.
    last_pull_passes: Option<u64>,
    /// Passes from PassEntry in the cache (voided ones included).
    passes: u64,
    /// A pull started and not finished: its cycle, stage and next page.
    pull_in_progress: Option<passdesk_core::upstream::state::PullProgress>,
    /// Requests waiting to go to PassEntry (pending and sending).
    queue_length: u64,
    /// Requests PassEntry refused: shown, never retried.
    refused: u64,
    /// Requests a read-back after a crash could not settle: shown, never resent.
    uncertain: u64,
    last_error: Option<String>,
    last_error_at: Option<Timestamp>,
    /// The last request PassEntry answered.
    last_push_at: Option<Timestamp>,
}

#[derive(ToSchema)]
pub struct UpstreamResource {
    /// `upstream`.
    #[schema(rename = "type")]
    kind: String,
    /// `passentry`.
    id: String,
    attributes: UpstreamAttributes,
}

/// A request to PassEntry that needs a person: refused (its status and answer) or uncertain.
#[derive(ToSchema)]
pub struct UpstreamRequestResource {
    /// `upstreamRequest`.
    #[schema(rename = "type")]
    kind: String,
    id: String,
    attributes: passdesk_core::upstream::queue::Request,
}

/// One request to PassEntry, as a person's word on it left it.
#[derive(ToSchema)]
pub struct UpstreamRequestDoc {
    data: UpstreamRequestResource,
}

#[derive(ToSchema)]
pub struct UpstreamDoc {
    data: UpstreamResource,
    /// `GET /upstream`: the refused and uncertain requests, newest first (at most 50).
    included: Option<Vec<UpstreamRequestResource>>,
}
