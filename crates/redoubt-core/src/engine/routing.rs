//! Scoped delivery of errors, status and completion to Catch, Status and
//! Complete nodes (Node-RED's `Flow.handleError/handleStatus/handleComplete`).

use crate::value::Str;
use std::collections::HashMap;

/// What a Catch or Status node listens to.
#[derive(Debug, Clone)]
pub(crate) enum Scope {
    All,
    Nodes(Vec<Str>),
    Group,
}

#[derive(Debug, Clone)]
pub(crate) struct Listener {
    pub(crate) slot: usize,
    pub(crate) scope: Scope,
    pub(crate) uncaught: bool,
    pub(crate) g: Option<Str>,
}

/// Per flow: its catch and status listeners and its place in the nesting.
#[derive(Debug, Default)]
pub(crate) struct FlowRoutes {
    pub(crate) catch: Vec<Listener>,
    pub(crate) status: Vec<Listener>,
    /// Whether the subflow has a status output (then status is not passed up).
    pub(crate) parent: Option<Str>,
    pub(crate) instance_slot: Option<usize>,
}

/// Routing tables for the whole deploy.
#[derive(Default)]
pub(crate) struct Routes {
    pub(crate) flows: HashMap<Str, FlowRoutes>,
    /// Complete nodes by the id of the node they watch.
    pub(crate) complete: HashMap<Str, Vec<usize>>,
    /// group -> parent group
    pub(crate) groups: HashMap<Str, Option<Str>>,
}

impl Routes {
    /// Candidates for an event reported by a node in group `g` with id `id`,
    /// sorted by group distance, as Node-RED orders them.
    pub(crate) fn candidates<'a>(
        &self,
        list: &'a [Listener],
        id: &str,
        g: Option<&Str>,
    ) -> Vec<&'a Listener> {
        let mut out: Vec<(usize, &Listener)> = Vec::new();
        for l in list {
            if l.g.is_some() && matches!(l.scope, Scope::Group) && g.is_none() {
                continue;
            }
            if let Scope::Nodes(ids) = &l.scope
                && !ids.iter().any(|x| &**x == id)
            {
                continue;
            }
            let mut distance = 0;
            if let Some(g) = g {
                let mut cur = Some(g.clone());
                while let Some(c) = cur.clone() {
                    if l.g.as_ref() == Some(&c) {
                        break;
                    }
                    distance += 1;
                    cur = self.groups.get(&c).cloned().flatten();
                }
                if cur.is_none() && l.g.is_some() && matches!(l.scope, Scope::Group) {
                    continue;
                }
            }
            out.push((distance, l));
        }
        out.sort_by_key(|(d, _)| *d);
        out.into_iter().map(|(_, l)| l).collect()
    }
}
