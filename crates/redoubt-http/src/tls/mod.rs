//! TLS for the one listener: the rustls server configuration built from
//! PEM text ([`config`]), the holder new connections take it from so it can
//! be replaced while running ([`reload`]), the file stamps that tell when
//! certificate files changed on disk ([`stamps`]), and the first-byte sniff
//! that tells a TLS handshake from plain HTTP on the same port ([`sniff`]).

mod config;
mod reload;
pub(crate) mod sniff;
mod stamps;

pub use config::{TlsError, TlsMaterial, fingerprint_sha256, server_config};
pub use reload::TlsConfigHolder;
pub use stamps::FileStamps;

#[cfg(test)]
mod tests;
