//! The accept loop: one current-thread runtime on the stand-in's own thread, HTTP/1.1 over
//! hyper. Ours rather than `axum::serve` because an outage must close the listener (a client
//! then sees "connection refused") and a crash window must drop one connection without an
//! answer.

use crate::http::{router, ConnKill};
use crate::Shared;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use std::net::SocketAddr;
use std::sync::mpsc::Sender;
use std::sync::Arc;
use tokio::net::{TcpListener, TcpSocket};
use tokio::sync::{watch, Notify};
use tower::ServiceExt as _;

fn bind(addr: SocketAddr) -> std::io::Result<TcpListener> {
    let socket = if addr.is_ipv4() {
        TcpSocket::new_v4()?
    } else {
        TcpSocket::new_v6()?
    };
    // The same port again after an outage, with the old connections in TIME_WAIT.
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(1024)
}

pub(crate) fn run(
    listen: SocketAddr,
    shared: Arc<Shared>,
    mut stop: watch::Receiver<bool>,
    ready: Sender<anyhow::Result<SocketAddr>>,
) {
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            let _ = ready.send(Err(e.into()));
            return;
        }
    };
    runtime.block_on(async move {
        let listener = match bind(listen).and_then(|l| Ok((l.local_addr()?, l))) {
            Ok((addr, l)) => {
                let _ = ready.send(Ok(addr));
                (addr, l)
            }
            Err(e) => {
                let _ = ready.send(Err(anyhow::anyhow!("cannot listen on {listen}: {e}")));
                return;
            }
        };
        let (addr, listener) = listener;
        let mut listener = Some(listener);
        shared.set_listening(true);
        let app = router(shared.clone());
        let mut refusing = shared.refusing.subscribe();
        loop {
            match &listener {
                Some(l) => tokio::select! {
                    accepted = l.accept() => {
                        if let Ok((stream, _)) = accepted {
                            serve_connection(stream, app.clone());
                        }
                    }
                    _ = refusing.wait_for(|r| *r) => {
                        listener = None;
                        shared.set_listening(false);
                    }
                    _ = stop.wait_for(|s| *s) => return,
                },
                None => tokio::select! {
                    _ = refusing.wait_for(|r| !*r) => {
                        match bind(addr) {
                            Ok(l) => {
                                listener = Some(l);
                                shared.set_listening(true);
                            }
                            Err(e) => {
                                tracing::warn!(%addr, error = %e, "the stand-in cannot listen again yet");
                                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                            }
                        }
                    }
                    _ = stop.wait_for(|s| *s) => return,
                },
            }
        }
    });
    // Dropping the runtime drops every connection still open (a hung crash window too).
}

fn serve_connection(stream: tokio::net::TcpStream, app: axum::Router) {
    let _ = stream.set_nodelay(true);
    let kill = Arc::new(Notify::new());
    let conn_kill = ConnKill(kill.clone());
    let service = hyper::service::service_fn(move |mut req: hyper::Request<Incoming>| {
        req.extensions_mut().insert(conn_kill.clone());
        app.clone().oneshot(req.map(axum::body::Body::new))
    });
    tokio::spawn(async move {
        let conn = hyper::server::conn::http1::Builder::new()
            .serve_connection(TokioIo::new(stream), service);
        tokio::select! {
            _ = conn => {}
            // Dropping the connection closes the socket: no answer is sent.
            _ = kill.notified() => {}
        }
    });
}
