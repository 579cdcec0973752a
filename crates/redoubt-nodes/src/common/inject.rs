//! inject (`20-inject.js`): builds a message from its properties when its
//! button is pressed, once after a delay at start, every `repeat` seconds,
//! or on a cron schedule (`crontab`, also used for "at a time" schedules).
//! Schedules use local time, like cronosjs.

use croner::Cron;
use croner::parser::{CronParser, Seconds};
use redoubt_core::Msg;
use redoubt_core::node::{
    BuildCtx, ConfigError, Node, NodeConfig, NodeCtx, NodeError, NodeEvent, NodeType,
};
use redoubt_core::typed::TypedValue;
use serde_json::Value as Json;
use std::time::Duration;

pub(crate) struct InjectType;

struct Prop {
    path: String,
    value: TypedValue,
}

struct Inject {
    props: Vec<Prop>,
    repeat: Option<Duration>,
    cron: Option<Cron>,
    once: Option<Duration>,
}

const ONCE: u64 = 1;
const TICK: u64 = 2;

fn prop_list(cfg: &NodeConfig) -> Vec<(String, String, String)> {
    let legacy_payload = (cfg.str("payload"), cfg.str("payloadType"));
    match cfg.get("props") {
        Some(Json::Array(items)) => items
            .iter()
            .map(|p| {
                let path = p.get("p").and_then(Json::as_str).unwrap_or("").to_string();
                let has_v = p.get("v").is_some();
                let vt = p
                    .get("vt")
                    .and_then(Json::as_str)
                    .unwrap_or("str")
                    .to_string();
                let v = match p.get("v") {
                    Some(Json::String(s)) => s.clone(),
                    Some(Json::Null) | None => String::new(),
                    Some(other) => other.to_string(),
                };
                if path == "payload" && !has_v {
                    (path, legacy_payload.0.clone(), non_empty(&legacy_payload.1))
                } else if path == "topic" && vt == "str" && !has_v {
                    (path, cfg.str("topic"), vt)
                } else {
                    (path, v, vt)
                }
            })
            .collect(),
        _ => vec![
            (
                "payload".into(),
                legacy_payload.0,
                non_empty(&legacy_payload.1),
            ),
            ("topic".into(), cfg.str("topic"), "str".into()),
        ],
    }
}

fn non_empty(t: &str) -> String {
    if t.is_empty() {
        "str".into()
    } else {
        t.to_string()
    }
}

impl NodeType for InjectType {
    fn type_name(&self) -> &'static str {
        "inject"
    }

    fn build(&self, cfg: &NodeConfig, _cx: &BuildCtx) -> Result<Box<dyn Node>, ConfigError> {
        let mut props = Vec::new();
        for (i, (path, v, vt)) in prop_list(cfg).into_iter().enumerate() {
            if path.is_empty() {
                continue;
            }
            // An empty JSONata expression sets nothing, as in Node-RED.
            if vt == "jsonata" && v.is_empty() {
                continue;
            }
            let value = TypedValue::compile(&vt, &v, &format!("props[{i}].v"))?;
            props.push(Prop { path, value });
        }
        let repeat = match cfg.num("repeat")? {
            Some(r) if r > 2_147_483.0 => {
                return Err(ConfigError::field(
                    "repeat",
                    format!("interval too large: {r} seconds (max 2147483)"),
                ));
            }
            Some(r) if r > 0.0 => Some(Duration::from_secs_f64(r)),
            _ => None,
        };
        let crontab = cfg.str("crontab");
        let cron = if repeat.is_none() && !crontab.trim().is_empty() {
            let parser = CronParser::builder().seconds(Seconds::Optional).build();
            Some(parser.parse(&crontab).map_err(|e| {
                ConfigError::field("crontab", format!("invalid schedule {crontab:?}: {e}"))
            })?)
        } else {
            None
        };
        let once = if cfg.bool("once") {
            let d = cfg.num("onceDelay")?.filter(|d| *d != 0.0).unwrap_or(0.1);
            Some(Duration::from_secs_f64(d.max(0.0)))
        } else {
            None
        };
        Ok(Box::new(Inject {
            props,
            repeat,
            cron,
            once,
        }))
    }
}

impl Inject {
    fn setup_repeat(&self, cx: &mut NodeCtx<'_>) {
        if let Some(r) = self.repeat {
            cx.schedule_paced(r, TICK);
        } else if let Some(c) = &self.cron {
            let now = chrono::Local::now();
            match c.find_next_occurrence(&now, false) {
                Ok(next) => {
                    let wait = (next - now).to_std().unwrap_or(Duration::from_millis(0));
                    cx.schedule_paced(wait, TICK);
                }
                Err(e) => cx.warn(&format!("No next time for schedule: {e}")),
            }
        }
    }

    /// Properties sent with the editor's inject button (`__user_inject_props__`).
    fn user_props(msg: &Msg) -> Result<Option<Vec<Prop>>, NodeError> {
        let Some(v) = msg.remove("__user_inject_props__") else {
            return Ok(None);
        };
        let redoubt_core::Value::Array(items) = v else {
            return Ok(None);
        };
        let mut props = Vec::new();
        for (i, item) in items.to_vec().iter().enumerate() {
            let Some(o) = item.as_object() else { continue };
            let path = o.get("p").map(|v| v.to_js_string()).unwrap_or_default();
            if path.is_empty() {
                continue;
            }
            let v = o
                .get("v")
                .filter(|v| !v.is_nullish())
                .map(|v| v.to_js_string())
                .unwrap_or_default();
            let vt = o
                .get("vt")
                .filter(|v| !v.is_nullish())
                .map(|v| v.to_js_string())
                .unwrap_or_else(|| "str".into());
            if vt == "jsonata" && v.is_empty() {
                continue;
            }
            let value = TypedValue::compile(&vt, &v, &format!("__user_inject_props__[{i}]"))
                .map_err(|e| NodeError::new(e.message))?;
            props.push(Prop { path, value });
        }
        Ok(Some(props))
    }

    fn fire(&self, msg: Msg, cx: &mut NodeCtx<'_>) -> Result<(), NodeError> {
        let mut errors = Vec::new();
        let info = cx.info().clone();
        let ctx = cx.context();
        let user = Self::user_props(&msg)?;
        for p in user.as_deref().unwrap_or(&self.props) {
            match p.value.evaluate(Some(&msg), &info, &ctx) {
                Ok(v) => {
                    if let Err(e) = msg.set_path(&p.path, v) {
                        errors.push(e.to_string());
                    }
                }
                Err(e) => errors.push(e.message),
            }
        }
        if !errors.is_empty() {
            return Err(NodeError::new(errors.join("; ")));
        }
        cx.send(0, msg);
        Ok(())
    }
}

impl Node for Inject {
    fn start(&mut self, cx: &mut NodeCtx<'_>) -> Result<(), NodeError> {
        match self.once {
            Some(d) => {
                cx.schedule(d, ONCE);
            }
            None => self.setup_repeat(cx),
        }
        Ok(())
    }

    fn on_input(&mut self, msg: Msg, cx: &mut NodeCtx<'_>) -> Result<(), NodeError> {
        self.fire(msg, cx)
    }

    fn on_event(&mut self, ev: NodeEvent, cx: &mut NodeCtx<'_>) -> Result<(), NodeError> {
        if let NodeEvent::Timer(t) = ev {
            if t == ONCE || t == TICK {
                self.setup_repeat(cx);
            }
            if let Err(e) = self.fire(Msg::new(), cx) {
                cx.error(e, None);
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use crate::testing::Harness;
    use serde_json::json;
    use std::time::Duration;

    /// Not in Node-RED: a repeat tick waits while the engine's backlog is
    /// full (flow control) and is delivered once there is room, without
    /// catching up the ticks it missed.
    #[tokio::test(start_paused = true)]
    async fn repeat_waits_while_the_backlog_is_full() {
        let mut h = Harness::start(json!([
            {"id":"i","type":"inject","repeat":"0.05","props":[{"p":"payload","v":"tick","vt":"str"}],
             "wires":[["h"]]},
            {"id":"h","type":"helper"}
        ]))
        .await;
        let full = h.fill_backlog();
        assert!(
            h.nothing("h", Duration::from_millis(500)).await,
            "injected while the backlog was full"
        );
        drop(full);
        assert_eq!(h.recv_json("h").await["payload"], json!("tick"));
        for _ in 0..2 {
            assert!(
                h.recv_within("h", Duration::from_millis(120))
                    .await
                    .is_some(),
                "the repeat goes on at its interval"
            );
        }
        assert!(
            h.recv_within("h", Duration::from_millis(20))
                .await
                .is_none(),
            "no catch-up burst of the ticks missed while waiting"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn once_fires_after_its_delay_with_typed_props() {
        let mut h = Harness::start(json!([
            {"id":"i","type":"inject","once":true,"onceDelay":0.5,"repeat":"",
             "props":[{"p":"payload","v":"[1,2]","vt":"json"},{"p":"topic","v":"t","vt":"str"},{"p":"n","v":"5","vt":"num"}],
             "wires":[["h"]]},
            {"id":"h","type":"helper"}
        ]))
        .await;
        let m = h.recv_json("h").await;
        assert_eq!(m["payload"], json!([1, 2]));
        assert_eq!(m["topic"], json!("t"));
        assert_eq!(m["n"], json!(5));
        assert!(m["_msgid"].is_string());
    }

    #[tokio::test(start_paused = true)]
    async fn repeat_fires_every_interval() {
        let mut h = Harness::start(json!([
            {"id":"i","type":"inject","repeat":"2","payload":"x","payloadType":"str","topic":"","wires":[["h"]]},
            {"id":"h","type":"helper"}
        ]))
        .await;
        assert!(h.nothing("h", Duration::from_millis(1900)).await);
        assert_eq!(h.recv_json("h").await["payload"], json!("x"));
        assert_eq!(h.recv_json("h").await["payload"], json!("x"));
    }

    #[tokio::test(start_paused = true)]
    async fn button_props_replace_the_configured_ones() {
        let mut h = Harness::start(json!([
            {"id":"i","type":"inject","props":[{"p":"payload","v":"cfg","vt":"str"}],"wires":[["h"]]},
            {"id":"h","type":"helper"}
        ]))
        .await;
        h.send_json(
            "i",
            json!({"__user_inject_props__": [{"p":"payload","v":"7","vt":"num"}]}),
        )
        .await;
        let m = h.recv_json("h").await;
        assert_eq!(m["payload"], json!(7));
        assert!(m.get("__user_inject_props__").is_none());
    }

    #[tokio::test(start_paused = true)]
    async fn bad_crontab_is_a_config_error() {
        let h = Harness::start(json!([
            {"id":"i","type":"inject","crontab":"not a cron","wires":[[]]}
        ]))
        .await;
        assert!(!h.engine.input("i", redoubt_core::Msg::new()).await);
    }
}
