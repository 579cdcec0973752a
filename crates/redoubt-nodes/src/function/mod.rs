//! The "function" palette category: function, switch, change, range,
//! template, delay, trigger, exec, rbe.

use redoubt_core::node::Registry;

// Each node file registers its type below; keep one line per type.
// -- pure nodes: change, switch, range, template (owner: pure-nodes work)
mod change;
mod template;
// -- function (owner: function-node work)
// -- timing: delay, trigger, rbe (owner: sequence/timing work)

pub(crate) fn register(reg: &mut Registry) {
    let _ = &reg;
    // -- pure nodes
    reg.register(change::ChangeType);
    reg.register(template::TemplateType);
    // -- function
    // -- timing
}
