//! The prompt fingerprint: a stable hash of an OpenAI-compatible request's
//! model and prompt, so identical prompts can be counted (and cached) without
//! the prompt text leaving the process that made the call.

use serde_json::Value;

use crate::sql::Fingerprint;
use crate::Error;

/// The largest request body [`prompt_fingerprint`] reads: 16 MiB, the cap
/// the crate uses for JSON documents (as [`crate::plan::MAX_PLAN_BYTES`]).
/// Bodies with inline images can be large; larger ones are refused with
/// [`Error::InputTooLarge`] rather than hashed in part, since two prompts
/// sharing a prefix must not share a fingerprint.
pub const MAX_BODY_BYTES: usize = 16 << 20;

/// Separates the fields of the canonical form (ASCII record separator).
const RECORD: char = '\u{1e}';
/// Separates the parts of a field (ASCII unit separator).
const UNIT: char = '\u{1f}';
/// Brackets a non-text content part's JSON within a content's text.
const OBJECT: char = '\u{1a}';

/// Request fields that change the answer and are hashed as their JSON (keys
/// sorted), after the prompt.
const SETTINGS: [&str; 8] = [
    "tools",
    "functions",
    "tool_choice",
    "response_format",
    "text",
    "dimensions",
    "encoding_format",
    "n",
];

/// The 16-hex-digit fingerprint of the model and prompt of an
/// OpenAI-compatible request body (chat completions, completions, responses,
/// embeddings), or `None` when the body has no prompt or is not a JSON
/// object. See [the module docs](super#prompt-fingerprint) for what is
/// hashed. Only the hash is returned; the text is dropped.
///
/// ```
/// use vto_core::external::prompt_fingerprint;
///
/// let a = prompt_fingerprint(r#"{"model": "gpt-4o-mini",
///   "messages": [{"role": "user", "content": "Plan a  4-week\nprogram"}]}"#)?;
/// let b = prompt_fingerprint(r#"{"model": "gpt-4o-mini", "temperature": 0.2,
///   "messages": [{"role": "user", "content": [{"type": "text", "text": " Plan a 4-week program "}]}]}"#)?;
/// assert_eq!(a, b);
/// assert_eq!(a.map(|f| f.len()), Some(16));
/// assert_eq!(prompt_fingerprint("not json")?, None);
/// # Ok::<(), vto_core::Error>(())
/// ```
pub fn prompt_fingerprint(body_json: &str) -> Result<Option<String>, Error> {
    if body_json.len() > MAX_BODY_BYTES {
        return Err(Error::InputTooLarge {
            size: body_json.len(),
            limit: MAX_BODY_BYTES,
        });
    }
    // Bodies are often not JSON (form posts, multipart uploads): no prompt.
    let Ok(Value::Object(body)) = serde_json::from_str::<Value>(body_json) else {
        return Ok(None);
    };
    let mut canonical = String::new();
    let mut prompt = false;
    canonical.push_str("model");
    canonical.push(UNIT);
    if let Some(model) = body.get("model") {
        canonical.push_str(&normalize(&scalar(model)));
    }
    canonical.push(RECORD);
    for field in ["system", "instructions"] {
        if let Some(value) = body.get(field).filter(|v| !v.is_null()) {
            prompt = true;
            canonical.push_str(field);
            canonical.push(UNIT);
            canonical.push_str(&content(value));
            canonical.push(RECORD);
        }
    }
    if let Some(Value::Array(messages)) = body.get("messages") {
        for message in messages {
            prompt = true;
            push_message(&mut canonical, message);
        }
    }
    for field in ["input", "prompt"] {
        match body.get(field) {
            Some(Value::Array(items)) => {
                for item in items {
                    prompt = true;
                    if item.get("role").is_some() {
                        push_message(&mut canonical, item);
                    } else {
                        canonical.push_str(field);
                        canonical.push(UNIT);
                        canonical.push_str(&content(item));
                        canonical.push(RECORD);
                    }
                }
            }
            Some(Value::Null) | None => {}
            Some(value) => {
                prompt = true;
                canonical.push_str(field);
                canonical.push(UNIT);
                canonical.push_str(&content(value));
                canonical.push(RECORD);
            }
        }
    }
    if !prompt {
        return Ok(None);
    }
    for field in SETTINGS {
        if let Some(value) = body.get(field).filter(|v| !v.is_null()) {
            canonical.push_str(field);
            canonical.push(UNIT);
            canonical.push_str(&value.to_string());
            canonical.push(RECORD);
        }
    }
    let hash = xxhash_rust::xxh3::xxh3_64(canonical.as_bytes());
    Ok(Some(Fingerprint(hash).to_string()))
}

/// One message: role, name, content, and the tool calls or tool call id.
fn push_message(out: &mut String, message: &Value) {
    out.push_str("message");
    for field in ["role", "name"] {
        out.push(UNIT);
        if let Some(value) = message.get(field) {
            out.push_str(&normalize(&scalar(value)));
        }
    }
    out.push(UNIT);
    match message {
        Value::Object(_) => {
            if let Some(value) = message.get("content") {
                out.push_str(&content(value));
            }
        }
        // A bare string or number where a message was expected.
        other => out.push_str(&content(other)),
    }
    for field in ["tool_calls", "function_call", "tool_call_id"] {
        if let Some(value) = message.get(field).filter(|v| !v.is_null()) {
            out.push(UNIT);
            out.push_str(field);
            out.push(UNIT);
            out.push_str(&value.to_string());
        }
    }
    out.push(RECORD);
}

/// A content value's canonical text: a string normalized; an array's parts
/// joined by a space (a part's `text`, a string as is, anything else as its
/// JSON between markers), then normalized; any other value as its JSON.
fn content(value: &Value) -> String {
    match value {
        Value::String(s) => normalize(s),
        Value::Null => String::new(),
        Value::Array(parts) => {
            let mut joined = String::new();
            for (i, part) in parts.iter().enumerate() {
                if i > 0 {
                    joined.push(' ');
                }
                match part {
                    Value::String(s) => joined.push_str(s),
                    Value::Object(map) => match map.get("text") {
                        Some(Value::String(text)) => joined.push_str(text),
                        _ => {
                            joined.push(OBJECT);
                            joined.push_str(&part.to_string());
                            joined.push(OBJECT);
                        }
                    },
                    other => {
                        joined.push(OBJECT);
                        joined.push_str(&other.to_string());
                        joined.push(OBJECT);
                    }
                }
            }
            normalize(&joined)
        }
        other => {
            let mut out = String::new();
            out.push(OBJECT);
            out.push_str(&other.to_string());
            out.push(OBJECT);
            out
        }
    }
}

/// A string as is, anything else as its JSON.
fn scalar(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// Trimmed, with every run of whitespace collapsed to one space; case kept.
fn normalize(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for word in text.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word);
    }
    out
}
