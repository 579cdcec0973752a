//! The "function" palette category: function, switch, change, range,
//! template, delay, trigger, exec, rbe.

use redoubt_core::node::Registry;

// Each node file registers its type below; keep one line per type.
// -- pure nodes: change, switch, range, template (owner: pure-nodes work)
mod change;
mod range;
mod switch;
mod template;
// -- function (owner: function-node work)
#[allow(clippy::module_inception)]
mod function;
// -- timing: delay, trigger, rbe (owner: sequence/timing work)
mod delay;
mod rbe;
mod trigger;
// -- exec (owner: nodes-io work)
mod exec;

pub(crate) fn register(reg: &mut Registry) {
    let _ = &reg;
    // -- pure nodes
    reg.register(change::ChangeType);
    reg.register(switch::SwitchType);
    reg.register(range::RangeType);
    reg.register(template::TemplateType);
    // -- function
    reg.register(function::FunctionType);
    // -- timing
    reg.register(delay::DelayType);
    reg.register(trigger::TriggerType);
    reg.register(rbe::RbeType);
    // -- exec
    reg.register(exec::ExecType);
}
