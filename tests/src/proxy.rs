//! A TCP proxy on loopback that a test can cut and restore, to make a real database server
//! unreachable for one app without stopping the server everyone else uses. Cut, it closes its
//! listening socket (new connections are refused, as with a server that is down) and every
//! open connection.

use std::sync::Arc;

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Mutex;
use tokio::task::JoinHandle;

pub struct Proxy {
    pub port: u16,
    upstream: String,
    accept: Mutex<Option<JoinHandle<()>>>,
    conns: Arc<Mutex<Vec<JoinHandle<()>>>>,
}

impl Proxy {
    /// Listen on a free loopback port and forward to `upstream` (host:port).
    pub async fn start(upstream: String) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("proxy bind");
        let port = listener.local_addr().unwrap().port();
        let proxy = Proxy {
            port,
            upstream,
            accept: Mutex::new(None),
            conns: Arc::default(),
        };
        proxy.serve(listener).await;
        proxy
    }

    async fn serve(&self, listener: TcpListener) {
        let upstream = self.upstream.clone();
        let conns = self.conns.clone();
        let handle = tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                let upstream = upstream.clone();
                let conn = tokio::spawn(async move {
                    if let Ok(mut server) = TcpStream::connect(&upstream).await {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                    }
                });
                conns.lock().await.push(conn);
            }
        });
        *self.accept.lock().await = Some(handle);
    }

    /// Refuse new connections and cut every open one.
    pub async fn cut(&self) {
        if let Some(h) = self.accept.lock().await.take() {
            h.abort();
            let _ = h.await;
        }
        for h in self.conns.lock().await.drain(..) {
            h.abort();
        }
    }

    /// Listen again on the same port.
    pub async fn restore(&self) {
        let listener = TcpListener::bind(("127.0.0.1", self.port))
            .await
            .expect("proxy rebind");
        self.serve(listener).await;
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        if let Ok(mut a) = self.accept.try_lock()
            && let Some(h) = a.take()
        {
            h.abort();
        }
    }
}
