//! TLS for MQTT: rumqttc (built without TLS) connects to a Unix socket in a
//! private directory (mode 0700, removed on drop); each connection accepted
//! there is carried to the broker over TCP + TLS with the tls-config node's
//! rustls configuration. Only this process's user can reach the socket.

use rustls::ClientConfig;
use rustls_pki_types::ServerName;
use std::path::PathBuf;
use std::sync::Arc;
use tokio::net::{TcpStream, UnixListener};

/// A running bridge; dropping it stops it and removes its socket.
pub(crate) struct Bridge {
    dir: PathBuf,
    pub(crate) socket: PathBuf,
    task: tokio::task::AbortHandle,
}

impl Drop for Bridge {
    fn drop(&mut self) {
        self.task.abort();
        let _ = std::fs::remove_file(&self.socket);
        let _ = std::fs::remove_dir(&self.dir);
    }
}

/// Where to bridge to.
pub(crate) struct Target {
    pub(crate) host: String,
    pub(crate) port: u16,
    pub(crate) name: ServerName<'static>,
    pub(crate) config: Arc<ClientConfig>,
}

/// Starts a bridge to `target`; `log` receives connection failures.
pub(crate) fn start(
    target: Target,
    log: impl Fn(String) + Send + Sync + 'static,
) -> std::io::Result<Bridge> {
    use std::os::unix::fs::DirBuilderExt;
    let dir = std::env::temp_dir().join(format!("redoubt-mqtt-{:016x}", rand::random::<u64>()));
    std::fs::DirBuilder::new().mode(0o700).create(&dir)?;
    let socket = dir.join("s");
    let listener = match UnixListener::bind(&socket) {
        Ok(l) => l,
        Err(e) => {
            let _ = std::fs::remove_dir(&dir);
            return Err(e);
        }
    };
    let target = Arc::new(target);
    let log = Arc::new(log);
    let task = tokio::spawn(async move {
        while let Ok((mut local, _)) = listener.accept().await {
            let target = target.clone();
            let log = log.clone();
            tokio::spawn(async move {
                let mut remote = match connect(&target).await {
                    Ok(r) => r,
                    Err(e) => {
                        log(e);
                        return;
                    }
                };
                let _ = tokio::io::copy_bidirectional(&mut local, &mut remote).await;
            });
        }
    })
    .abort_handle();
    Ok(Bridge { dir, socket, task })
}

async fn connect(t: &Target) -> Result<tokio_rustls::client::TlsStream<TcpStream>, String> {
    let tcp = TcpStream::connect((t.host.as_str(), t.port))
        .await
        .map_err(|e| format!("cannot connect to {}:{}: {e}", t.host, t.port))?;
    let _ = tcp.set_nodelay(true);
    tokio_rustls::TlsConnector::from(t.config.clone())
        .connect(t.name.clone(), tcp)
        .await
        .map_err(|e| format!("TLS handshake with {}:{} failed: {e}", t.host, t.port))
}
