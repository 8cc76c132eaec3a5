//! Loyalty over HTTP. `PATCH /api/v1/passes/{id}/loyalty` speaks PassEntry (`balance` ±,
//! `overrideBalance`, `message`; answers `meta.loyalty.balance`); the rest is Passdesk's: earn,
//! stamps, rewards, reversal, history. Every mutation takes an `Idempotency-Key` header, the
//! ledger's operation id: the same key and body again answers the first result.

use crate::server::auth::Caller;
use crate::server::error::{ApiError, ApiResult};
use crate::server::idempotency::IdempotencyKey;
use crate::server::json::JsonBody;
use crate::server::state::AppState;
use axum::extract::{Path, State};
use axum::Json;
use passdesk_core::api_keys::Role;
use passdesk_core::loyalty::{self, ledger, OpResult, Operation, RewardRef};
use passdesk_core::{pass_store, passentry, StoreError, Timestamp};
use serde::Deserialize;
use serde_json::{json, Value};

/// Applies `op` under the request's `Idempotency-Key` (or a fresh operation id).
async fn run(state: &AppState, key: &IdempotencyKey, op: Operation) -> ApiResult<OpResult> {
    let op_id = key.op_id();
    let node_id = state.node.node_id.clone();
    let zone = state.config.time_zone;
    let result = state
        .db
        .write(move |s| loyalty::apply(s, &node_id, &op_id, &op, Timestamp::now(), zone))
        .await??;
    // The operation's ledger entries go up to the hub.
    state.sync.push();
    // And, for a pass from PassEntry, to PassEntry.
    state.upstream.push();
    Ok(result)
}

fn result_doc(r: &OpResult) -> Json<Value> {
    Json(json!({
        "data": { "type": "loyaltyOperation", "id": r.op_id, "attributes": r },
        "meta": { "loyalty": { "balance": r.account.points }, "replayed": r.replayed },
    }))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PatchBody {
    balance: Option<i64>,
    override_balance: Option<i64>,
    message: Option<String>,
}

/// PassEntry's loyalty update: answers the pass with `meta.loyalty.balance`.
#[utoipa::path(patch, operation_id = "patchLoyalty", path = "/passes/{id}/loyalty", tag = "loyalty", params(("id" = String, Path, description = "Pass id, or its extId"), ("Idempotency-Key" = Option<String>, Header, description = "The operation id (a UUID): the same key and body again answers the first result")), request_body = PatchBody, responses((status = 200, description = "The pass with meta.loyalty.balance", body = crate::server::schemas::PatchLoyaltyDoc), crate::server::openapi::Errors))]
pub async fn patch(
    State(state): State<AppState>,
    caller: Caller,
    key: IdempotencyKey,
    Path(id): Path<String>,
    JsonBody(body): JsonBody<PatchBody>,
) -> ApiResult<Json<Value>> {
    let op = match (body.balance, body.override_balance) {
        (Some(_), Some(_)) => {
            return Err(ApiError::unprocessable(
                "invalid_request",
                "balance and overrideBalance cannot be used together",
            )
            .at("/overrideBalance"))
        }
        (None, None) => {
            return Err(ApiError::unprocessable(
                "invalid_request",
                "give balance (±) or overrideBalance",
            )
            .at("/balance"))
        }
        (Some(b), None) if b > 0 => {
            caller.require(Role::Cashier)?;
            Operation::Earn {
                pass: id.clone(),
                amount_minor: None,
                points: Some(b),
            }
        }
        (Some(b), None) => {
            caller.require(Role::Cashier)?;
            let reason = body
                .message
                .clone()
                .unwrap_or_else(|| "balance changed through the API".into());
            Operation::Adjust {
                pass: id.clone(),
                points: b,
                reason,
            }
        }
        (None, Some(b)) => {
            caller.require(Role::Manager)?;
            Operation::Override {
                pass: id.clone(),
                balance: b,
            }
        }
    };
    let result = run(&state, &key, op).await?;
    let pass_id = result.pass_id.clone();
    let pass = state
        .db
        .read(move |s| -> Result<_, StoreError> {
            Ok(pass_store::get_pass(s.conn(), &pass_id)?
                .map(|p| passentry::pass_resource(&p, None, None)))
        })
        .await??;
    Ok(Json(json!({
        "data": pass,
        "meta": { "loyalty": { "balance": result.account.points }, "operation": result },
    })))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EarnBody {
    amount_minor: Option<i64>,
    points: Option<i64>,
}

#[utoipa::path(post, operation_id = "earnPoints", summary = "Add points (or a purchase amount) to a pass", path = "/passes/{id}/loyalty/earn", tag = "loyalty", params(("id" = String, Path, description = "Pass id, or its extId"), ("Idempotency-Key" = Option<String>, Header, description = "The operation id (a UUID): the same key and body again answers the first result")), request_body = EarnBody, responses((status = 200, description = "The operation and the new balance", body = crate::server::schemas::LoyaltyOperationDoc), crate::server::openapi::Errors))]
pub async fn earn(
    State(state): State<AppState>,
    caller: Caller,
    key: IdempotencyKey,
    Path(id): Path<String>,
    JsonBody(b): JsonBody<EarnBody>,
) -> ApiResult<Json<Value>> {
    caller.require(Role::Cashier)?;
    Ok(result_doc(
        &run(
            &state,
            &key,
            Operation::Earn {
                pass: id,
                amount_minor: b.amount_minor,
                points: b.points,
            },
        )
        .await?,
    ))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct StampBody {
    #[serde(default = "one")]
    count: i64,
}

fn one() -> i64 {
    1
}

#[utoipa::path(post, operation_id = "addStamps", summary = "Add stamps to a pass", path = "/passes/{id}/loyalty/stamps", tag = "loyalty", params(("id" = String, Path, description = "Pass id, or its extId"), ("Idempotency-Key" = Option<String>, Header, description = "The operation id (a UUID): the same key and body again answers the first result")), request_body = StampBody, responses((status = 200, description = "The operation and the new balance", body = crate::server::schemas::LoyaltyOperationDoc), crate::server::openapi::Errors))]
pub async fn stamp(
    State(state): State<AppState>,
    caller: Caller,
    key: IdempotencyKey,
    Path(id): Path<String>,
    JsonBody(b): JsonBody<StampBody>,
) -> ApiResult<Json<Value>> {
    caller.require(Role::Cashier)?;
    Ok(result_doc(
        &run(
            &state,
            &key,
            Operation::Stamp {
                pass: id,
                count: b.count,
            },
        )
        .await?,
    ))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TierBody {
    tier: String,
}

#[utoipa::path(post, operation_id = "createReward", summary = "Claim a reward: reserve a tier's points", path = "/passes/{id}/loyalty/rewards", tag = "loyalty", params(("id" = String, Path, description = "Pass id, or its extId"), ("Idempotency-Key" = Option<String>, Header, description = "The operation id (a UUID): the same key and body again answers the first result")), request_body = TierBody, responses((status = 200, description = "The reward, reserved", body = crate::server::schemas::LoyaltyOperationDoc), crate::server::openapi::Errors))]
pub async fn create_reward(
    State(state): State<AppState>,
    caller: Caller,
    key: IdempotencyKey,
    Path(id): Path<String>,
    JsonBody(b): JsonBody<TierBody>,
) -> ApiResult<Json<Value>> {
    caller.require(Role::Cashier)?;
    Ok(result_doc(
        &run(
            &state,
            &key,
            Operation::RewardCreate {
                pass: id,
                tier: b.tier,
            },
        )
        .await?,
    ))
}

/// Claims a tier and redeems it in one operation (the usual thing at a till).
#[utoipa::path(post, operation_id = "redeemTier", path = "/passes/{id}/loyalty/redeem", tag = "loyalty", params(("id" = String, Path, description = "Pass id, or its extId"), ("Idempotency-Key" = Option<String>, Header, description = "The operation id (a UUID): the same key and body again answers the first result")), request_body = TierBody, responses((status = 200, description = "The reward, redeemed", body = crate::server::schemas::LoyaltyOperationDoc), crate::server::openapi::Errors))]
pub async fn redeem_tier(
    State(state): State<AppState>,
    caller: Caller,
    key: IdempotencyKey,
    Path(id): Path<String>,
    JsonBody(b): JsonBody<TierBody>,
) -> ApiResult<Json<Value>> {
    caller.require(Role::Cashier)?;
    let op = Operation::RewardRedeem {
        reward: RewardRef::Tier {
            pass: id,
            tier: b.tier,
        },
    };
    Ok(result_doc(&run(&state, &key, op).await?))
}

#[utoipa::path(post, operation_id = "redeemReward", summary = "Redeem a claimed reward", path = "/passes/{id}/loyalty/rewards/{reward}/redeem", tag = "loyalty", params(("id" = String, Path, description = "Pass id, or its extId"), ("reward" = String, Path, description = "Reward id"), ("Idempotency-Key" = Option<String>, Header, description = "The operation id (a UUID): the same key and body again answers the first result")), responses((status = 200, description = "The reward, redeemed", body = crate::server::schemas::LoyaltyOperationDoc), crate::server::openapi::Errors))]
pub async fn redeem_reward(
    State(state): State<AppState>,
    caller: Caller,
    key: IdempotencyKey,
    Path((id, reward)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    caller.require(Role::Cashier)?;
    // Named under its pass: another pass's reward is not found here.
    let op = Operation::RewardRedeem {
        reward: RewardRef::OfPass {
            pass: id,
            id: reward,
        },
    };
    Ok(result_doc(&run(&state, &key, op).await?))
}

#[utoipa::path(delete, operation_id = "deleteReward", summary = "Delete a claimed reward and give its points back", path = "/passes/{id}/loyalty/rewards/{reward}", tag = "loyalty", params(("id" = String, Path, description = "Pass id, or its extId"), ("reward" = String, Path, description = "Reward id"), ("Idempotency-Key" = Option<String>, Header, description = "The operation id (a UUID): the same key and body again answers the first result")), responses((status = 200, description = "The reward, deleted and released", body = crate::server::schemas::LoyaltyOperationDoc), crate::server::openapi::Errors))]
pub async fn delete_reward(
    State(state): State<AppState>,
    caller: Caller,
    key: IdempotencyKey,
    Path((id, reward)): Path<(String, String)>,
) -> ApiResult<Json<Value>> {
    caller.require(Role::Cashier)?;
    // Named under its pass: another pass's reward is not found here.
    let op = Operation::RewardDelete {
        reward_id: reward,
        pass: Some(id),
    };
    Ok(result_doc(&run(&state, &key, op).await?))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ReverseBody {
    reason: Option<String>,
}

#[utoipa::path(post, operation_id = "reverseEntry", summary = "Reverse a loyalty ledger entry (a refund)", path = "/loyalty/entries/{entry}/reverse", tag = "loyalty", params(("entry" = String, Path, description = "Ledger entry id"), ("Idempotency-Key" = Option<String>, Header, description = "The operation id (a UUID): the same key and body again answers the first result")), request_body = ReverseBody, responses((status = 200, description = "The compensating entry", body = crate::server::schemas::LoyaltyOperationDoc), crate::server::openapi::Errors))]
pub async fn reverse(
    State(state): State<AppState>,
    caller: Caller,
    key: IdempotencyKey,
    Path(entry): Path<String>,
    JsonBody(b): JsonBody<ReverseBody>,
) -> ApiResult<Json<Value>> {
    caller.require(Role::Manager)?;
    Ok(result_doc(
        &run(
            &state,
            &key,
            Operation::Reverse {
                entry_id: entry,
                reason: b.reason,
            },
        )
        .await?,
    ))
}

#[utoipa::path(get, operation_id = "getLoyalty", summary = "A pass's loyalty: balance, stamps, rewards and ledger", path = "/passes/{id}/loyalty", tag = "loyalty", params(("id" = String, Path, description = "Pass id, or its extId")), responses((status = 200, description = "Balance, stamps, rewards and the ledger", body = crate::server::schemas::LoyaltyDoc), crate::server::openapi::Errors))]
pub async fn show(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    caller.require(Role::Cashier)?;
    let lookup = id.clone();
    let found = state
        .db
        .read(move |s| -> Result<_, StoreError> {
            let Some(p) = pass_store::find(s.conn(), &lookup)?.map(|found| found.pass) else {
                return Ok(None);
            };
            let view = loyalty::view(s.conn(), &p.id, &p.template_id)?;
            let history = ledger::history(s.conn(), &p.id)?;
            Ok(Some((p.id, view, history)))
        })
        .await??;
    let (pass_id, view, history) =
        found.ok_or_else(|| ApiError::not_found(format!("no pass with id or extId {id:?}")))?;
    Ok(Json(json!({
        "data": { "type": "loyalty", "id": pass_id, "attributes": view },
        "included": history.iter().map(|e| json!({ "type": "ledgerEntry", "id": e.id, "attributes": e })).collect::<Vec<_>>(),
    })))
}
