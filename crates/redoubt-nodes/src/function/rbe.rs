//! rbe, the "filter" node (`@node-red/nodes/core/function/rbe.js`): passes
//! a message only when its `property` changed, per `topi` property value
//! when `septopics` is on.
//!
//! - `rbe`: any change (objects compared deeply, `1` and `"1"` differ);
//!   `rbei`: the same, but the first value of a topic is not sent.
//! - `deadband` / `deadbandEq`: a numeric change greater than (or equal to)
//!   `gap`; `narrowband` / `narrowbandEq`: blocks such changes. `gap` may
//!   be a percentage of the last value (`"10%"`); `start` seeds the
//!   narrowband reference; `inout: "in"` compares with the last input
//!   rather than the last value sent.
//!
//! `msg.reset` forgets the topic named by `msg.topic` (or everything).
//! Node-RED quirks kept: a first object value equal to `{}` is not sent;
//! a reset of one topic reads `msg.topic` even when `topi` names another
//! property.

use crate::sequence::jsutil::{
    compare_objects, get_prop, parse_float, parse_float_value, parse_prop,
};
use redoubt_core::Msg;
use redoubt_core::node::{BuildCtx, ConfigError, Node, NodeConfig, NodeCtx, NodeError, NodeType};
use redoubt_core::propex::Seg;
use redoubt_core::value::{Object, Value, strict_eq};
use serde_json::Value as Json;
use std::collections::HashMap;

pub(crate) struct RbeType;

#[derive(Clone, Copy, PartialEq)]
enum Func {
    Rbe,
    Rbei,
    Deadband,
    DeadbandEq,
    Narrowband,
    NarrowbandEq,
}

struct Rbe {
    func: Func,
    /// The gap as written (`Number(gap)`), or the percentage when `percent`.
    gap: f64,
    percent: bool,
    start: Option<f64>,
    inout_in: bool,
    property: Vec<Seg>,
    topic: Vec<Seg>,
    septopics: bool,
    previous: HashMap<String, Value>,
}

impl NodeType for RbeType {
    fn type_name(&self) -> &'static str {
        "rbe"
    }

    fn build(&self, cfg: &NodeConfig, _cx: &BuildCtx) -> Result<Box<dyn Node>, ConfigError> {
        let func = match cfg.str("func").as_str() {
            "" | "rbe" => Func::Rbe,
            "rbei" => Func::Rbei,
            "deadband" => Func::Deadband,
            "deadbandEq" => Func::DeadbandEq,
            "narrowband" => Func::Narrowband,
            "narrowbandEq" => Func::NarrowbandEq,
            other => {
                return Err(ConfigError::field(
                    "func",
                    format!("unknown mode {other:?}"),
                ));
            }
        };
        let mut gap = cfg.str("gap");
        if gap.is_empty() {
            gap = "0".into();
        }
        let percent = gap.ends_with('%');
        let gap = if percent {
            parse_float(&gap)
        } else {
            Value::from(gap).to_number()
        };
        let start = cfg.str("start");
        let start = (!start.is_empty()).then(|| Value::from(start).to_number());
        let property = cfg.str("property");
        let topi = cfg.str("topi");
        Ok(Box::new(Rbe {
            func,
            gap,
            percent,
            start,
            inout_in: cfg.str("inout") == "in",
            property: parse_prop(
                "property",
                if property.is_empty() {
                    "payload"
                } else {
                    &property
                },
            )?,
            topic: parse_prop("topi", if topi.is_empty() { "topic" } else { &topi })?,
            septopics: !matches!(cfg.get("septopics"), Some(Json::Bool(false))),
            previous: HashMap::new(),
        }))
    }
}

/// JavaScript `typeof v === "object"`.
fn is_object(v: &Value) -> bool {
    matches!(
        v,
        Value::Null
            | Value::Array(_)
            | Value::Object(_)
            | Value::Buffer(_)
            | Value::Date(_)
            | Value::Handle(_)
    )
}

impl Rbe {
    /// `rbe` / `rbei`: send when the value differs from the last one.
    fn changed(&mut self, t: String, value: &Value) -> bool {
        let send = self.func != Func::Rbei || self.previous.contains_key(&t);
        let mut prev = self.previous.get(&t).cloned().unwrap_or_default();
        let differs = if is_object(value) {
            if !is_object(&prev) {
                prev = Value::Object(Object::new());
                self.previous.insert(t.clone(), prev.clone());
            }
            !compare_objects(value, &prev)
        } else {
            !strict_eq(value, &prev)
        };
        if differs {
            self.previous.insert(t, value.deep_clone());
        }
        differs && send
    }

    /// The numeric modes; `None` when the value is not a number.
    fn band(&mut self, t: String, value: &Value) -> Option<bool> {
        let n = parse_float_value(value);
        if n.is_nan() {
            return None;
        }
        let narrow = matches!(self.func, Func::Narrowband | Func::NarrowbandEq);
        let mut prev = self.previous.get(&t).map(Value::to_number);
        if prev.is_none() && narrow {
            prev = Some(self.start.unwrap_or(n));
        }
        let gap = if self.percent {
            let g = (prev.unwrap_or(f64::NAN) * self.gap / 100.0).abs();
            if g.is_nan() { 0.0 } else { g }
        } else {
            self.gap
        };
        let prev = prev.unwrap_or(n - gap - 1.0);
        let diff = (n - prev).abs();
        let out = !self.inout_in;
        let send = if diff == gap {
            matches!(self.func, Func::DeadbandEq | Func::Narrowband)
        } else if diff > gap {
            matches!(self.func, Func::Deadband | Func::DeadbandEq)
        } else if diff < gap {
            narrow
        } else {
            false
        };
        let stored = if (send && out) || self.inout_in {
            n
        } else {
            prev
        };
        self.previous.insert(t, Value::Number(stored));
        Some(send)
    }
}

impl Node for Rbe {
    fn on_input(&mut self, msg: Msg, cx: &mut NodeCtx<'_>) -> Result<(), NodeError> {
        let topic = get_prop(&msg, &self.topic);
        if msg.object().contains_key("reset") {
            match &topic {
                Value::String(s) if self.septopics && !s.is_empty() => {
                    let key = msg.get("topic").unwrap_or_default().to_js_string();
                    self.previous.remove(&key);
                }
                _ => self.previous.clear(),
            }
        }
        let value = get_prop(&msg, &self.property);
        if value.is_undefined() {
            return Ok(());
        }
        let t = if self.septopics && topic.truthy() {
            topic.to_js_string()
        } else {
            "_no_topic".to_string()
        };
        let send = match self.func {
            Func::Rbe | Func::Rbei => self.changed(t, &value),
            _ => match self.band(t, &value) {
                Some(s) => s,
                None => {
                    cx.warn("no number found in payload");
                    false
                }
            },
        };
        if send {
            cx.send(0, msg);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use crate::testing::Harness;
    use serde_json::{Value as Json, json};
    use std::time::Duration;

    async fn rbe(cfg: Json) -> Harness {
        let mut node = cfg;
        node["id"] = json!("r");
        node["type"] = json!("rbe");
        node["wires"] = json!([["h"]]);
        Harness::start(json!([node, {"id":"h","type":"helper"}])).await
    }

    /// Sends each input and returns the payloads that came out.
    async fn run(h: &mut Harness, inputs: Json) -> Vec<Json> {
        for m in inputs.as_array().cloned().unwrap_or_default() {
            h.send_json("r", m).await;
        }
        let mut out = Vec::new();
        while let Some(m) = h.recv_within("h", Duration::from_millis(20)).await {
            out.push(redoubt_core::value::to_serde(&m.to_value())["payload"].clone());
        }
        out
    }

    fn payloads(values: &[Json]) -> Json {
        Json::Array(values.iter().map(|v| json!({"payload":v})).collect())
    }

    /// should only send output if payload changes - with multiple topics (rbe)
    #[tokio::test(start_paused = true)]
    async fn sends_only_changes_per_topic() {
        let mut h = rbe(json!({"func":"rbe"})).await;
        let out = run(
            &mut h,
            json!([
                {"payload":"a","topic":"x"},{"payload":"a","topic":"y"},{"payload":"a","topic":"x"},
                {"payload":"b","topic":"x"},{"payload":{"a":1},"topic":"x"},{"payload":{"a":1},"topic":"x"},
                {"payload":1,"topic":"x"},{"payload":"1","topic":"x"}
            ]),
        )
        .await;
        assert_eq!(
            out,
            vec![
                json!("a"),
                json!("a"),
                json!("b"),
                json!({"a":1}),
                json!(1),
                json!("1")
            ]
        );
    }

    /// should ignore multiple topics if told to (rbe)
    #[tokio::test(start_paused = true)]
    async fn ignores_topics_when_told() {
        let mut h = rbe(json!({"func":"rbe","septopics":false})).await;
        let out = run(&mut h, json!([{"payload":"a","topic":"x"},{"payload":"a","topic":"y"},{"payload":"b","topic":"y"}])).await;
        assert_eq!(out, vec![json!("a"), json!("b")]);
    }

    /// should only send output if another chosen property changes - foo (rbe)
    #[tokio::test(start_paused = true)]
    async fn watches_another_property() {
        let mut h = rbe(json!({"func":"rbe","property":"foo"})).await;
        for m in [
            json!({"foo":"a","payload":1}),
            json!({"foo":"a","payload":2}),
            json!({"foo":"b","payload":3}),
        ] {
            h.send_json("r", m).await;
        }
        assert_eq!(h.recv_json("h").await["payload"], json!(1));
        assert_eq!(h.recv_json("h").await["payload"], json!(3));
    }

    /// should only send output if payload changes - ignoring first value (rbei)
    #[tokio::test(start_paused = true)]
    async fn rbei_skips_the_first_value() {
        let mut h = rbe(json!({"func":"rbei"})).await;
        let out = run(
            &mut h,
            payloads(&[json!("a"), json!("a"), json!("b"), json!("b"), json!("a")]),
        )
        .await;
        assert_eq!(out, vec![json!("b"), json!("a")]);
    }

    /// should send output if queue is reset (rbe)
    #[tokio::test(start_paused = true)]
    async fn reset_forgets_values() {
        let mut h = rbe(json!({"func":"rbe"})).await;
        let out = run(
            &mut h,
            json!([
                {"payload":"a","topic":"t"},{"payload":"a","topic":"t"},{"reset":true,"topic":"t"},
                {"payload":"a","topic":"t"},{"payload":"a","topic":"u"},{"reset":true},{"payload":"a","topic":"u"}
            ]),
        )
        .await;
        assert_eq!(out, vec![json!("a"), json!("a"), json!("a"), json!("a")]);
    }

    /// should only send output if x away from original value (deadbandEq)
    #[tokio::test(start_paused = true)]
    async fn deadband_eq() {
        let mut h = rbe(json!({"func":"deadbandEq","gap":"10","inout":"out"})).await;
        let out = run(
            &mut h,
            payloads(&[
                json!(0),
                json!(2),
                json!(4),
                json!(10),
                json!(12),
                json!(20),
                json!(25),
            ]),
        )
        .await;
        assert_eq!(out, vec![json!(0), json!(10), json!(20)]);
    }

    /// should only send output if more than x away from original value (deadband)
    #[tokio::test(start_paused = true)]
    async fn deadband() {
        let mut h = rbe(json!({"func":"deadband","gap":"10"})).await;
        let inputs = [
            json!(0),
            json!(2),
            json!(4),
            json!("6 deg"),
            json!(8),
            json!(20),
            json!(15),
            json!("5 deg"),
        ];
        let out = run(&mut h, payloads(&inputs)).await;
        assert_eq!(out, vec![json!(0), json!(20), json!("5 deg")]);
    }

    /// should only send output if more than x% away from original value (deadband)
    #[tokio::test(start_paused = true)]
    async fn deadband_percent() {
        let mut h = rbe(json!({"func":"deadband","gap":"10%","inout":"out"})).await;
        let out = run(
            &mut h,
            payloads(&[
                json!(100),
                json!(95),
                json!(105),
                json!(111),
                json!(100),
                json!(95),
            ]),
        )
        .await;
        assert_eq!(out, vec![json!(100), json!(111), json!(95)]);
    }

    /// should warn if no number found in deadband mode
    #[tokio::test(start_paused = true)]
    async fn deadband_warns_on_non_numbers() {
        let mut h = rbe(json!({"func":"deadband","gap":"10"})).await;
        let out = run(&mut h, payloads(&[json!("banana")])).await;
        assert!(out.is_empty());
        let warned = h.drain_events().iter().any(|e| {
            matches!(e, redoubt_core::engine::RuntimeEvent::Log { text, .. } if text == "no number found in payload")
        });
        assert!(warned);
    }

    /// should not send output if more than x away from original value (narrowband)
    #[tokio::test(start_paused = true)]
    async fn narrowband() {
        let mut h = rbe(json!({"func":"narrowband","gap":"10","inout":"out"})).await;
        let out = run(
            &mut h,
            payloads(&[
                json!(100),
                json!(0),
                json!(10),
                json!(5),
                json!(15),
                json!(10.5),
            ]),
        )
        .await;
        assert_eq!(out, vec![json!(100)]);
        let mut h = rbe(json!({"func":"narrowband","gap":"10","start":"1"})).await;
        let out = run(
            &mut h,
            payloads(&[
                json!(100),
                json!(0),
                json!(10),
                json!(5),
                json!(15),
                json!(10.5),
            ]),
        )
        .await;
        assert_eq!(
            out,
            vec![json!(0), json!(10), json!(5), json!(15), json!(10.5)]
        );
    }

    /// should not send output if x away or greater from original value (narrowbandEq)
    #[tokio::test(start_paused = true)]
    async fn narrowband_eq() {
        let mut h = rbe(json!({"func":"narrowbandEq","gap":"10","inout":"out","start":"1"})).await;
        let out = run(
            &mut h,
            payloads(&[
                json!(100),
                json!(0),
                json!(10),
                json!(5),
                json!(15),
                json!(10.5),
            ]),
        )
        .await;
        assert_eq!(out, vec![json!(0), json!(5), json!(10.5)]);
    }

    /// should send output if gap is 0 and input doesnt change (narrowband)
    #[tokio::test(start_paused = true)]
    async fn narrowband_gap_zero() {
        let mut h = rbe(json!({"func":"narrowband","gap":"0"})).await;
        let out = run(&mut h, payloads(&[json!(1), json!(1), json!(1), json!(2)])).await;
        assert_eq!(out, vec![json!(1), json!(1), json!(1)]);
    }

    /// should not send output if more than x away from original value (narrowband in step mode)
    #[tokio::test(start_paused = true)]
    async fn narrowband_step_mode() {
        let mut h = rbe(json!({"func":"narrowband","gap":"10","inout":"in","start":"500"})).await;
        let out = run(
            &mut h,
            payloads(&[json!(50), json!(55), json!(200), json!(205)]),
        )
        .await;
        assert_eq!(out, vec![json!(55), json!(205)]);
    }
}
