//! A misbehaving HTTP/1.1 server on raw tokio sockets: it parses just enough of each request (the
//! head and a `Content-Length` body) to decide, per request, how to misbehave. Loopback only;
//! dropping the server stops it and every connection it holds.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::{JoinHandle, JoinSet};

/// One request as received.
#[derive(Debug, Clone)]
pub(crate) struct Head {
    pub(crate) method: String,
    /// Path and query, as sent.
    pub(crate) target: String,
    /// Names lower-case.
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: Vec<u8>,
    /// The request line and header block exactly as received (without the blank line).
    pub(crate) raw_head: Vec<u8>,
}

impl Head {
    pub(crate) fn path(&self) -> &str {
        self.target.split('?').next().unwrap_or("")
    }

    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// A list request (what the runner sends first, to take stock of the project).
    pub(crate) fn is_list(&self) -> bool {
        self.method == "GET" && self.path().ends_with("/integrations")
    }
}

/// What to do with one request.
pub(crate) enum Action {
    /// Keep the connection open and never answer.
    Hang,
    /// Write `fast` at once, then `slow` one byte at a time with a pause between, then close.
    Trickle {
        fast: Vec<u8>,
        slow: Vec<u8>,
        every: Duration,
    },
    /// Write these bytes and close.
    Close(Vec<u8>),
    /// Abortive close (RST): linger 0, then drop.
    Reset,
    /// Write this head, then `0` bytes until the client goes away.
    Endless(Vec<u8>),
    /// Write this head (which must say `transfer-encoding: chunked`), then 64 KiB chunks of `0`
    /// bytes until the client goes away.
    EndlessChunked(Vec<u8>),
    /// A complete response (`Content-Length` set here); the connection stays open.
    Respond {
        status: u16,
        headers: Vec<(String, String)>,
        body: Vec<u8>,
    },
}

impl Action {
    pub(crate) fn json(status: u16, body: &serde_json::Value) -> Action {
        Action::Respond {
            status,
            headers: vec![("content-type".into(), "application/json".into())],
            body: body.to_string().into_bytes(),
        }
    }

    /// A valid, empty list page: what a conformant target answers to the runner's first
    /// request, so that the misbehaviour under test is met by the cases themselves.
    pub(crate) fn empty_list() -> Action {
        Action::json(
            200,
            &serde_json::json!({"links": [], "results": [], "totalCount": 0}),
        )
    }
}

pub(crate) type Behaviour = Arc<dyn Fn(&Head) -> Action + Send + Sync>;

pub(crate) struct RawServer {
    pub(crate) addr: SocketAddr,
    /// Every request received (complete heads only).
    pub(crate) seen: Arc<Mutex<Vec<Head>>>,
    task: JoinHandle<()>,
}

impl RawServer {
    pub(crate) async fn start(behaviour: impl Fn(&Head) -> Action + Send + Sync + 'static) -> Self {
        let behaviour: Behaviour = Arc::new(behaviour);
        let listener = TcpListener::bind(("127.0.0.1", 0)).await.expect("bind");
        let addr = listener.local_addr().expect("local addr");
        let seen: Arc<Mutex<Vec<Head>>> = Arc::default();
        let s = seen.clone();
        let task = tokio::spawn(async move {
            // Owned here: aborting this task drops the set, which aborts every connection.
            let mut conns = JoinSet::new();
            loop {
                tokio::select! {
                    accepted = listener.accept() => {
                        let Ok((stream, _)) = accepted else { continue };
                        conns.spawn(serve(stream, behaviour.clone(), s.clone()));
                    }
                    Some(_) = conns.join_next(), if !conns.is_empty() => {}
                }
            }
        });
        RawServer { addr, seen, task }
    }

    /// `http://127.0.0.1:PORT`
    pub(crate) fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub(crate) fn requests(&self) -> Vec<Head> {
        self.seen.lock().unwrap().clone()
    }
}

impl Drop for RawServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn serve(mut stream: TcpStream, behaviour: Behaviour, seen: Arc<Mutex<Vec<Head>>>) {
    let _ = stream.set_nodelay(true);
    let mut buf = Vec::new();
    loop {
        let Some(head) = read_request(&mut stream, &mut buf).await else {
            return;
        };
        seen.lock().unwrap().push(head.clone());
        match behaviour(&head) {
            Action::Hang => {
                // Hold the socket; the server's Drop (or the runtime's end) ends this.
                std::future::pending::<()>().await;
            }
            Action::Trickle { fast, slow, every } => {
                if stream.write_all(&fast).await.is_err() {
                    return;
                }
                for b in slow {
                    if stream.write_all(&[b]).await.is_err() {
                        return;
                    }
                    tokio::time::sleep(every).await;
                }
                return;
            }
            Action::Close(bytes) => {
                let _ = stream.write_all(&bytes).await;
                let _ = stream.shutdown().await;
                return;
            }
            Action::Reset => {
                let _ = stream.set_zero_linger();
                drop(stream);
                return;
            }
            Action::Endless(head) => {
                if stream.write_all(&head).await.is_err() {
                    return;
                }
                let zeros = vec![b'0'; 64 * 1024];
                while stream.write_all(&zeros).await.is_ok() {}
                return;
            }
            Action::EndlessChunked(head) => {
                if stream.write_all(&head).await.is_err() {
                    return;
                }
                let mut chunk = b"10000\r\n".to_vec();
                chunk.resize(chunk.len() + 0x10000, b'0');
                chunk.extend_from_slice(b"\r\n");
                while stream.write_all(&chunk).await.is_ok() {}
                return;
            }
            Action::Respond {
                status,
                headers,
                body,
            } => {
                let mut out = format!("HTTP/1.1 {status} {}\r\n", reason(status));
                for (k, v) in &headers {
                    out.push_str(&format!("{k}: {v}\r\n"));
                }
                out.push_str(&format!("content-length: {}\r\n\r\n", body.len()));
                let mut bytes = out.into_bytes();
                bytes.extend_from_slice(&body);
                if stream.write_all(&bytes).await.is_err() {
                    return;
                }
            }
        }
    }
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        204 => "No Content",
        302 => "Found",
        401 => "Unauthorized",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        _ => "Whatever",
    }
}

/// Reads one request (head and `Content-Length` body); `None` at EOF or on nonsense.
async fn read_request(stream: &mut TcpStream, buf: &mut Vec<u8>) -> Option<Head> {
    let end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i;
        }
        if buf.len() > 64 * 1024 {
            return None;
        }
        let mut chunk = [0u8; 8192];
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
        if !buf[0].is_ascii_uppercase() {
            // Not HTTP (a TLS ClientHello, say): answer as a plain HTTP server does.
            let _ = stream
                .write_all(
                    b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
                )
                .await;
            let _ = stream.shutdown().await;
            return None;
        }
    };
    let raw_head = buf[..end].to_vec();
    let text = String::from_utf8_lossy(&raw_head).into_owned();
    let mut lines = text.split("\r\n");
    let mut first = lines.next()?.split(' ');
    let method = first.next()?.to_owned();
    let target = first.next()?.to_owned();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let length: usize = headers
        .iter()
        .find(|(k, _)| k == "content-length")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    buf.drain(..end + 4);
    while buf.len() < length {
        let mut chunk = vec![0u8; (length - buf.len()).min(256 * 1024)];
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    let body: Vec<u8> = buf.drain(..length).collect();
    Some(Head {
        method,
        target,
        headers,
        body,
        raw_head,
    })
}
