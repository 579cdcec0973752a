//! Between MQTT and messages: what `mqtt in` outputs for a received
//! message (`subscriptionHandler`: datatype, v5 properties) and what
//! `mqtt out` publishes for a message (`doPublish` and `publish`).

use super::client::{InMessage, OutMessage, Props};
use bytes::Bytes;
use redoubt_core::Msg;
use redoubt_core::value::{Object, Value, from_json_str, to_json};

/// `datatype` of an mqtt in node (or of a dynamic subscription).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Datatype {
    AutoDetect,
    Auto,
    Buffer,
    Utf8,
    Json,
    Base64,
}

impl Datatype {
    pub(crate) fn parse(s: &str) -> Option<Datatype> {
        Some(match s {
            "" | "utf8" => Datatype::Utf8,
            "auto-detect" => Datatype::AutoDetect,
            "auto" => Datatype::Auto,
            "buffer" => Datatype::Buffer,
            "json" => Datatype::Json,
            "base64" => Datatype::Base64,
            _ => return None,
        })
    }
}

/// `knownMediaTypes`: how a v5 content type decides the payload.
fn media(ct: &str) -> Option<&'static str> {
    Some(match ct {
        "text/css" | "text/html" | "text/plain" | "application/xml" => "string",
        "application/json" => "json",
        "application/octet-stream"
        | "application/pdf"
        | "application/x-gtar"
        | "application/x-gzip"
        | "application/x-tar"
        | "application/zip"
        | "audio/aac"
        | "audio/ac3"
        | "audio/basic"
        | "audio/mp4"
        | "audio/ogg"
        | "image/bmp"
        | "image/gif"
        | "image/jpeg"
        | "image/tiff"
        | "image/png" => "buffer",
        _ => return None,
    })
}

/// Why a received message could not be turned into a msg (`node.error`).
pub(crate) struct Rejected {
    pub(crate) text: &'static str,
    pub(crate) msg: Msg,
}

fn parse_or_keep(s: &str) -> Value {
    from_json_str(s).unwrap_or_else(|_| Value::str(s))
}

/// The msg an mqtt in node sends for `m`.
pub(crate) fn to_msg(m: &InMessage, dt: Datatype, local_broker: bool) -> Result<Msg, Rejected> {
    let msg = Msg::new();
    msg.set("topic", Value::str(&m.topic));
    msg.set("payload", Value::Null);
    msg.set("qos", Value::Number(f64::from(m.qos)));
    msg.set("retain", Value::Bool(m.retain));
    let mut utf8_flag = false;
    let mut content_type = None;
    if let Some(p) = &m.props {
        if let Some(v) = &p.response_topic {
            msg.set("responseTopic", Value::str(v));
        }
        if let Some(v) = &p.correlation_data {
            msg.set("correlationData", Value::Buffer(v.clone()));
        }
        if let Some(v) = &p.content_type {
            msg.set("contentType", Value::str(v));
            content_type = Some(v.to_ascii_lowercase());
        }
        if let Some(v) = p.message_expiry {
            msg.set("messageExpiryInterval", Value::Number(f64::from(v)));
        }
        if let Some(v) = p.payload_format {
            msg.set("payloadFormatIndicator", Value::Bool(v));
            utf8_flag = v;
        }
        if !p.user.is_empty() {
            let o = Object::new();
            for (k, v) in &p.user {
                o.insert(k.as_str(), Value::str(v));
            }
            msg.set("userProperties", Value::Object(o));
        }
    }
    let raw = &m.payload;
    let text = std::str::from_utf8(raw).ok();
    let reject = |text: &'static str| {
        let msg = Msg::new();
        msg.set("payload", Value::Buffer(raw.clone()));
        msg.set("topic", Value::str(&m.topic));
        msg.set("qos", Value::Number(f64::from(m.qos)));
        msg.set("retain", Value::Bool(m.retain));
        Rejected { text, msg }
    };
    let lossy = || String::from_utf8_lossy(raw).into_owned();
    let payload = match dt {
        Datatype::Buffer => Value::Buffer(raw.clone()),
        Datatype::Base64 => {
            use base64::Engine;
            Value::str(&base64::engine::general_purpose::STANDARD.encode(raw))
        }
        Datatype::Utf8 => Value::str(&lossy()),
        Datatype::Json => match text.or(utf8_flag.then_some("")).map(|_| lossy()) {
            Some(s) => from_json_str(&s).map_err(|_| reject("Failed to parse JSON string"))?,
            None => return Err(reject("Invalid JSON string")),
        },
        Datatype::Auto | Datatype::AutoDetect => {
            let detect = dt == Datatype::AutoDetect;
            if utf8_flag || content_type.is_some() {
                match content_type.as_deref().and_then(media) {
                    Some("string") => Value::str(&lossy()),
                    Some("buffer") => Value::Buffer(raw.clone()),
                    Some(_) => {
                        let s = lossy();
                        match from_json_str(&s) {
                            Ok(v) if detect => v,
                            Ok(_) => Value::str(&s),
                            Err(_) => return Err(reject("Failed to parse JSON string")),
                        }
                    }
                    None => match (utf8_flag, text) {
                        (true, _) | (_, Some(_)) => {
                            let s = lossy();
                            if detect {
                                parse_or_keep(&s)
                            } else {
                                Value::str(&s)
                            }
                        }
                        _ => Value::Buffer(raw.clone()),
                    },
                }
            } else if let Some(s) = text {
                if detect {
                    parse_or_keep(s)
                } else {
                    Value::str(s)
                }
            } else {
                Value::Buffer(raw.clone())
            }
        }
    };
    msg.set("payload", payload);
    if local_broker {
        msg.set("_topic", Value::str(&m.topic));
    }
    Ok(msg)
}

/// The bytes `publish` sends for a payload: Buffers as they are, objects
/// as JSON, anything else as its string.
pub(crate) fn payload_bytes(v: &Value) -> Bytes {
    match v {
        Value::Undefined | Value::Null => Bytes::new(),
        Value::Buffer(b) => b.clone(),
        Value::String(s) => Bytes::from(s.to_string()),
        Value::Object(_) | Value::Array(_) => {
            Bytes::from(to_json(v).unwrap_or_else(|_| v.to_js_string()))
        }
        other => Bytes::from(other.to_js_string()),
    }
}

fn int_prop(v: Option<Value>, min: i64) -> Option<u32> {
    let n = match v? {
        Value::Number(n) => n,
        Value::String(s) => s.trim().parse::<f64>().ok()?,
        _ => return None,
    };
    let n = n.trunc() as i64;
    (n >= min).then(|| u32::try_from(n).ok()).flatten()
}

fn str_prop(msg: &Msg, k: &str) -> Option<String> {
    match msg.get(k) {
        Some(Value::String(s)) if !s.is_empty() => Some(s.to_string()),
        _ => None,
    }
}

/// `setUserProperties` for an object value.
pub(crate) fn user_props(v: Option<Value>) -> Vec<(String, String)> {
    let Some(Value::Object(o)) = v else {
        return Vec::new();
    };
    o.entries()
        .into_iter()
        .filter_map(|(k, v)| match v {
            Value::String(s) => Some((k.to_string(), s.to_string())),
            Value::Undefined | Value::Null => None,
            other => Some((k.to_string(), to_json(&other).ok()?)),
        })
        .collect()
}

/// What the broker publishes for `msg` (after mqtt out applied its own
/// settings): `None` when the topic is invalid.
pub(crate) fn to_publish(msg: &Msg, v5: bool) -> Option<OutMessage> {
    let mut topic = match msg.get("topic") {
        Some(Value::String(s)) => s.to_string(),
        _ => String::new(),
    };
    let mut props = Props::default();
    if v5 {
        props.response_topic = str_prop(msg, "responseTopic");
        props.correlation_data = match msg.get("correlationData") {
            Some(Value::Buffer(b)) => Some(b),
            Some(Value::String(s)) if !s.is_empty() => Some(Bytes::from(s.to_string())),
            _ => None,
        };
        props.content_type = str_prop(msg, "contentType");
        props.message_expiry = int_prop(msg.get("messageExpiryInterval"), 0);
        props.user = user_props(msg.get("userProperties"));
        props.payload_format = match msg.get("payloadFormatIndicator") {
            Some(Value::Bool(b)) => Some(b),
            Some(Value::String(s)) if s.as_ref() == "true" => Some(true),
            Some(Value::String(s)) if s.as_ref() == "false" => Some(false),
            _ => None,
        };
        if topic.is_empty()
            && let Some(rt) = &props.response_topic
        {
            topic = rt.clone();
            props.response_topic = None;
        }
    }
    if !super::topic::valid_publish(&topic) {
        return None;
    }
    let qos = msg.get("qos").map(|q| q.to_number()).unwrap_or(0.0);
    Some(OutMessage {
        topic,
        payload: payload_bytes(&msg.payload()),
        qos: if qos == 1.0 || qos == 2.0 {
            qos as u8
        } else {
            0
        },
        retain: matches!(msg.get("retain"), Some(Value::Bool(true))),
        props,
    })
}
