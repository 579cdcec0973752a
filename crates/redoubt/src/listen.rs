//! The listener: binds `uiHost:uiPort`, serves plain HTTP or, with the
//! `https` setting, HTTPS (plain HTTP on that port is redirected), applies
//! `requireHttps`/HSTS to the whole app, and runs the tasks that replace the
//! certificate without a restart ([`reload`]).

mod options;
mod reload;

pub(crate) use options::tls_material;

use crate::app::Startup;
use anyhow::{Context, Result};
use axum::Router;
use redoubt_http::tls::TlsConfigHolder;
use redoubt_http::{ServeError, apply_https_policy};
use std::sync::Arc;
use tokio::task::JoinHandle;

/// A running listener and its reload tasks.
pub(crate) struct Listener {
    stop: tokio::sync::oneshot::Sender<()>,
    server: JoinHandle<Result<(), ServeError>>,
    reloaders: Vec<JoinHandle<()>>,
}

/// `[v6]:port` or `v4:port`.
fn listen_addr(host: &str, port: u16) -> String {
    if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

/// Binds and starts serving `app` as the settings in `st` say.
pub(crate) async fn start(st: &Startup, app: Router) -> Result<Listener> {
    let s = &st.settings;
    let opts = options::listen_options(s)?;
    let tls = match &s.https {
        Some(https) => {
            let material = tls_material(https)?;
            let holder = TlsConfigHolder::new(material).context("cannot start HTTPS")?;
            tracing::info!("HTTPS certificate SHA-256 {}", holder.fingerprint());
            Some(Arc::new(holder))
        }
        None => None,
    };
    let host = s.ui_host.clone().unwrap_or_else(|| "127.0.0.1".into());
    let addr = listen_addr(&host, s.ui_port);
    let listener = tokio::net::TcpListener::bind(&addr)
        .await
        .with_context(|| format!("cannot listen on {addr}"))?;
    let bound = listener.local_addr()?;
    let app = apply_https_policy(app, opts.policy.clone(), tls.is_some());
    let (stop, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(redoubt_http::serve_with(
        listener,
        app,
        tls.clone(),
        async move {
            let _ = stop_rx.await;
        },
    ));
    let mut reloaders = Vec::new();
    if let Some(holder) = &tls {
        let source = reload::Source {
            settings_path: st.settings_path.clone(),
            defines: st.defines.clone(),
        };
        if let Some(every) = opts.watch_interval {
            let mut files = st.settings_files.clone();
            files.push(st.settings_path.clone());
            reloaders.push(reload::spawn_watch(
                holder.clone(),
                source.clone(),
                files,
                every,
            ));
        }
        if let Some(every) = opts.refresh_interval {
            reloaders.push(reload::spawn_refresh(holder.clone(), source, every));
        }
    }
    let scheme = if tls.is_some() { "https" } else { "http" };
    tracing::info!("Server now running at {scheme}://{bound}/");
    Ok(Listener {
        stop,
        server,
        reloaders,
    })
}

impl Listener {
    /// Stops accepting, waits up to 5 s for open connections to finish.
    pub(crate) async fn shutdown(self) {
        for r in &self.reloaders {
            r.abort();
        }
        let _ = self.stop.send(());
        match tokio::time::timeout(std::time::Duration::from_secs(5), self.server).await {
            Ok(Ok(Err(e))) => tracing::error!("{e}"),
            Ok(_) => {}
            Err(_) => tracing::warn!("HTTP connections still open after 5 s; exiting anyway."),
        }
    }
}
