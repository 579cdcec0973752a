//! TLS for the TCP nodes, through a tls-config node (its `tls` property),
//! as Node-RED's tcp nodes do with `tls.connect` and `tls.createServer`:
//! clients verify the server with the tls-config's CA and settings, servers
//! present its certificate and key. A connection is a [`Stream`], plain or
//! TLS alike.

use crate::network::tls_config::{self, TlsHandle};
use redoubt_core::node::{BuildCtx, ConfigError};
use std::sync::Arc;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;

/// Bytes both ways.
pub(crate) trait Duplex: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Duplex for T {}

/// A connected socket, plain or TLS.
pub(crate) type Stream = Box<dyn Duplex>;

/// The TLS side of a tcp node.
#[derive(Clone, Default)]
pub(crate) struct Tls(Option<Arc<TlsHandle>>);

impl Tls {
    /// Reads the `tls` property; a server needs a tls-config node with a
    /// certificate and key.
    pub(crate) fn from_config(cx: &BuildCtx, server: bool) -> Result<Tls, ConfigError> {
        let handle = tls_config::lookup(cx, "tls")?;
        if server && handle.as_ref().is_some_and(|h| h.server.is_none()) {
            return Err(ConfigError::field(
                "tls",
                "the tls-config node needs a certificate and a private key to accept connections",
            ));
        }
        Ok(Tls(handle))
    }

    /// Connects to `host:port`, with a TLS handshake when configured.
    pub(crate) async fn connect(&self, host: &str, port: u16) -> std::io::Result<Stream> {
        let tcp = TcpStream::connect((host, port)).await?;
        let _ = tcp.set_nodelay(true);
        let Some(h) = &self.0 else {
            return Ok(Box::new(tcp));
        };
        let name = h.server_name(host).map_err(std::io::Error::other)?;
        let tls = tokio_rustls::TlsConnector::from(h.client.clone())
            .connect(name, tcp)
            .await?;
        Ok(Box::new(tls))
    }

    /// Completes an accepted connection, with a TLS handshake when
    /// configured.
    pub(crate) async fn accept(&self, tcp: TcpStream) -> std::io::Result<Stream> {
        let Some(server) = self.0.as_ref().and_then(|h| h.server.clone()) else {
            return Ok(Box::new(tcp));
        };
        let tls = tokio_rustls::TlsAcceptor::from(server).accept(tcp).await?;
        Ok(Box::new(tls))
    }
}
