//! A reverse proxy in front of the embedded reference server: every request is shown to a hook
//! that answers it itself, delays it, or lets it through unchanged. Loopback only; dropping the
//! proxy stops it.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::Response;
use tokio::task::JoinHandle;

/// What the hook sees of a request.
#[derive(Debug, Clone)]
pub(crate) struct Seen {
    pub(crate) method: String,
    pub(crate) path: String,
    /// Answered by the hook rather than by the server.
    pub(crate) intercepted: bool,
    /// The request's headers as received, names lower-case.
    pub(crate) headers: Vec<(String, String)>,
}

impl Seen {
    /// Every value of header `name`.
    pub(crate) fn header(&self, name: &str) -> Vec<&str> {
        self.headers
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }
}

pub(crate) enum Hook {
    Forward,
    /// Wait, then forward.
    Delay(Duration),
    Reply {
        status: u16,
        headers: Vec<(&'static str, String)>,
        body: String,
    },
}

impl Hook {
    pub(crate) fn status(status: u16) -> Hook {
        Hook::Reply {
            status,
            headers: Vec::new(),
            body: String::new(),
        }
    }
}

type HookFn = Arc<dyn Fn(&str, &str) -> Hook + Send + Sync>;
/// Rewrites a forwarded answer's body (given its `Content-Type`); `None` keeps it.
type RewriteFn = Arc<dyn Fn(&str, &[u8]) -> Option<Vec<u8>> + Send + Sync>;

struct Inner {
    upstream: String,
    client: reqwest::Client,
    hook: HookFn,
    rewrite: Option<RewriteFn>,
    log: Mutex<Vec<Seen>>,
}

pub(crate) struct Proxy {
    pub(crate) url: String,
    inner: Arc<Inner>,
    task: JoinHandle<()>,
}

impl Proxy {
    /// `hook(method, path)` decides per request.
    pub(crate) async fn start(
        upstream: &str,
        hook: impl Fn(&str, &str) -> Hook + Send + Sync + 'static,
    ) -> Proxy {
        Proxy::with(upstream, Arc::new(hook), None).await
    }

    /// Forwards everything and rewrites each answer's body with `rewrite(content_type, body)`.
    pub(crate) async fn rewriting(
        upstream: &str,
        rewrite: impl Fn(&str, &[u8]) -> Option<Vec<u8>> + Send + Sync + 'static,
    ) -> Proxy {
        Proxy::with(
            upstream,
            Arc::new(|_: &str, _: &str| Hook::Forward),
            Some(Arc::new(rewrite)),
        )
        .await
    }

    async fn with(upstream: &str, hook: HookFn, rewrite: Option<RewriteFn>) -> Proxy {
        let inner = Arc::new(Inner {
            upstream: upstream.trim_end_matches('/').to_owned(),
            client: reqwest::Client::builder()
                .no_proxy()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("client"),
            hook,
            rewrite,
            log: Mutex::new(Vec::new()),
        });
        let app = axum::Router::new()
            .fallback(handle)
            .with_state(inner.clone());
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
            .await
            .expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Proxy { url, inner, task }
    }

    pub(crate) fn log(&self) -> Vec<Seen> {
        self.inner.log.lock().unwrap().clone()
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn handle(State(p): State<Arc<Inner>>, req: Request) -> Response {
    let method = req.method().as_str().to_owned();
    let path = req.uri().path().to_owned();
    let headers: Vec<(String, String)> = req
        .headers()
        .iter()
        .map(|(k, v)| {
            (
                k.as_str().to_owned(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    let record = |intercepted: bool| {
        p.log.lock().unwrap().push(Seen {
            method: method.clone(),
            path: path.clone(),
            intercepted,
            headers: headers.clone(),
        });
    };
    match (p.hook)(&method, &path) {
        Hook::Forward => {}
        Hook::Delay(d) => tokio::time::sleep(d).await,
        Hook::Reply {
            status,
            headers,
            body,
        } => {
            record(true);
            let mut r = Response::new(Body::from(body));
            *r.status_mut() = StatusCode::from_u16(status).expect("status");
            for (k, v) in headers {
                r.headers_mut()
                    .insert(k, HeaderValue::from_str(&v).expect("header"));
            }
            return r;
        }
    }
    let uri = req
        .uri()
        .path_and_query()
        .map(|pq| pq.as_str().to_owned())
        .unwrap_or_default();
    let mut rb = p.client.request(
        reqwest::Method::from_bytes(method.as_bytes()).expect("method"),
        format!("{}{uri}", p.upstream),
    );
    for (k, v) in req.headers() {
        if !matches!(
            k.as_str(),
            "host" | "content-length" | "connection" | "transfer-encoding"
        ) {
            rb = rb.header(k.as_str(), v.as_bytes());
        }
    }
    let body = axum::body::to_bytes(req.into_body(), 8 * 1024 * 1024)
        .await
        .unwrap_or_default();
    let upstream = match rb.body(body).send().await {
        Ok(r) => r,
        Err(e) => {
            record(true);
            let mut r = Response::new(Body::from(format!("proxy: {e}")));
            *r.status_mut() = StatusCode::BAD_GATEWAY;
            return r;
        }
    };
    let status = upstream.status().as_u16();
    record(false);
    let headers = upstream.headers().clone();
    let mut bytes = upstream.bytes().await.unwrap_or_default();
    if let Some(rewrite) = &p.rewrite {
        let ct = headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        if let Some(new) = rewrite(ct, &bytes) {
            bytes = new.into();
        }
    }
    let mut r = Response::new(Body::from(bytes));
    *r.status_mut() = StatusCode::from_u16(status).expect("status");
    for (k, v) in &headers {
        if !matches!(
            k.as_str(),
            "content-length" | "connection" | "transfer-encoding"
        ) {
            r.headers_mut().append(
                HeaderName::from_bytes(k.as_str().as_bytes()).expect("name"),
                HeaderValue::from_bytes(v.as_bytes()).expect("value"),
            );
        }
    }
    r
}
