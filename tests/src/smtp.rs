//! A real SMTP server on loopback for the e-mail tests: mailin's SMTP state machine behind a
//! plain TCP listener on 127.0.0.1, keeping every message it accepts in memory. The app talks to
//! it exactly as to any mail server (`VEREDA_SMTP_URL=smtp://127.0.0.1:<port>`).

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Write};
use std::net::{IpAddr, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use mailin::{Action, Handler, Response, SessionBuilder, response};

/// One message as the server received it.
#[derive(Debug, Clone)]
pub struct Received {
    pub from: String,
    pub to: Vec<String>,
    /// The raw message (headers and MIME body).
    pub data: Vec<u8>,
}

impl Received {
    pub fn parsed(&self) -> mail_parser::Message<'_> {
        mail_parser::MessageParser::default()
            .parse(&self.data)
            .expect("a parseable message")
    }

    pub fn subject(&self) -> String {
        self.parsed().subject().unwrap_or_default().to_string()
    }

    /// The plain-text part.
    pub fn text(&self) -> String {
        self.parsed()
            .body_text(0)
            .map(|b| b.to_string())
            .unwrap_or_default()
    }
}

#[derive(Default)]
struct Shared {
    received: Mutex<Vec<Received>>,
    /// Recipients answered 550, as a server does for a mailbox that does not exist.
    rejected: Mutex<BTreeSet<String>>,
    stopping: AtomicBool,
}

/// A running SMTP server; stops when dropped.
pub struct SmtpServer {
    addr: SocketAddr,
    shared: Arc<Shared>,
}

impl SmtpServer {
    pub fn start() -> SmtpServer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind SMTP listener");
        let addr = listener.local_addr().expect("SMTP address");
        let shared = Arc::new(Shared::default());
        let accepting = shared.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                if accepting.stopping.load(Ordering::SeqCst) {
                    break;
                }
                if let Ok(stream) = stream {
                    let shared = accepting.clone();
                    std::thread::spawn(move || serve(stream, shared));
                }
            }
        });
        SmtpServer { addr, shared }
    }

    /// The URL to give the app.
    pub fn url(&self) -> String {
        format!("smtp://{}", self.addr)
    }

    pub fn messages(&self) -> Vec<Received> {
        self.shared.received.lock().unwrap().clone()
    }

    /// The first message to `to` whose subject starts with `prefix`, once it has arrived
    /// (panics, listing the subjects received, after 90 s).
    pub async fn arrives(&self, to: &str, prefix: &str) -> Received {
        let found = crate::eventually(std::time::Duration::from_secs(90), || async {
            self.messages()
                .into_iter()
                .find(|m| m.to.iter().any(|t| t == to) && m.subject().starts_with(prefix))
        })
        .await;
        found.unwrap_or_else(|| {
            let subjects: Vec<String> = self.messages().iter().map(Received::subject).collect();
            panic!("no message {prefix:?} to {to}; got {subjects:?}")
        })
    }

    /// From now on, answer 550 to this recipient.
    pub fn reject(&self, address: &str) {
        self.shared
            .rejected
            .lock()
            .unwrap()
            .insert(address.to_lowercase());
    }
}

impl SmtpServer {
    /// Accept this recipient again (the mailbox was fixed).
    pub fn accept(&self, address: &str) {
        self.shared
            .rejected
            .lock()
            .unwrap()
            .remove(&address.to_lowercase());
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        self.shared.stopping.store(true, Ordering::SeqCst);
        // Wake the accept loop so it sees the flag.
        let _ = TcpStream::connect(self.addr);
    }
}

struct Connection {
    shared: Arc<Shared>,
    from: String,
    to: Vec<String>,
    data: Vec<u8>,
}

impl Handler for Connection {
    fn rcpt(&mut self, to: &str) -> Response {
        if self
            .shared
            .rejected
            .lock()
            .unwrap()
            .contains(&to.to_lowercase())
        {
            response::NO_MAILBOX
        } else {
            response::OK
        }
    }

    fn data_start(&mut self, _domain: &str, from: &str, _is8bit: bool, to: &[String]) -> Response {
        self.from = from.to_string();
        self.to = to.to_vec();
        self.data.clear();
        response::OK
    }

    fn data(&mut self, buf: &[u8]) -> std::io::Result<()> {
        self.data.extend_from_slice(buf);
        Ok(())
    }

    fn data_end(&mut self) -> Response {
        self.shared.received.lock().unwrap().push(Received {
            from: std::mem::take(&mut self.from),
            to: std::mem::take(&mut self.to),
            data: std::mem::take(&mut self.data),
        });
        response::OK
    }
}

fn serve(stream: TcpStream, shared: Arc<Shared>) {
    let peer = stream
        .peer_addr()
        .map(|a| a.ip())
        .unwrap_or(IpAddr::from([127, 0, 0, 1]));
    let Ok(mut writer) = stream.try_clone() else {
        return;
    };
    let handler = Connection {
        shared,
        from: String::new(),
        to: Vec::new(),
        data: Vec::new(),
    };
    let mut session = SessionBuilder::new("sink.vereda.test").build(peer, handler);
    if session.greeting().write_to(&mut writer).is_err() {
        return;
    }
    let mut reader = BufReader::new(stream);
    let mut line = Vec::new();
    loop {
        line.clear();
        match reader.read_until(b'\n', &mut line) {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
        let res = session.process(&line);
        match res.action {
            Action::Reply => {
                if res
                    .write_to(&mut writer)
                    .and_then(|_| writer.flush())
                    .is_err()
                {
                    return;
                }
            }
            Action::Close => {
                let _ = res.write_to(&mut writer).and_then(|_| writer.flush());
                return;
            }
            Action::NoReply => {}
            // STARTTLS is not offered, so a client never asks for it.
            Action::UpgradeTls => return,
        }
    }
}
