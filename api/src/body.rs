//! `JsonBody<T>`: the request-body extractor every write endpoint uses.
//!
//! poem-openapi's own `Json<T>` reports parse failures as one plain-text 400 that names the
//! type, not the field. This one keeps `T`'s schema in the OpenAPI document but parses with
//! serde, so it can answer: 413 over the size limit, 400 for bytes that are not JSON (with line
//! and column), and 422 naming the dotted path of the field that is missing, unknown or of the
//! wrong type.

use poem::{Request, RequestBody};
use poem_openapi::payload::{ParsePayload, Payload};
use poem_openapi::registry::{MetaMediaType, MetaRequest, MetaSchemaRef, Registry};
use poem_openapi::types::Type;
use poem_openapi::{ApiExtractor, ApiExtractorType, ExtractParamOptions};
use serde::de::DeserializeOwned;

use crate::problem::ApiError;
use crate::startup::AppState;

/// A JSON request body parsed into `T` (which derives both `Object` and `Deserialize`).
pub struct JsonBody<T>(pub T);

impl<T: Type> Payload for JsonBody<T> {
    const CONTENT_TYPE: &'static str = "application/json";

    fn check_content_type(content_type: &str) -> bool {
        matches!(content_type.parse::<mime::Mime>(), Ok(m) if m.type_() == "application"
            && (m.subtype() == "json" || m.suffix().is_some_and(|s| s == "json")))
    }

    fn schema_ref() -> MetaSchemaRef {
        T::schema_ref()
    }

    fn register(registry: &mut Registry) {
        T::register(registry);
    }
}

impl<T: Type + DeserializeOwned + Send> ParsePayload for JsonBody<T> {
    const IS_REQUIRED: bool = true;

    async fn from_request(request: &Request, body: &mut RequestBody) -> poem::Result<Self> {
        let bytes = read_limited(request, body).await?;
        Ok(JsonBody(parse(&bytes)?))
    }
}

/// Parse request bytes as `T`, with errors that name the field.
pub fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::malformed(
            "the request body is empty; send a JSON object",
        ));
    }
    // First the syntax (serde_json stops at 128 levels of nesting), then the shape: a syntax
    // error is the client's encoding (400), a shape error is a field's value (422).
    let value: serde_json::Value = serde_json::from_slice(bytes).map_err(|e| {
        ApiError::malformed(format!(
            "the body is not valid JSON (line {}, column {}): {}",
            e.line(),
            e.column(),
            strip_position(&e.to_string())
        ))
    })?;
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner().to_string();
        let (field, detail) = describe(&path, &inner);
        ApiError::invalid(field, detail)
    })
}

fn strip_position(msg: &str) -> &str {
    msg.split(" at line ").next().unwrap_or(msg)
}

/// serde names a missing or unknown field in its message, with the path pointing at the
/// object that holds it; fold the name into the path so clients get `owner.email`.
fn describe(path: &str, msg: &str) -> (String, String) {
    // The path may already end at the field (unknown fields) or at its parent (missing ones).
    let join = |name: &str| {
        if path == "." || path.is_empty() {
            name.to_string()
        } else if path == name || path.ends_with(&format!(".{name}")) {
            path.to_string()
        } else {
            format!("{path}.{name}")
        }
    };
    let quoted = |m: &str| m.split('`').nth(1).map(str::to_string);
    if let Some(rest) = msg.strip_prefix("missing field ")
        && let Some(name) = quoted(rest)
    {
        return (join(&name), "is required".to_string());
    }
    if let Some(rest) = msg.strip_prefix("unknown field ")
        && let Some(name) = quoted(rest)
    {
        return (join(&name), "is not a field of this request".to_string());
    }
    let field = if path == "." {
        String::new()
    } else {
        path.to_string()
    };
    (field, strip_position(msg).to_string())
}

impl<'a, T: Type + DeserializeOwned + Send> ApiExtractor<'a> for JsonBody<T> {
    const TYPES: &'static [ApiExtractorType] = &[ApiExtractorType::RequestObject];
    type ParamType = ();
    type ParamRawType = ();

    fn register(registry: &mut Registry) {
        <Self as Payload>::register(registry);
    }

    fn request_meta() -> Option<MetaRequest> {
        Some(MetaRequest {
            description: None,
            content: vec![MetaMediaType {
                content_type: <Self as Payload>::CONTENT_TYPE,
                schema: <Self as Payload>::schema_ref(),
            }],
            required: true,
        })
    }

    async fn from_request(
        request: &'a Request,
        body: &mut RequestBody,
        _param_opts: ExtractParamOptions<Self::ParamType>,
    ) -> poem::Result<Self> {
        match request.content_type() {
            Some(ct) if Self::check_content_type(ct) => {
                <Self as ParsePayload>::from_request(request, body).await
            }
            _ => Err(unsupported("Send the body as application/json.").into()),
        }
    }
}

/// A CSV request body (`text/csv` or `text/plain`, UTF-8), read within the size limit.
pub struct CsvBody(pub String);

impl Payload for CsvBody {
    const CONTENT_TYPE: &'static str = "text/csv";

    fn check_content_type(content_type: &str) -> bool {
        matches!(content_type.parse::<mime::Mime>(), Ok(m) if m.type_() == "text"
            && (m.subtype() == "csv" || m.subtype() == "plain"))
    }

    fn schema_ref() -> MetaSchemaRef {
        String::schema_ref()
    }
}

impl ParsePayload for CsvBody {
    const IS_REQUIRED: bool = true;

    async fn from_request(request: &Request, body: &mut RequestBody) -> poem::Result<Self> {
        let bytes = read_limited(request, body).await?;
        let text = String::from_utf8(bytes)
            .map_err(|_| ApiError::malformed("the file is not UTF-8 text"))?;
        if text.trim().is_empty() {
            return Err(ApiError::malformed("the file is empty").into());
        }
        Ok(CsvBody(text))
    }
}

impl<'a> ApiExtractor<'a> for CsvBody {
    const TYPES: &'static [ApiExtractorType] = &[ApiExtractorType::RequestObject];
    type ParamType = ();
    type ParamRawType = ();

    fn register(registry: &mut Registry) {
        <Self as Payload>::register(registry);
    }

    fn request_meta() -> Option<MetaRequest> {
        Some(MetaRequest {
            description: None,
            content: vec![MetaMediaType {
                content_type: <Self as Payload>::CONTENT_TYPE,
                schema: <Self as Payload>::schema_ref(),
            }],
            required: true,
        })
    }

    async fn from_request(
        request: &'a Request,
        body: &mut RequestBody,
        _param_opts: ExtractParamOptions<Self::ParamType>,
    ) -> poem::Result<Self> {
        match request.content_type() {
            Some(ct) if Self::check_content_type(ct) => {
                <Self as ParsePayload>::from_request(request, body).await
            }
            _ => Err(unsupported("Send the file as text/csv.").into()),
        }
    }
}

fn unsupported(detail: &str) -> ApiError {
    ApiError {
        status: poem::http::StatusCode::UNSUPPORTED_MEDIA_TYPE,
        code: "unsupported_media_type",
        title: "Unsupported media type",
        detail: detail.to_string(),
        field: None,
        retry_after: None,
    }
}

/// Read the body, refusing more than the configured limit (413) while reading.
async fn read_limited(request: &Request, body: &mut RequestBody) -> poem::Result<Vec<u8>> {
    let limit = request
        .data::<AppState>()
        .map(|s| s.settings.max_body_bytes)
        .unwrap_or(1024 * 1024);
    Ok(body
        .take()?
        .into_bytes_limit(limit)
        .await
        .map_err(|e| match e {
            poem::error::ReadBodyError::PayloadTooLarge => ApiError::payload_too_large(limit),
            other => ApiError::malformed(format!("could not read the body: {other}")),
        })?
        .to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Owner {
        name: String,
        email: String,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Company {
        name: String,
        owner: Owner,
    }

    #[test]
    fn errors_name_the_field() {
        let e = parse::<Company>(br#"{"name":"x","owner":{"name":"y"}}"#).unwrap_err();
        assert_eq!(e.field.as_deref(), Some("owner.email"));
        assert_eq!(e.status.as_u16(), 422);

        let e =
            parse::<Company>(br#"{"name":"x","owner":{"name":"y","email":"e"},"role":"admin"}"#)
                .unwrap_err();
        assert_eq!(e.field.as_deref(), Some("role"));

        let e = parse::<Company>(br#"{"name":5,"owner":{"name":"y","email":"e"}}"#).unwrap_err();
        assert_eq!(e.field.as_deref(), Some("name"));

        let e = parse::<Company>(br#"{"name":"x""#).unwrap_err();
        assert_eq!(e.status.as_u16(), 400);

        let deep = "[".repeat(10_000);
        assert_eq!(
            parse::<Company>(deep.as_bytes())
                .unwrap_err()
                .status
                .as_u16(),
            400
        );
    }
}
