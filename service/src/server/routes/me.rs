//! `GET /api/v1/me`: who the presented key is (id, name, role, the readers it is bound to;
//! never its secret), for any live key. The screens show only what the key may open.

use crate::server::auth::Caller;
use axum::Json;
use passdesk_core::api_keys::Role;
use passdesk_core::scan::ReaderId;
use serde::Serialize;

/// `{"data": {"type": "apiKey", "id", "attributes": {...}}}`
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct MeDoc {
    data: MeResource,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct MeResource {
    /// Always `apiKey`.
    #[serde(rename = "type")]
    kind: &'static str,
    /// The key's id: the public part of `pdk_<id>_<secret>`.
    id: String,
    attributes: MeAttributes,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct MeAttributes {
    name: String,
    /// reader < cashier < manager < admin: each may do what the ones before it may.
    #[schema(value_type = String, example = "cashier")]
    role: Role,
    /// The readers this key scans as; empty: any reader.
    readers: Vec<String>,
}

/// Who the presented key is: its id, name, role and bound readers (never its secret).
#[utoipa::path(get, operation_id = "getMe", summary = "Who the presented key is: id, name, role, bound readers", path = "/me", tag = "keys",
    responses((status = 200, description = "The presented key: id, name, role, bound readers", body = MeDoc),
              crate::server::openapi::Errors))]
pub async fn me(caller: Caller) -> Json<MeDoc> {
    Json(MeDoc {
        data: MeResource {
            kind: "apiKey",
            id: caller.key_id,
            attributes: MeAttributes {
                name: caller.name,
                role: caller.role,
                readers: caller
                    .readers
                    .iter()
                    .map(ReaderId::as_str)
                    .map(str::to_owned)
                    .collect(),
            },
        },
    })
}
