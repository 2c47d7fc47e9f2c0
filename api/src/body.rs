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
        let value = parse_value(&bytes)?;
        no_nul_characters(&value, "")?;
        let mut registry = Registry::new();
        T::register(&mut registry);
        check_shapes(&value, &T::schema_ref(), &registry, "")?;
        Ok(JsonBody(from_value(value)?))
    }
}

/// PostgreSQL cannot store U+0000 in text (and it is never meant): refuse it anywhere in the
/// body, naming the field, instead of failing at the database.
fn no_nul_characters(value: &serde_json::Value, path: &str) -> Result<(), ApiError> {
    use serde_json::Value;
    match value {
        Value::String(s) if s.contains('\0') => Err(ApiError::invalid(
            path,
            "must not contain NUL (U+0000) characters",
        )),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .try_for_each(|(i, v)| no_nul_characters(v, &format!("{path}[{i}]"))),
        Value::Object(map) => map.iter().try_for_each(|(k, v)| {
            let at = if path.is_empty() {
                k.clone()
            } else {
                format!("{path}.{k}")
            };
            no_nul_characters(v, &at)
        }),
        _ => Ok(()),
    }
}

/// The contract's types where serde is looser or vaguer: serde's derived structs also take a
/// JSON array (fields by position; `[null, null]` was a valid partial update), and inside a
/// tagged union (`pricing`) serde names only the union, and serde reads `null` as an absent
/// optional field where the contract says the field is a string. So: an array where the schema
/// has an object, a non-string where it has a string and `null` anywhere are refused, naming
/// the exact field.
fn check_shapes(
    value: &serde_json::Value,
    schema: &MetaSchemaRef,
    registry: &Registry,
    path: &str,
) -> Result<(), ApiError> {
    use serde_json::Value;
    let schema = match schema {
        MetaSchemaRef::Inline(s) => s.as_ref(),
        MetaSchemaRef::Reference(name) => match registry.schemas.get(name) {
            Some(s) => s,
            None => return Ok(()),
        },
    };
    let at = |name: &str| {
        if path.is_empty() {
            name.to_string()
        } else {
            format!("{path}.{name}")
        }
    };
    match value {
        Value::Array(items) => {
            if schema.ty == "object" {
                let detail = if path.is_empty() {
                    "the body must be a JSON object"
                } else {
                    "must be a JSON object"
                };
                return Err(ApiError::invalid(path, detail));
            }
            if let Some(item) = &schema.items {
                for (i, v) in items.iter().enumerate() {
                    check_shapes(v, item, registry, &format!("{path}[{i}]"))?;
                }
            }
        }
        Value::Object(map) => {
            for (name, sub) in &schema.properties {
                if let Some(v) = map.get(*name) {
                    check_shapes(v, sub, registry, &at(name))?;
                }
            }
            for sub in &schema.all_of {
                check_shapes(value, sub, registry, path)?;
            }
            // A tagged union: only the alternative its tag names (another may use the same
            // field name with another type).
            let tagged = schema.discriminator.as_ref().and_then(|d| {
                let tag = map.get(d.property_name)?.as_str()?;
                let (_, target) = d.mapping.iter().find(|(k, _)| k == tag)?;
                Some(MetaSchemaRef::Reference(
                    target.rsplit('/').next().unwrap_or(target).to_string(),
                ))
            });
            if let Some(alternative) = tagged {
                check_shapes(value, &alternative, registry, path)?;
            }
        }
        // The contract has no nullable fields: an optional one is left out, never `null`.
        Value::Null if !schema.nullable && !schema.ty.is_empty() => {
            return Err(ApiError::invalid(
                path,
                "must not be null; leave the field out instead",
            ));
        }
        // A documented reference is wrapped as `allOf: [ref]` with no type of its own: the
        // type is the referenced one's.
        Value::Null if !schema.nullable => {
            for sub in &schema.all_of {
                check_shapes(value, sub, registry, path)?;
            }
        }
        Value::Null => {}
        _ if schema.ty == "string" && !value.is_string() => {
            return Err(ApiError::invalid(path, "must be a JSON string"));
        }
        _ => {}
    }
    Ok(())
}

/// Parse request bytes as `T`, with errors that name the field.
pub fn parse<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    from_value(parse_value(bytes)?)
}

/// The bytes as JSON, or a 400 saying where they stop being JSON.
fn parse_value(bytes: &[u8]) -> Result<serde_json::Value, ApiError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::malformed(
            "the request body is empty; send a JSON object",
        ));
    }
    // First the syntax (serde_json stops at 128 levels of nesting), then the shape: a syntax
    // error is the client's encoding (400), a shape error is a field's value (422).
    serde_json::from_slice(bytes).map_err(|e| {
        ApiError::malformed(format!(
            "the body is not valid JSON (line {}, column {}): {}",
            e.line(),
            e.column(),
            strip_position(&e.to_string())
        ))
    })
}

/// A JSON value as `T`: 422 naming the field for shape errors.
fn from_value<T: DeserializeOwned>(value: serde_json::Value) -> Result<T, ApiError> {
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

/// A CSV request body (`text/csv` or `text/plain`; UTF-8, or Windows-1252 as Excel saves it), read
/// within the size limit.
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
        let text = vereda_contracts::csvfile::decode(&bytes);
        if text.trim().is_empty() {
            return Err(ApiError::malformed("the file is empty").into());
        }
        if text.contains('\0') {
            return Err(ApiError::malformed("the file contains NUL (U+0000) characters").into());
        }
        // Any byte is some Windows-1252 character, so a binary file (a spreadsheet saved as
        // .xlsx) is told apart by its control characters.
        if text
            .chars()
            .any(|c| c.is_control() && !matches!(c, '\t' | '\n' | '\r'))
        {
            return Err(ApiError::malformed(
                "the file is not text: save the spreadsheet as CSV (comma or semicolon separated)",
            )
            .into());
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
        detail_es: None,
        errors: None,
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

/// A JSON response already serialised (as `poem_openapi::payload::Json<T>` would write it),
/// documented in the OpenAPI document with `T`'s schema. For answers kept ready as bytes.
pub struct JsonBytes<T>(pub bytes::Bytes, std::marker::PhantomData<T>);

impl<T: poem_openapi::types::ToJSON> JsonBytes<T> {
    /// Serialise `value` exactly as poem-openapi's `Json` does.
    pub fn of(value: &T) -> Self {
        let bytes = serde_json::to_vec(&value.to_json()).unwrap_or_default();
        JsonBytes(bytes.into(), std::marker::PhantomData)
    }

    pub fn from_bytes(bytes: bytes::Bytes) -> Self {
        JsonBytes(bytes, std::marker::PhantomData)
    }
}

/// poem-openapi's `Json` content type, so the contract does not change.
const JSON_CONTENT_TYPE: &str = "application/json; charset=utf-8";

impl<T: Type + Send> Payload for JsonBytes<T> {
    const CONTENT_TYPE: &'static str = JSON_CONTENT_TYPE;

    fn schema_ref() -> MetaSchemaRef {
        T::schema_ref()
    }

    fn register(registry: &mut Registry) {
        T::register(registry);
    }
}

impl<T: Send> poem::IntoResponse for JsonBytes<T> {
    fn into_response(self) -> poem::Response {
        poem::Response::builder()
            .content_type(JSON_CONTENT_TYPE)
            .body(self.0)
    }
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
