//! redoubt-auth: who may do what. The one place authorization is decided,
//! for the admin API, the editor's websocket and (through [`basic`]) the
//! http-in endpoints and static files.
//!
//! * [`config`]: `adminAuth` from settings.js, checked.
//! * [`scope`]: permissions and Node-RED's scope matching.
//! * [`authority`]: [`Authority`] logs users in, resolves bearer tokens to a
//!   [`Principal`] and revokes sessions.
//! * [`sessions`]: issued tokens, stored hashed.
//! * [`password`]: bcrypt (and legacy MD5 for Basic auth).
//! * [`throttle`]: growing delays per account and per address.
//! * [`basic`]: Basic auth for `httpNodeAuth` and `httpStaticAuth`.
//! * [`audit`]: the audit log.
//!
//! Settings values that are JavaScript functions are called through the
//! [`Hooks`] trait; the binary implements it with the embedded engine, so
//! this crate has no JavaScript in it.

pub mod audit;
pub mod authority;
pub mod basic;
pub mod config;
mod files;
pub mod password;
pub mod scope;
pub mod sessions;
pub mod throttle;

pub use audit::{AuditEvent, AuditLog};
pub use authority::{Authority, Grant, GrantError, PasswordGrant, Principal, Rejection};
pub use basic::{BasicAuth, BasicOutcome};
pub use config::{AdminAuthConfig, ConfigError, User};
pub use scope::Scope;
pub use sessions::{EndReason, Ended, Sessions, TokenHash};

use std::future::Future;
use std::pin::Pin;

/// A boxed future, for the object-safe [`Hooks`].
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Calls a function-valued setting (`adminAuth.users`, ...). The error is
/// a message safe to log: it never contains the arguments.
pub trait Hooks: Send + Sync {
    /// Calls the function at dotted `key` with `args`; resolves a Promise.
    fn call<'a>(
        &'a self,
        key: &'a str,
        args: Vec<serde_json::Value>,
    ) -> BoxFuture<'a, Result<serde_json::Value, String>>;
}
