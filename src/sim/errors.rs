//! Error responses in the shapes of reference §1.5 (OAuth) and §6.2 (`google.rpc.Status` over HTTP).

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

/// A `google.rpc.Status` error.
#[derive(Debug, Clone)]
pub struct ApiError {
    pub code: u16,
    pub status: &'static str,
    pub message: String,
    pub details: Vec<Value>,
    pub retry_after: Option<u64>,
    pub www_authenticate: Option<&'static str>,
}

impl ApiError {
    pub fn new(code: u16, status: &'static str, message: impl Into<String>) -> ApiError {
        ApiError {
            code,
            status,
            message: message.into(),
            details: Vec::new(),
            retry_after: None,
            www_authenticate: None,
        }
    }

    pub fn detail(mut self, d: Value) -> ApiError {
        self.details.push(d);
        self
    }

    pub fn body(&self) -> Value {
        let mut e = json!({"code": self.code, "message": self.message, "status": self.status});
        if !self.details.is_empty() {
            e["details"] = Value::Array(self.details.clone());
        }
        json!({"error": e})
    }

    /// 400 with an ErrorInfo reason and BadRequest field violations.
    pub fn bad_request(
        reason: &str,
        message: impl Into<String>,
        violations: &[(&str, String)],
        metadata: Option<Value>,
    ) -> ApiError {
        let mut info = json!({"@type": "type.googleapis.com/google.rpc.ErrorInfo", "domain": "health.googleapis.com", "reason": reason});
        if let Some(m) = metadata {
            info["metadata"] = m;
        }
        let fv: Vec<Value> = violations
            .iter()
            .map(|(f, d)| json!({"field": f, "description": d}))
            .collect();
        ApiError::new(400, "INVALID_ARGUMENT", message)
            .detail(info)
            .detail(json!({"@type": "type.googleapis.com/google.rpc.BadRequest", "fieldViolations": fv}))
    }

    /// 400 for a JSON body with unknown fields (reference §3.5, `rollup_steps_civil.json`).
    pub fn unknown_fields(unknown: &[(String, String)]) -> ApiError {
        let lines: Vec<String> = unknown
            .iter()
            .map(|(name, at)| format!("Invalid JSON payload received. Unknown name \"{name}\" at '{at}': Cannot find field."))
            .collect();
        let fv: Vec<Value> = unknown
            .iter()
            .zip(&lines)
            .map(|((_, at), d)| json!({"field": at, "description": d}))
            .collect();
        ApiError::new(400, "INVALID_ARGUMENT", lines.join("\n")).detail(
            json!({"@type": "type.googleapis.com/google.rpc.BadRequest", "fieldViolations": fv}),
        )
    }

    pub fn invalid_argument(message: impl Into<String>) -> ApiError {
        ApiError::new(400, "INVALID_ARGUMENT", message)
    }

    pub fn unknown_data_type(name: &str) -> ApiError {
        ApiError::bad_request(
            "INVALID_PARENT_DATA_TYPE_COLLECTION",
            format!("Invalid data type ID referenced in the parent data type collection: {name}."),
            &[(
                "parent",
                format!(
                    "Invalid data type ID referenced in the parent data type collection: {name}."
                ),
            )],
            None,
        )
    }

    pub fn unauthenticated_missing() -> ApiError {
        let mut e = ApiError::new(401, "UNAUTHENTICATED", "Request is missing required authentication credential. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.")
            .detail(json!({"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "CREDENTIALS_MISSING", "domain": "googleapis.com",
                           "metadata": {"service": "health.googleapis.com"}}));
        e.www_authenticate = Some("Bearer realm=\"https://accounts.google.com/\"");
        e
    }

    pub fn unauthenticated_invalid() -> ApiError {
        let mut e = ApiError::new(401, "UNAUTHENTICATED", "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.")
            .detail(json!({"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "ACCESS_TOKEN_TYPE_UNSUPPORTED", "domain": "googleapis.com",
                           "metadata": {"service": "health.googleapis.com"}}));
        e.www_authenticate =
            Some("Bearer realm=\"https://accounts.google.com/\", error=\"invalid_token\"");
        e
    }

    pub fn permission_denied() -> ApiError {
        ApiError::new(
            403,
            "PERMISSION_DENIED",
            "The caller does not have permission",
        )
    }

    /// 403 on every endpoint although tokens and scopes are valid (reference §11 #15).
    pub fn resource_permission_denied() -> ApiError {
        ApiError::new(403, "PERMISSION_DENIED", "The caller does not have permission")
            .detail(json!({"@type": "type.googleapis.com/google.rpc.ErrorInfo", "domain": "health.googleapis.com", "reason": "RESOURCE_PERMISSION_DENIED"}))
    }

    /// 403 for a request whose scope the user did not grant (reference §6.2).
    pub fn scope_insufficient() -> ApiError {
        let mut e = ApiError::new(403, "PERMISSION_DENIED", "Request had insufficient authentication scopes.")
            .detail(json!({"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "ACCESS_TOKEN_SCOPE_INSUFFICIENT", "domain": "googleapis.com",
                           "metadata": {"service": "health.googleapis.com"}}));
        e.www_authenticate =
            Some("Bearer realm=\"https://accounts.google.com/\", error=\"insufficient_scope\"");
        e
    }

    pub fn quota(retry_after: Option<u64>) -> ApiError {
        let mut e = ApiError::new(429, "RESOURCE_EXHAUSTED", "Quota exceeded for quota metric 'Queries' and limit 'Queries per minute per user' of service 'health.googleapis.com' for consumer 'project_number:123456789'.")
            .detail(json!({"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "RATE_LIMIT_EXCEEDED", "domain": "googleapis.com"}))
            .detail(json!({"@type": "type.googleapis.com/google.rpc.QuotaFailure", "violations": [{"subject": "project:123456789", "description": "Quota exceeded"}]}));
        e.retry_after = retry_after;
        e
    }

    pub fn internal() -> ApiError {
        ApiError::new(500, "INTERNAL", "Internal error encountered.")
    }

    pub fn unavailable() -> ApiError {
        ApiError::new(503, "UNAVAILABLE", "The service is currently unavailable.")
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut resp = (status, Json(self.body())).into_response();
        if let Some(secs) = self.retry_after {
            resp.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        if let Some(w) = self.www_authenticate {
            resp.headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static(w));
        }
        resp
    }
}

/// An OAuth token-endpoint error (reference §1.5): `{"error": …, "error_description": …}`.
pub fn oauth_error(status: u16, error: &str, description: &str) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST);
    (
        status,
        Json(json!({"error": error, "error_description": description})),
    )
        .into_response()
}
