//! The "common" palette category: inject, debug, complete, catch, status,
//! link in/out/call, comment, junction, unknown.

mod catch;
mod comment;
mod debug;
mod inject;
mod link;

use redoubt_core::node::Registry;

pub(crate) fn register(reg: &mut Registry) {
    reg.register(inject::InjectType);
    reg.register(debug::DebugType);
    reg.register(catch::PassType("complete"));
    reg.register(catch::PassType("catch"));
    reg.register(catch::PassType("status"));
    reg.register(link::LinkInType);
    reg.register(link::LinkOutType);
    reg.register(link::LinkCallType);
    reg.register(comment::InertType("comment"));
    reg.register(comment::InertType("unknown"));
    reg.register(comment::InertType("global-config"));
    reg.register(catch::PassType("junction"));
}
