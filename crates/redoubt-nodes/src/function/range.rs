//! range (`@node-red/nodes/core/function/16-range.js`): maps a number from
//! the input range `minin..maxin` to `minout..maxout`. `action` is `scale`,
//! `clamp` (limit to the input range first), `roll` (wrap within it) or
//! `drop` (drop messages outside it); `round` rounds the result. A missing
//! property passes through; a value that is not a number is logged and the
//! message dropped.
//!
//! Deviation: unparsable range bounds are a configuration error (Node-RED
//! turns them into NaN and outputs NaN).

use redoubt_core::Msg;
use redoubt_core::node::{BuildCtx, ConfigError, Node, NodeConfig, NodeCtx, NodeError, NodeType};
use redoubt_core::propex::{self, Seg};
use redoubt_core::value::Value;

pub(crate) struct RangeType;

#[derive(Debug, Clone, Copy, PartialEq)]
enum Action {
    Scale,
    Clamp,
    Roll,
    Drop,
}

struct Range {
    action: Action,
    round: bool,
    minin: f64,
    maxin: f64,
    minout: f64,
    maxout: f64,
    path: Vec<Seg>,
}

fn bound(cfg: &NodeConfig, key: &str) -> Result<f64, ConfigError> {
    // Number("") is 0 in Node-RED; an absent bound is undefined → NaN.
    let n = match cfg.get(key) {
        Some(serde_json::Value::String(s)) if s.trim().is_empty() => Some(0.0),
        _ => cfg.num(key)?,
    };
    match n {
        Some(n) if !n.is_nan() => Ok(n),
        _ => Err(ConfigError::field(
            key,
            format!("not a number: {:?}", cfg.str(key)),
        )),
    }
}

impl NodeType for RangeType {
    fn type_name(&self) -> &'static str {
        "range"
    }

    fn build(&self, cfg: &NodeConfig, _cx: &BuildCtx) -> Result<Box<dyn Node>, ConfigError> {
        let action = match cfg.str("action").as_str() {
            "clamp" => Action::Clamp,
            "roll" => Action::Roll,
            "drop" => Action::Drop,
            // Node-RED scales for anything else ("scale" or none).
            _ => Action::Scale,
        };
        let round = cfg.bool("round");
        let (mut minin, mut maxin) = (bound(cfg, "minin")?, bound(cfg, "maxin")?);
        let (mut minout, mut maxout) = (bound(cfg, "minout")?, bound(cfg, "maxout")?);
        if minin > maxin {
            std::mem::swap(&mut minin, &mut maxin);
            std::mem::swap(&mut minout, &mut maxout);
        }
        if round {
            maxout = maxout.floor();
            minout = minout.ceil();
        }
        let prop = cfg.str("property");
        let prop = if prop.is_empty() {
            "payload".to_string()
        } else {
            prop
        };
        let path = propex::parse(propex::strip_msg(&prop))
            .map_err(|e| ConfigError::field("property", e.to_string()))?;
        Ok(Box::new(Range {
            action,
            round,
            minin,
            maxin,
            minout,
            maxout,
            path,
        }))
    }
}

/// JS `Math.round`: halves go up.
fn js_round(x: f64) -> f64 {
    let f = x.floor();
    if x - f >= 0.5 { f + 1.0 } else { f }
}

impl Range {
    /// The mapped value, or `None` to drop the message.
    fn map(&self, mut n: f64) -> Option<f64> {
        match self.action {
            Action::Drop if n < self.minin || n > self.maxin => return None,
            Action::Clamp => n = n.max(self.minin).min(self.maxin),
            Action::Roll => {
                let d = self.maxin - self.minin;
                n = ((n - self.minin) % d + d) % d + self.minin;
            }
            _ => {}
        }
        let v = (n - self.minin) / (self.maxin - self.minin) * (self.maxout - self.minout)
            + self.minout;
        Some(if self.round { js_round(v) } else { v })
    }
}

impl Node for Range {
    fn on_input(&mut self, msg: Msg, cx: &mut NodeCtx<'_>) -> Result<(), NodeError> {
        let root = msg.to_value();
        let value = propex::get_segs(&root, &self.path, Some(&msg)).unwrap_or_default();
        if value.is_undefined() {
            cx.send(0, msg);
            return Ok(());
        }
        let n = value.to_number();
        if n.is_nan() {
            cx.log(&format!("Not a number: {}", value.to_js_string()));
            return Ok(());
        }
        if let Some(v) = self.map(n) {
            propex::set_segs(&root, &self.path, Value::Number(v), true, Some(&msg));
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

    async fn range(cfg: Json) -> Harness {
        let mut n = json!({"id":"r","type":"range","wires":[["out"]]});
        for (k, v) in cfg.as_object().cloned().unwrap_or_default() {
            n[k] = v;
        }
        Harness::start(json!([n, {"id":"out","type":"helper"}])).await
    }

    async fn check(
        action: &str,
        minin: f64,
        maxin: f64,
        minout: f64,
        maxout: f64,
        round: bool,
        input: Json,
    ) -> Json {
        let mut h = range(json!({"action":action,"minin":minin,"maxin":maxin,"minout":minout,"maxout":maxout,"round":round})).await;
        h.send_json("r", json!({"payload": input})).await;
        h.recv_json("out").await["payload"].clone()
    }

    /// ranges numbers up tenfold
    #[tokio::test]
    async fn ranges_numbers_up_tenfold() {
        assert_eq!(
            check("scale", 0.0, 100.0, 0.0, 1000.0, false, json!(50)).await,
            json!(500)
        );
    }

    /// ranges numbers down such as centimetres to metres
    #[tokio::test]
    async fn ranges_numbers_down() {
        assert_eq!(
            check("scale", 0.0, 100.0, 0.0, 1.0, false, json!(55)).await,
            json!(0.55)
        );
    }

    /// wraps numbers down say for degree/rotation reading 1/2
    /// (and the 1/3, 1/4, backwards and 0 cases)
    #[tokio::test]
    async fn wraps_numbers() {
        assert_eq!(
            check("roll", 0.0, 10.0, 0.0, 360.0, true, json!(15)).await,
            json!(180)
        );
        assert_eq!(
            check("roll", 0.0, 10.0, 0.0, 360.0, true, json!(13.3333)).await,
            json!(120)
        );
        assert_eq!(
            check("roll", 0.0, 10.0, 0.0, 360.0, true, json!(12.5)).await,
            json!(90)
        );
        assert_eq!(
            check("roll", 0.0, 10.0, 0.0, 360.0, true, json!(-12.5)).await,
            json!(270)
        );
        assert_eq!(
            check("roll", 0.0, 10.0, 0.0, 360.0, true, json!(-10)).await,
            json!(0)
        );
    }

    /// clamps numbers within a range - over max
    /// (and below min, above max fp, below min fp)
    #[tokio::test]
    async fn clamps_numbers() {
        assert_eq!(
            check("clamp", 0.0, 10.0, 0.0, 1000.0, false, json!(111)).await,
            json!(1000)
        );
        assert_eq!(
            check("clamp", 0.0, 10.0, 0.0, 1000.0, false, json!(-1)).await,
            json!(0)
        );
        assert_eq!(
            check("clamp", 0.0, 9.5, 0.5, 100.5, true, json!(13.1)).await,
            json!(100)
        );
        assert_eq!(
            check("clamp", 0.0, 9.5, 0.3, 100.5, true, json!(-13.1)).await,
            json!(1)
        );
    }

    /// handles input range where max < min
    #[tokio::test]
    async fn reversed_input_range() {
        assert_eq!(
            check("scale", 100.0, 0.0, 0.0, -100.0, false, json!(40)).await,
            json!(-60)
        );
        assert_eq!(
            check("scale", 100.0, 0.0, -100.0, 0.0, false, json!(10)).await,
            json!(-10)
        );
    }

    /// drops msg if in drop mode and input outside range
    #[tokio::test]
    async fn drop_mode_drops_outside_values() {
        let mut h =
            range(json!({"action":"drop","minin":2,"maxin":8,"minout":20,"maxout":80})).await;
        h.send_json("r", json!({"payload": 1})).await;
        h.send_json("r", json!({"payload": 9})).await;
        h.send_json("r", json!({"payload": 5})).await;
        assert_eq!(h.recv_json("out").await["payload"], json!(50));
        assert!(h.nothing("out", Duration::from_millis(50)).await);
    }

    /// just passes on msg if payload not present
    #[tokio::test]
    async fn passes_messages_without_the_property() {
        let mut h =
            range(json!({"action":"scale","minin":0,"maxin":100,"minout":0,"maxout":10})).await;
        h.send_json("r", json!({"topic":"t"})).await;
        let m = h.recv_json("out").await;
        assert_eq!(m["topic"], json!("t"));
        assert!(m.get("payload").is_none());
    }

    /// reports if input is not a number
    #[tokio::test]
    async fn drops_values_that_are_not_numbers() {
        let mut h =
            range(json!({"action":"scale","minin":0,"maxin":100,"minout":0,"maxout":10})).await;
        h.send_json("r", json!({"payload":"NOT A NUMBER"})).await;
        h.send_json("r", json!({"payload":"50"})).await;
        assert_eq!(h.recv_json("out").await["payload"], json!(5));
        assert!(
            h.drain_events()
                .iter()
                .any(|e| format!("{e:?}").contains("Not a number: NOT A NUMBER"))
        );
    }

    #[tokio::test]
    async fn conformance_clamp_and_roll_on_a_sub_property() {
        let cases = [
            ("clamp", 15, 100),
            ("clamp", -5, 0),
            ("clamp", 5, 50),
            ("clamp", 10, 100),
            ("roll", 12, 20),
            ("roll", -3, 70),
            ("roll", 10, 0),
            ("roll", 25, 50),
        ];
        for (action, input, expected) in cases {
            let mut h = range(json!({"action":action,"minin":"0","maxin":"10","minout":"0","maxout":"100","round":false,"property":"payload.v"})).await;
            h.send_json("r", json!({"payload":{"v":input}})).await;
            assert_eq!(
                h.recv_json("out").await["payload"]["v"],
                json!(expected),
                "{action} {input}"
            );
        }
    }

    #[tokio::test]
    async fn bad_bounds_are_config_errors() {
        let h = range(json!({"action":"scale","minin":"x","maxin":"10","minout":"0","maxout":"1"}))
            .await;
        assert!(!h.engine.input("r", redoubt_core::Msg::new()).await);
    }
}
