//! The mqtt-broker node's connection settings, parsed from its flows.json
//! properties (and, for `msg.action = "connect"`, from `msg.broker`), with
//! Node-RED's defaults (`setOptions` in `10-mqtt.js`).

use super::client::{OutMessage, Props};
use bytes::Bytes;
use redoubt_core::node::ConfigError;
use serde_json::{Map, Value as Json};

/// Where and how to connect.
#[derive(Clone, PartialEq)]
pub(crate) struct BrokerSettings {
    /// `mqtt://host:port` or `mqtts://host:port`, for logs.
    pub(crate) url: String,
    pub(crate) host: String,
    pub(crate) port: u16,
    pub(crate) tls: bool,
    /// `verifyservercert` of the broker node (used when no tls-config is set).
    pub(crate) verify: bool,
    pub(crate) client_id: String,
    /// True when the client id was given (not generated).
    pub(crate) fixed_id: bool,
    pub(crate) v5: bool,
    pub(crate) keepalive: u16,
    pub(crate) clean: bool,
    pub(crate) auto_connect: bool,
    pub(crate) auto_unsubscribe: bool,
    pub(crate) session_expiry: Option<u32>,
    pub(crate) user_props: Vec<(String, String)>,
    pub(crate) credentials: Option<(String, String)>,
    pub(crate) birth: Option<OutMessage>,
    pub(crate) close: Option<OutMessage>,
    pub(crate) will: Option<OutMessage>,
}

impl std::fmt::Debug for BrokerSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BrokerSettings")
            .field("url", &self.url)
            .field("client_id", &self.client_id)
            .field("v5", &self.v5)
            .field("user", &self.credentials.as_ref().map(|(u, _)| u))
            .finish_non_exhaustive()
    }
}

fn text(raw: &Map<String, Json>, k: &str) -> String {
    match raw.get(k) {
        Some(Json::String(s)) => s.clone(),
        Some(Json::Null) | None => String::new(),
        Some(v) => v.to_string(),
    }
}

fn flag(raw: &Map<String, Json>, k: &str, default: bool) -> bool {
    match raw.get(k) {
        None | Some(Json::Null) => default,
        Some(Json::Bool(b)) => *b,
        Some(Json::String(s)) => s == "true",
        Some(Json::Number(n)) => n.as_f64().is_some_and(|v| v != 0.0),
        Some(_) => default,
    }
}

/// `parseInt`-like: a leading integer, or `None`.
pub(crate) fn int(v: Option<&Json>) -> Option<i64> {
    match v? {
        Json::Number(n) => n.as_f64().map(|f| f.trunc() as i64),
        Json::String(s) => {
            let t = s.trim();
            let end = t
                .char_indices()
                .find(|&(i, c)| !(c.is_ascii_digit() || (i == 0 && c == '-')))
                .map_or(t.len(), |(i, _)| i);
            t[..end].parse().ok()
        }
        _ => None,
    }
}

/// `setUserProperties`: strings kept, other values JSON-encoded.
pub(crate) fn user_props(v: Option<&Json>) -> Vec<(String, String)> {
    let obj = match v {
        Some(Json::Object(o)) => o.clone(),
        Some(Json::String(s)) if s.trim_start().starts_with('{') => {
            match serde_json::from_str::<Map<String, Json>>(s) {
                Ok(o) => o,
                Err(_) => return Vec::new(),
            }
        }
        _ => return Vec::new(),
    };
    obj.into_iter()
        .filter_map(|(k, v)| match v {
            Json::String(s) => Some((k, s)),
            Json::Null => None,
            other => Some((k, other.to_string())),
        })
        .collect()
}

/// `createLWT`: a birth, close or will message from its topic, payload, qos,
/// retain and the v5 options object (`respTopic`, `correl`, `contentType`,
/// `expiry`, `delay`, `userProps`).
fn lwt(raw: &Map<String, Json>, prefix: &str) -> Option<OutMessage> {
    let topic = text(raw, &format!("{prefix}Topic"));
    if topic.is_empty() {
        return None;
    }
    let opts = match raw.get(&format!("{prefix}Msg")) {
        Some(Json::Object(o)) => o.clone(),
        _ => Map::new(),
    };
    let s = |k: &str| Some(text(&opts, k)).filter(|v| !v.is_empty());
    Some(OutMessage {
        topic,
        payload: Bytes::from(text(raw, &format!("{prefix}Payload"))),
        qos: int(raw.get(&format!("{prefix}Qos")))
            .unwrap_or(0)
            .clamp(0, 2) as u8,
        retain: flag(raw, &format!("{prefix}Retain"), false),
        props: Props {
            response_topic: s("respTopic"),
            correlation_data: s("correl").map(Bytes::from),
            content_type: s("contentType"),
            message_expiry: int(opts.get("expiry")).and_then(|v| u32::try_from(v).ok()),
            payload_format: None,
            user: user_props(opts.get("userProps")),
            will_delay: int(opts.get("delay")).and_then(|v| u32::try_from(v).ok()),
        },
    })
}

fn split_url(url: &str) -> Result<(bool, String, Option<u16>), ConfigError> {
    let bad = |m: String| ConfigError::field("broker", m);
    let (scheme, rest) = url
        .split_once("://")
        .ok_or_else(|| bad(format!("invalid broker url {url:?}")))?;
    let tls = match scheme.to_ascii_lowercase().as_str() {
        "mqtt" | "tcp" => false,
        "mqtts" | "ssl" | "tls" => true,
        "ws" | "wss" => {
            return Err(bad(format!(
                "MQTT over websockets ({url:?}) is not supported; use mqtt:// or mqtts://"
            )));
        }
        other => {
            return Err(bad(format!(
                "unknown scheme {other:?} in broker url {url:?}"
            )));
        }
    };
    let authority = rest.split(['/', '?']).next().unwrap_or("");
    let authority = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
        let (h, p) = v6
            .split_once(']')
            .ok_or_else(|| bad(format!("invalid broker url {url:?}")))?;
        (h.to_string(), p.strip_prefix(':'))
    } else {
        match authority.rsplit_once(':') {
            Some((h, p)) => (h.to_string(), Some(p)),
            None => (authority.to_string(), None),
        }
    };
    let port = match port {
        Some(p) => Some(
            p.parse()
                .map_err(|_| bad(format!("invalid port in broker url {url:?}")))?,
        ),
        None => None,
    };
    Ok((tls, host, port))
}

/// Parses the broker node's properties; `creds` are its credentials
/// (`user`, `password`); `generated_id` is used when `clientid` is empty.
pub(crate) fn parse(
    raw: &Map<String, Json>,
    creds: Option<&Map<String, Json>>,
    generated_id: &str,
) -> Result<(BrokerSettings, Vec<String>), ConfigError> {
    let mut warnings = Vec::new();
    let broker = text(raw, "broker").trim().to_string();
    let url_prop = text(raw, "url");
    let from_url = !url_prop.is_empty() || broker.contains("://");
    let (tls, host, port) = if !url_prop.is_empty() {
        split_url(&url_prop)?
    } else if from_url {
        split_url(&broker)?
    } else {
        let tls = flag(raw, "usetls", false);
        let port = match int(raw.get("port")) {
            None | Some(0) => None,
            Some(p) => Some(
                u16::try_from(p)
                    .map_err(|_| ConfigError::field("port", format!("invalid port {p}")))?,
            ),
        };
        let host = if broker.is_empty() {
            "localhost".to_string()
        } else {
            broker
        };
        (tls, host, port)
    };
    // mqtt.js defaults an mqtts:// URL to 8883; the host/port form to 1883.
    let port = port.unwrap_or(if tls && from_url { 8883 } else { 1883 });
    let protocol = text(raw, "protocolVersion");
    if flag(raw, "compatmode", false) || protocol == "3" {
        return Err(ConfigError::field(
            "protocolVersion",
            "MQTT 3.1 (MQIsdp, compatmode) is not supported; use 3.1.1 (4) or 5",
        ));
    }
    let v5 = protocol == "5";
    let keepalive = int(raw.get("keepalive"))
        .unwrap_or(60)
        .clamp(0, i64::from(u16::MAX)) as u16;
    let given_id = text(raw, "clientid");
    let mut clean = flag(raw, "cleansession", true);
    if !clean && given_id.is_empty() {
        clean = true;
        warnings.push("No client ID set, using clean session".to_string());
    }
    let cred = |k: &str| {
        creds
            .and_then(|c| c.get(k))
            .and_then(Json::as_str)
            .unwrap_or("")
            .to_string()
    };
    let (mut user, mut pass) = (cred("user"), cred("password"));
    if let Some(u) = raw.get("username").and_then(Json::as_str) {
        user = u.to_string();
    }
    if let Some(p) = raw.get("password").and_then(Json::as_str) {
        pass = p.to_string();
    }
    let session_expiry = match raw
        .get("sessionExpiry")
        .or(raw.get("sessionExpiryInterval"))
    {
        Some(v) if v != "0" && v != 0 => int(Some(v)).and_then(|v| u32::try_from(v).ok()),
        _ => None,
    };
    let scheme = if tls { "mqtts" } else { "mqtt" };
    let shown_host = if host.contains(':') {
        format!("[{host}]")
    } else {
        host.clone()
    };
    Ok((
        BrokerSettings {
            url: format!("{scheme}://{shown_host}:{port}"),
            host,
            port,
            tls,
            verify: flag(raw, "verifyservercert", true),
            fixed_id: !given_id.is_empty(),
            client_id: if given_id.is_empty() {
                generated_id.to_string()
            } else {
                given_id
            },
            v5,
            keepalive,
            clean,
            auto_connect: flag(raw, "autoConnect", true),
            auto_unsubscribe: flag(raw, "autoUnsubscribe", true),
            session_expiry: if v5 { session_expiry } else { None },
            user_props: if v5 {
                user_props(raw.get("userProps").or(raw.get("userProperties")))
            } else {
                Vec::new()
            },
            credentials: (!user.is_empty() || !pass.is_empty()).then_some((user, pass)),
            birth: lwt(raw, "birth"),
            close: lwt(raw, "close"),
            will: lwt(raw, "will"),
        },
        warnings,
    ))
}

/// `msg.broker` of a connect action, merged over the node's properties:
/// `birth`/`close`/`will` objects become the flat `birthTopic`... keys.
pub(crate) fn merge(base: &Map<String, Json>, over: &Map<String, Json>) -> Map<String, Json> {
    let mut out = base.clone();
    for (k, v) in over {
        match (k.as_str(), v) {
            ("birth" | "close" | "will", Json::Object(o)) => {
                let get = |f: &str| o.get(f).cloned().unwrap_or(Json::Null);
                out.insert(format!("{k}Topic"), get("topic"));
                out.insert(format!("{k}Payload"), get("payload"));
                out.insert(format!("{k}Qos"), get("qos"));
                out.insert(format!("{k}Retain"), get("retain"));
                out.insert(format!("{k}Msg"), get("properties"));
            }
            ("birth" | "close" | "will", _) => {
                out.remove(&format!("{k}Topic"));
            }
            _ => {
                out.insert(k.clone(), v.clone());
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn p(v: Json) -> Result<(BrokerSettings, Vec<String>), ConfigError> {
        let Json::Object(m) = v else { panic!("object") };
        parse(&m, None, "noderedgen")
    }

    #[test]
    fn defaults_follow_node_red() {
        let (s, w) = p(json!({"broker": "example.org"})).expect("ok");
        assert_eq!(
            (s.host.as_str(), s.port, s.tls, s.v5),
            ("example.org", 1883, false, false)
        );
        assert_eq!((s.keepalive, s.clean, s.auto_connect), (60, true, true));
        assert_eq!(s.client_id, "noderedgen");
        assert_eq!(s.url, "mqtt://example.org:1883");
        assert!(w.is_empty());
        let (s, _) = p(json!({"broker": ""})).expect("ok");
        assert_eq!(s.host, "localhost");
    }

    #[test]
    fn urls_and_tls() {
        let (s, _) = p(json!({"broker": "mqtts://h.example"})).expect("ok");
        assert_eq!((s.host.as_str(), s.port, s.tls), ("h.example", 8883, true));
        let (s, _) = p(json!({"broker": "h", "port": "1884", "usetls": true})).expect("ok");
        assert_eq!(
            (s.port, s.tls, s.url.as_str()),
            (1884, true, "mqtts://h:1884")
        );
        let (s, _) = p(json!({"broker": "::1"})).expect("ok");
        assert_eq!(s.url, "mqtt://[::1]:1883");
        let e = p(json!({"broker": "ws://h/mqtt"})).expect_err("ws refused");
        assert_eq!(e.field, "broker");
        assert!(e.message.contains("websockets"));
    }

    #[test]
    fn mqtt_3_1_is_refused_and_non_clean_needs_a_client_id() {
        let e = p(json!({"broker": "h", "compatmode": true})).expect_err("3.1");
        assert_eq!(e.field, "protocolVersion");
        let (s, w) = p(json!({"broker": "h", "cleansession": false})).expect("ok");
        assert!(s.clean);
        assert_eq!(w, vec!["No client ID set, using clean session".to_string()]);
    }

    #[test]
    fn birth_will_and_v5_session() {
        let (s, _) = p(
            json!({"broker": "h", "protocolVersion": "5", "sessionExpiry": "60",
            "userProps": "{\"a\":\"b\",\"n\":1}",
            "willTopic": "w", "willPayload": "bye", "willQos": "2", "willRetain": "true",
            "willMsg": {"contentType": "text/plain", "delay": 5, "userProps": {"x": "y"}},
            "birthTopic": ""}),
        )
        .expect("ok");
        assert_eq!(s.session_expiry, Some(60));
        assert_eq!(
            s.user_props,
            vec![("a".into(), "b".into()), ("n".into(), "1".into())]
        );
        let will = s.will.expect("will");
        assert_eq!(
            (
                will.topic.as_str(),
                &will.payload[..],
                will.qos,
                will.retain
            ),
            ("w", &b"bye"[..], 2, true)
        );
        assert_eq!(will.props.content_type.as_deref(), Some("text/plain"));
        assert_eq!(will.props.will_delay, Some(5));
        assert_eq!(will.props.user, vec![("x".into(), "y".into())]);
        assert!(
            s.birth.is_none(),
            "an empty birth topic means no birth message"
        );
    }
}
