//! debug (`21-debug.js`): shows the whole message or one property in the
//! editor's debug sidebar (published as a runtime event, which the admin
//! API encodes for `/comms`), on the console, and/or as the node's status.

use redoubt_core::Msg;
use redoubt_core::engine::RuntimeEvent;
use redoubt_core::expr::jsonata::{JsonataEnv, JsonataExpr};
use redoubt_core::node::{
    BuildCtx, ConfigError, Node, NodeConfig, NodeCtx, NodeError, NodeEvent, NodeType, Status,
};
use redoubt_core::propex;
use redoubt_core::value::{Object, Value};

pub(crate) struct DebugType;

enum Target {
    Full,
    Prop(String),
    Jsonata(JsonataExpr),
}

enum StatusSrc {
    None,
    Auto,
    Prop(String),
    Jsonata(JsonataExpr),
}

struct Debug {
    active: bool,
    sidebar: bool,
    console: bool,
    target: Target,
    status: StatusSrc,
    label: String,
}

impl NodeType for DebugType {
    fn type_name(&self) -> &'static str {
        "debug"
    }

    fn build(&self, cfg: &NodeConfig, _cx: &BuildCtx) -> Result<Box<dyn Node>, ConfigError> {
        let complete = cfg.str("complete");
        let target_type = cfg.str("targetType");
        let target = if complete == "true" || target_type == "full" {
            Target::Full
        } else if target_type == "jsonata" {
            Target::Jsonata(JsonataExpr::compile(&complete).map_err(|e| {
                ConfigError::field("complete", format!("invalid JSONata {complete:?}: {e}"))
            })?)
        } else {
            let p = if complete.is_empty() || complete == "false" {
                "payload".to_string()
            } else {
                complete.clone()
            };
            let p = propex::strip_msg(&p).to_string();
            propex::parse(&p).map_err(|e| ConfigError::field("complete", e.to_string()))?;
            Target::Prop(p)
        };
        let status = if !cfg.bool("tostatus") {
            StatusSrc::None
        } else {
            match cfg.str("statusType").as_str() {
                "msg" => StatusSrc::Prop(propex::strip_msg(&cfg.str("statusVal")).to_string()),
                "jsonata" => {
                    let e = cfg.str("statusVal");
                    StatusSrc::Jsonata(JsonataExpr::compile(&e).map_err(|x| {
                        ConfigError::field("statusVal", format!("invalid JSONata {e:?}: {x}"))
                    })?)
                }
                _ => StatusSrc::Auto,
            }
        };
        let active = cfg
            .get("active")
            .map(|_| cfg.bool("active"))
            .unwrap_or(true);
        Ok(Box::new(Debug {
            active,
            sidebar: cfg
                .get("tosidebar")
                .map(|_| cfg.bool("tosidebar"))
                .unwrap_or(true),
            console: cfg.bool("console"),
            target,
            status,
            label: cfg.name.to_string(),
        }))
    }
}

fn summary(v: &Value) -> String {
    let s = match v {
        Value::String(s) => s.to_string(),
        Value::Object(_) | Value::Array(_) => {
            redoubt_core::value::to_json(v).unwrap_or_else(|_| "[circular]".into())
        }
        Value::Buffer(b) => format!("buffer[{}]", b.len()),
        other => other.to_js_string(),
    };
    if s.chars().count() > 32 {
        format!("{}...", s.chars().take(32).collect::<String>())
    } else {
        s
    }
}

impl Node for Debug {
    /// The admin API's `POST /debug/:id/enable|disable` arrives as a
    /// `Value::Bool` event.
    fn on_event(&mut self, ev: NodeEvent, _cx: &mut NodeCtx<'_>) -> Result<(), NodeError> {
        if let NodeEvent::Custom(b) = ev
            && let Ok(v) = b.downcast::<Value>()
            && let Value::Bool(active) = *v
        {
            self.active = active;
        }
        Ok(())
    }

    fn on_input(&mut self, msg: Msg, cx: &mut NodeCtx<'_>) -> Result<(), NodeError> {
        let env = JsonataEnv::for_node(cx.info(), cx.context());
        let (value, property) = match &self.target {
            Target::Full => (msg.to_value(), "msg".to_string()),
            Target::Prop(p) => (msg.get_path(p)?.unwrap_or_default(), p.clone()),
            Target::Jsonata(e) => (
                e.eval_msg(Some(&msg), &env)
                    .map_err(|e| NodeError::new(e.message))?,
                e.source().to_string(),
            ),
        };
        match &self.status {
            StatusSrc::None => {}
            StatusSrc::Auto => cx.status(Status::new("grey", "dot", summary(&value))),
            StatusSrc::Prop(p) => cx.status(Status::new(
                "grey",
                "dot",
                summary(&msg.get_path(p)?.unwrap_or_default()),
            )),
            StatusSrc::Jsonata(e) => {
                let v = e
                    .eval_msg(Some(&msg), &env)
                    .map_err(|e| NodeError::new(e.message))?;
                cx.status(Status::new("grey", "dot", summary(&v)));
            }
        }
        if !self.active {
            return Ok(());
        }
        if self.console {
            let text = match &value {
                Value::String(s) => s.to_string(),
                v => redoubt_core::value::to_json(v).unwrap_or_else(|_| v.to_js_string()),
            };
            cx.log(&text);
        }
        if self.sidebar {
            let o = Object::new();
            o.insert("id", Value::str(cx.id()));
            o.insert("z", Value::str(cx.flow_id()));
            if let Some(a) = &cx.info().alias {
                o.insert("_alias", Value::String(a.clone()));
            }
            o.insert("path", Value::str(&cx.info().flow.path));
            o.insert("name", Value::str(&self.label));
            if let Some(t) = msg.get("topic") {
                o.insert("topic", t);
            }
            o.insert("property", Value::str(&property));
            o.insert("msg", value);
            cx.publish(RuntimeEvent::Debug(Value::Object(o)));
        }
        Ok(())
    }
}
